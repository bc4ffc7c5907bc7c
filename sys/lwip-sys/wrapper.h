/* Umbrella header of lwip-sys: lwIP 2.1.3 sockets, netdb and netifapi under the SDK's options. */
#include <errno.h>
#include "lwip/sockets.h"
#include "lwip/netdb.h"
#include "lwip/netifapi.h"

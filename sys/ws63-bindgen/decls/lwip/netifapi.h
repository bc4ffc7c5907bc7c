/*
 * The thread-safe netif API of lwIP, as the WS63 SDK builds it. `netifapi_netif_find` is a
 * macro for `netifapi_netif_find_by_name`, which is the symbol that links.
 */
#ifndef WS63_DECLS_LWIP_NETIFAPI_H
#define WS63_DECLS_LWIP_NETIFAPI_H

#include <stdint.h>
#include "lwip/err.h"

typedef uint32_t u32_t;

struct ip4_addr {
    u32_t addr;
};
typedef struct ip4_addr ip4_addr_t;

struct netif;

#define netifapi_netif_find netifapi_netif_find_by_name
struct netif *netifapi_netif_find_by_name(const char *name);
err_t netifapi_netif_get_addr(struct netif *netif, ip4_addr_t *ipaddr, ip4_addr_t *netmask,
                              ip4_addr_t *gw);
err_t netifapi_dhcp_start(struct netif *netif);
err_t netifapi_dhcp_stop(struct netif *netif);
err_t netifapi_dhcp_is_bound(struct netif *netif);

#endif

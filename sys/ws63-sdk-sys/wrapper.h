/* Umbrella header of ws63-sdk-sys: the WS63 SDK's own APIs that the firmware uses. */
#include <stdio.h>
#include <stdlib.h>
#include "errcode.h"
#include "partition.h"
#include "partition_resource_id.h"
#include "upg.h"
#include "upg_porting.h"
#include "hal_reboot.h"
#include "wifi_device.h"

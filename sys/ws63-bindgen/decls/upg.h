/*
 * The upgrade API (FOTA) that the SDK's main() has already initialised. Packages are written
 * sequentially into the FOTA partition, at most 65535 bytes a call, after uapi_upg_prepare().
 */
#ifndef WS63_DECLS_UPG_H
#define WS63_DECLS_UPG_H

#include <stdint.h>
#include <stdbool.h>
#include "errcode.h"

typedef struct upg_prepare_info {
    uint32_t package_len;
} upg_prepare_info_t;

typedef enum upg_status {
    UPG_STATUS_SUCC,
    UPG_STATUS_FAIL,
    UPG_STATUS_UPDATING,
    UPG_STATUS_NONE
} upg_status_t;

upg_status_t uapi_upg_get_status(void);
errcode_t uapi_upg_prepare(upg_prepare_info_t *prepare_info);
errcode_t uapi_upg_write_package_sync(uint32_t offset, const uint8_t *buff, uint16_t len);
errcode_t uapi_upg_read_package(uint32_t offset, uint8_t *buff, uint32_t len);
uint32_t uapi_upg_get_storage_size(void);
errcode_t uapi_upg_request_upgrade(bool reset);

#endif

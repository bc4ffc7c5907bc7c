/* Partition lookup (the SDK's main() already initialised the partition table). */
#ifndef WS63_DECLS_PARTITION_H
#define WS63_DECLS_PARTITION_H

#include <stdint.h>
#include "errcode.h"
#include "partition_resource_id.h"

typedef enum partition_type {
    PARTITION_BY_ADDRESS,
    PARTITION_BY_PATH,
    PARTITION_TYPE_COUNT
} partition_type_t;

typedef struct partition_information {
    partition_type_t type;
    union {
        struct {
            uint32_t addr;
            uint32_t size;
        } addr_info;
        char *file_path;
    } part_info;
} partition_information_t;

errcode_t uapi_partition_get_info(partition_ids_t partition_id, partition_information_t *info);

#endif

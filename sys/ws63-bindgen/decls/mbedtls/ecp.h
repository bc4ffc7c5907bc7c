/*
 * Elliptic-curve group identifiers of mbedTLS 3.1.0. A plain enum: 1 byte under the SDK's
 * -fshort-enums. The WS63 hardware ECP serves P-256 (and P-192, P-224, brainpool P-256) only.
 */
#ifndef WS63_DECLS_MBEDTLS_ECP_H
#define WS63_DECLS_MBEDTLS_ECP_H
#include "mbedtls/build_info.h"

typedef enum {
    MBEDTLS_ECP_DP_NONE = 0,
    MBEDTLS_ECP_DP_SECP192R1 = 1,
    MBEDTLS_ECP_DP_SECP224R1 = 2,
    MBEDTLS_ECP_DP_SECP256R1 = 3,
    MBEDTLS_ECP_DP_SECP384R1 = 4,
    MBEDTLS_ECP_DP_SECP521R1 = 5,
    MBEDTLS_ECP_DP_BP256R1 = 6,
    MBEDTLS_ECP_DP_BP384R1 = 7,
    MBEDTLS_ECP_DP_BP512R1 = 8,
    MBEDTLS_ECP_DP_CURVE25519 = 9,
    MBEDTLS_ECP_DP_SECP192K1 = 10,
    MBEDTLS_ECP_DP_SECP224K1 = 11,
    MBEDTLS_ECP_DP_SECP256K1 = 12,
    MBEDTLS_ECP_DP_CURVE448 = 13,
} mbedtls_ecp_group_id;

#endif

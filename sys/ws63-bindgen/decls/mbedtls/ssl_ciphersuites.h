/*
 * TLS 1.2 cipher suite identifiers (IANA values) used by the firmware. The SDK's built library
 * compiles the ECDHE key exchanges out unless its user configuration is changed (see
 * mbedtls-sys); the identifiers are the same either way.
 */
#ifndef WS63_DECLS_MBEDTLS_SSL_CIPHERSUITES_H
#define WS63_DECLS_MBEDTLS_SSL_CIPHERSUITES_H
#include "mbedtls/build_info.h"

#define MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256  0xC02B
#define MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384  0xC02C
#define MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256    0xC02F
#define MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384    0xC030

#endif

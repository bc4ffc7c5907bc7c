/*
 * mbedTLS 3.1.0 as the WS63 SDK builds it for ws63-liteos-app: `config-ws-iot.h` plus, in the
 * mbedtls component, the user configuration `mbedtls_platform_hardware_config.h` (hardware AES,
 * SHA, RSA, ECP and TRNG). Nothing declared in these files depends on the configuration beyond
 * what is written here: TLS 1.2 client, X.509 parsing, CTR_DRBG, entropy and error strings are
 * on, `MBEDTLS_DEPRECATED_REMOVED` and `MBEDTLS_X509_REMOVE_INFO` are off.
 */
#ifndef WS63_DECLS_MBEDTLS_BUILD_INFO_H
#define WS63_DECLS_MBEDTLS_BUILD_INFO_H
#include <stddef.h>
#include <stdint.h>
#endif

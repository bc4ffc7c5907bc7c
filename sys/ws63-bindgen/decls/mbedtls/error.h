/* Error strings of mbedTLS 3.1.0 (MBEDTLS_ERROR_C is on in the SDK's configuration). */
#ifndef WS63_DECLS_MBEDTLS_ERROR_H
#define WS63_DECLS_MBEDTLS_ERROR_H
#include "mbedtls/build_info.h"

void mbedtls_strerror(int errnum, char *buffer, size_t buflen);

#endif

/*
 * The entropy pool of mbedTLS 3.1.0. On the WS63 its only source is the hardware TRNG, which
 * `mbedtls_entropy_init` registers itself. Opaque context.
 */
#ifndef WS63_DECLS_MBEDTLS_ENTROPY_H
#define WS63_DECLS_MBEDTLS_ENTROPY_H
#include "mbedtls/build_info.h"

#define MBEDTLS_ERR_ENTROPY_SOURCE_FAILED       -0x003C
#define MBEDTLS_ERR_ENTROPY_MAX_SOURCES         -0x003E
#define MBEDTLS_ERR_ENTROPY_NO_SOURCES_DEFINED  -0x0040
#define MBEDTLS_ERR_ENTROPY_NO_STRONG_SOURCE    -0x003D
#define MBEDTLS_ERR_ENTROPY_FILE_IO_ERROR       -0x003F

typedef struct mbedtls_entropy_context mbedtls_entropy_context;

void mbedtls_entropy_init(mbedtls_entropy_context *ctx);
void mbedtls_entropy_free(mbedtls_entropy_context *ctx);
/* The pool as an entropy callback: data is the context. */
int mbedtls_entropy_func(void *data, unsigned char *output, size_t len);

#endif

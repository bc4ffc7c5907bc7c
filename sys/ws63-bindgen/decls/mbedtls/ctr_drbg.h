/* The CTR_DRBG random generator of mbedTLS 3.1.0 (AES on the WS63's hardware). Opaque context. */
#ifndef WS63_DECLS_MBEDTLS_CTR_DRBG_H
#define WS63_DECLS_MBEDTLS_CTR_DRBG_H
#include "mbedtls/build_info.h"

#define MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED  -0x0034
#define MBEDTLS_ERR_CTR_DRBG_REQUEST_TOO_BIG        -0x0036
#define MBEDTLS_ERR_CTR_DRBG_INPUT_TOO_BIG          -0x0038
#define MBEDTLS_ERR_CTR_DRBG_FILE_IO_ERROR          -0x003A

typedef struct mbedtls_ctr_drbg_context mbedtls_ctr_drbg_context;

void mbedtls_ctr_drbg_init(mbedtls_ctr_drbg_context *ctx);
int mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context *ctx,
                          int (*f_entropy)(void *, unsigned char *, size_t),
                          void *p_entropy, const unsigned char *custom, size_t len);
void mbedtls_ctr_drbg_free(mbedtls_ctr_drbg_context *ctx);
/* The generator as an RNG callback: p_rng is the seeded context. */
int mbedtls_ctr_drbg_random(void *p_rng, unsigned char *output, size_t output_len);

#endif

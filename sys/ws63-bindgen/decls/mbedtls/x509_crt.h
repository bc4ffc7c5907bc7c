/*
 * X.509 certificate chains of mbedTLS 3.1.0. `mbedtls_x509_crt` is opaque here: its layout is
 * the library's (see mbedtls-sys for the storage to reserve on the chip).
 */
#ifndef WS63_DECLS_MBEDTLS_X509_CRT_H
#define WS63_DECLS_MBEDTLS_X509_CRT_H
#include "mbedtls/x509.h"
#include "mbedtls/x509_crl.h"

typedef struct mbedtls_x509_crt mbedtls_x509_crt;

/* Parses one DER or one or more PEM certificates (PEM: buflen counts the final NUL). */
int mbedtls_x509_crt_parse(mbedtls_x509_crt *chain, const unsigned char *buf, size_t buflen);
/* Writes a description of each bit of a verification result; returns the length or < 0. */
int mbedtls_x509_crt_verify_info(char *buf, size_t size, const char *prefix, uint32_t flags);
void mbedtls_x509_crt_init(mbedtls_x509_crt *crt);
void mbedtls_x509_crt_free(mbedtls_x509_crt *crt);

#endif

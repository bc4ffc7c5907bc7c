/* The certificate revocation list of mbedTLS 3.1.0: opaque here (only passed as a pointer). */
#ifndef WS63_DECLS_MBEDTLS_X509_CRL_H
#define WS63_DECLS_MBEDTLS_X509_CRL_H
#include "mbedtls/x509.h"

typedef struct mbedtls_x509_crl mbedtls_x509_crl;

#endif

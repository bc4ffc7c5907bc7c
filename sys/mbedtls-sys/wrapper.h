/*
 * Umbrella header of mbedtls-sys: the TLS 1.2 client subset of the SDK's mbedTLS 3.1.0 (SSL/TLS,
 * X.509 certificates, CTR_DRBG, entropy, error strings, and the net_sockets error codes).
 */
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"

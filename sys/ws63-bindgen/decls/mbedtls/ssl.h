/*
 * The SSL/TLS API of mbedTLS 3.1.0 that a TLS 1.2 client uses, as the WS63 SDK builds it (TLS 1.2
 * and DTLS on, TLS 1.3 off, SNI and the max_fragment_length extension on). The contexts are
 * opaque here: their layouts are the library's (see mbedtls-sys for the storage to reserve).
 */
#ifndef WS63_DECLS_MBEDTLS_SSL_H
#define WS63_DECLS_MBEDTLS_SSL_H
#include "mbedtls/build_info.h"
#include "mbedtls/ecp.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/x509_crl.h"

/* Error codes (negative). */
#define MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS           -0x7000
#define MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE          -0x7080
#define MBEDTLS_ERR_SSL_BAD_INPUT_DATA               -0x7100
#define MBEDTLS_ERR_SSL_INVALID_MAC                  -0x7180
#define MBEDTLS_ERR_SSL_INVALID_RECORD               -0x7200
#define MBEDTLS_ERR_SSL_CONN_EOF                     -0x7280
#define MBEDTLS_ERR_SSL_DECODE_ERROR                 -0x7300
#define MBEDTLS_ERR_SSL_NO_RNG                       -0x7400
#define MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE        -0x7480
#define MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION        -0x7500
#define MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL      -0x7580
#define MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED         -0x7600
#define MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED            -0x7680
#define MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE           -0x7700
#define MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE          -0x7780
#define MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME            -0x7800
#define MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY            -0x7880
#define MBEDTLS_ERR_SSL_BAD_CERTIFICATE              -0x7A00
#define MBEDTLS_ERR_SSL_ALLOC_FAILED                 -0x7F00
#define MBEDTLS_ERR_SSL_HW_ACCEL_FAILED              -0x7F80
#define MBEDTLS_ERR_SSL_HW_ACCEL_FALLTHROUGH         -0x6F80
#define MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION         -0x6E80
#define MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE            -0x6E00
#define MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED       -0x6D80
#define MBEDTLS_ERR_SSL_PK_TYPE_MISMATCH             -0x6D00
#define MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY             -0x6C80
#define MBEDTLS_ERR_SSL_INTERNAL_ERROR               -0x6C00
#define MBEDTLS_ERR_SSL_COUNTER_WRAPPING             -0x6B80
#define MBEDTLS_ERR_SSL_WAITING_SERVER_HELLO_RENEGO  -0x6B00
#define MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED        -0x6A80
#define MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL             -0x6A00
#define MBEDTLS_ERR_SSL_WANT_READ                    -0x6900
#define MBEDTLS_ERR_SSL_WANT_WRITE                   -0x6880
#define MBEDTLS_ERR_SSL_TIMEOUT                      -0x6800
#define MBEDTLS_ERR_SSL_CLIENT_RECONNECT             -0x6780
#define MBEDTLS_ERR_SSL_UNEXPECTED_RECORD            -0x6700
#define MBEDTLS_ERR_SSL_NON_FATAL                    -0x6680
#define MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER            -0x6600
#define MBEDTLS_ERR_SSL_CONTINUE_PROCESSING          -0x6580
#define MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS            -0x6500
#define MBEDTLS_ERR_SSL_EARLY_MESSAGE                -0x6480
#define MBEDTLS_ERR_SSL_UNEXPECTED_CID               -0x6000
#define MBEDTLS_ERR_SSL_VERSION_MISMATCH             -0x5F00
#define MBEDTLS_ERR_SSL_BAD_CONFIG                   -0x5E80

/* TLS named groups (IANA values), for mbedtls_ssl_conf_groups. */
#define MBEDTLS_SSL_IANA_TLS_GROUP_NONE       0
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP192K1  0x0012
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP192R1  0x0013
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP224K1  0x0014
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP224R1  0x0015
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP256K1  0x0016
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1  0x0017
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1  0x0018
#define MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1  0x0019
#define MBEDTLS_SSL_IANA_TLS_GROUP_BP256R1    0x001A
#define MBEDTLS_SSL_IANA_TLS_GROUP_BP384R1    0x001B
#define MBEDTLS_SSL_IANA_TLS_GROUP_BP512R1    0x001C
#define MBEDTLS_SSL_IANA_TLS_GROUP_X25519     0x001D
#define MBEDTLS_SSL_IANA_TLS_GROUP_X448       0x001E
#define MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE2048  0x0100
#define MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE3072  0x0101
#define MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE4096  0x0102
#define MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE6144  0x0103
#define MBEDTLS_SSL_IANA_TLS_GROUP_FFDHE8192  0x0104

/* Protocol versions: 3.3 is TLS 1.2, 3.4 is TLS 1.3 (not built in the SDK). */
#define MBEDTLS_SSL_MAJOR_VERSION_3  3
#define MBEDTLS_SSL_MINOR_VERSION_3  3
#define MBEDTLS_SSL_MINOR_VERSION_4  4

#define MBEDTLS_SSL_TRANSPORT_STREAM    0
#define MBEDTLS_SSL_TRANSPORT_DATAGRAM  1

/* max_fragment_length codes (RFC 6066), for mbedtls_ssl_conf_max_frag_len. */
#define MBEDTLS_SSL_MAX_FRAG_LEN_NONE     0
#define MBEDTLS_SSL_MAX_FRAG_LEN_512      1
#define MBEDTLS_SSL_MAX_FRAG_LEN_1024     2
#define MBEDTLS_SSL_MAX_FRAG_LEN_2048     3
#define MBEDTLS_SSL_MAX_FRAG_LEN_4096     4
#define MBEDTLS_SSL_MAX_FRAG_LEN_INVALID  5

#define MBEDTLS_SSL_IS_CLIENT  0
#define MBEDTLS_SSL_IS_SERVER  1

/* Certificate verification modes, for mbedtls_ssl_conf_authmode. */
#define MBEDTLS_SSL_VERIFY_NONE      0
#define MBEDTLS_SSL_VERIFY_OPTIONAL  1
#define MBEDTLS_SSL_VERIFY_REQUIRED  2
#define MBEDTLS_SSL_VERIFY_UNSET     3

#define MBEDTLS_SSL_PRESET_DEFAULT  0
#define MBEDTLS_SSL_PRESET_SUITEB   2

/* The transport callbacks (function types; the API takes pointers to them). */
typedef int mbedtls_ssl_send_t(void *ctx, const unsigned char *buf, size_t len);
typedef int mbedtls_ssl_recv_t(void *ctx, unsigned char *buf, size_t len);
typedef int mbedtls_ssl_recv_timeout_t(void *ctx, unsigned char *buf, size_t len,
                                       uint32_t timeout);

typedef struct mbedtls_ssl_context mbedtls_ssl_context;
typedef struct mbedtls_ssl_config mbedtls_ssl_config;

/* Configuration. */
void mbedtls_ssl_config_init(mbedtls_ssl_config *conf);
int mbedtls_ssl_config_defaults(mbedtls_ssl_config *conf, int endpoint, int transport,
                                int preset);
void mbedtls_ssl_config_free(mbedtls_ssl_config *conf);
void mbedtls_ssl_conf_authmode(mbedtls_ssl_config *conf, int authmode);
void mbedtls_ssl_conf_ca_chain(mbedtls_ssl_config *conf, mbedtls_x509_crt *ca_chain,
                               mbedtls_x509_crl *ca_crl);
void mbedtls_ssl_conf_rng(mbedtls_ssl_config *conf, int (*f_rng)(void *, unsigned char *, size_t),
                          void *p_rng);
/* The list ends with 0 and must outlive the configuration. */
void mbedtls_ssl_conf_ciphersuites(mbedtls_ssl_config *conf, const int *ciphersuites);
/* Deprecated in 3.1.0 but built (MBEDTLS_DEPRECATED_REMOVED is off): ends with
 * MBEDTLS_ECP_DP_NONE. */
void mbedtls_ssl_conf_curves(mbedtls_ssl_config *conf, const mbedtls_ecp_group_id *curves);
/* IANA group ids, ending with MBEDTLS_SSL_IANA_TLS_GROUP_NONE. */
void mbedtls_ssl_conf_groups(mbedtls_ssl_config *conf, const uint16_t *groups);
void mbedtls_ssl_conf_min_version(mbedtls_ssl_config *conf, int major, int minor);
void mbedtls_ssl_conf_max_version(mbedtls_ssl_config *conf, int major, int minor);
/* Milliseconds; 0 waits forever. Only used with an f_recv_timeout callback. */
void mbedtls_ssl_conf_read_timeout(mbedtls_ssl_config *conf, uint32_t timeout);
int mbedtls_ssl_conf_max_frag_len(mbedtls_ssl_config *conf, unsigned char mfl_code);

/* Connection. */
void mbedtls_ssl_init(mbedtls_ssl_context *ssl);
int mbedtls_ssl_setup(mbedtls_ssl_context *ssl, const mbedtls_ssl_config *conf);
int mbedtls_ssl_set_hostname(mbedtls_ssl_context *ssl, const char *hostname);
void mbedtls_ssl_set_bio(mbedtls_ssl_context *ssl, void *p_bio, mbedtls_ssl_send_t *f_send,
                         mbedtls_ssl_recv_t *f_recv, mbedtls_ssl_recv_timeout_t *f_recv_timeout);
int mbedtls_ssl_handshake(mbedtls_ssl_context *ssl);
uint32_t mbedtls_ssl_get_verify_result(const mbedtls_ssl_context *ssl);
const char *mbedtls_ssl_get_ciphersuite(const mbedtls_ssl_context *ssl);
const char *mbedtls_ssl_get_version(const mbedtls_ssl_context *ssl);
size_t mbedtls_ssl_get_bytes_avail(const mbedtls_ssl_context *ssl);
int mbedtls_ssl_read(mbedtls_ssl_context *ssl, unsigned char *buf, size_t len);
int mbedtls_ssl_write(mbedtls_ssl_context *ssl, const unsigned char *buf, size_t len);
int mbedtls_ssl_close_notify(mbedtls_ssl_context *ssl);
void mbedtls_ssl_free(mbedtls_ssl_context *ssl);

#endif

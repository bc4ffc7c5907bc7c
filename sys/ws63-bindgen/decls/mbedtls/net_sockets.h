/*
 * The error codes of mbedTLS 3.1.0's network layer. Only the codes are bound: the firmware
 * gives mbedTLS its own send/recv callbacks over lwIP, and may return these from them.
 */
#ifndef WS63_DECLS_MBEDTLS_NET_SOCKETS_H
#define WS63_DECLS_MBEDTLS_NET_SOCKETS_H
#include "mbedtls/ssl.h"

#define MBEDTLS_ERR_NET_SOCKET_FAILED      -0x0042
#define MBEDTLS_ERR_NET_CONNECT_FAILED     -0x0044
#define MBEDTLS_ERR_NET_BIND_FAILED        -0x0046
#define MBEDTLS_ERR_NET_LISTEN_FAILED      -0x0048
#define MBEDTLS_ERR_NET_ACCEPT_FAILED      -0x004A
#define MBEDTLS_ERR_NET_RECV_FAILED        -0x004C
#define MBEDTLS_ERR_NET_SEND_FAILED        -0x004E
#define MBEDTLS_ERR_NET_CONN_RESET         -0x0050
#define MBEDTLS_ERR_NET_UNKNOWN_HOST       -0x0052
#define MBEDTLS_ERR_NET_BUFFER_TOO_SMALL   -0x0043
#define MBEDTLS_ERR_NET_INVALID_CONTEXT    -0x0045
#define MBEDTLS_ERR_NET_POLL_FAILED        -0x0047
#define MBEDTLS_ERR_NET_BAD_INPUT_DATA     -0x0049

#endif

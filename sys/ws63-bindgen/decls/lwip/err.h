/* lwIP error codes as the WS63 SDK numbers them (its lwIP extends and renumbers the list). */
#ifndef WS63_DECLS_LWIP_ERR_H
#define WS63_DECLS_LWIP_ERR_H

#include <stdint.h>

typedef int8_t s8_t;
typedef s8_t err_t;

typedef enum {
    ERR_OK = 0,
    ERR_MEM = -1,
    ERR_BUF = -2,
    ERR_TIMEOUT = -3,
    ERR_RTE = -4,
    ERR_INPROGRESS = -5,
    ERR_VAL = -6,
    ERR_WOULDBLOCK = -7,
    ERR_USE = -8,
    ERR_ALREADY = -9,
    ERR_ISCONN = -10,
    ERR_CONN = -11,
    ERR_IF = -12,
    ERR_MSGSIZE = -13,
    ERR_NODEV = -14,
    ERR_NODEVADDR = -15,
    ERR_NODEST = -16,
    ERR_NETDOWN = -17,
    ERR_AFNOSUPP = -18,
    ERR_NOADDR = -19,
    ERR_OPNOTSUPP = -20,
    ERR_NETUNREACH = -21,
    ERR_CONNECTIMEOUT = -22,
    ERR_PIPE = -23,
    ERR_AFNOSUPPORT = -24,
    ERR_NOPROTOOPT = -25,
    ERR_ACCESS = -26,
    ERR_NFILE = -27,
    ERR_RESERVE3 = -28,
    ERR_RESERVE4 = -29,
    ERR_RESERVE5 = -30,
    ERR_RESERVE6 = -31,
    ERR_FATAL_START = -32,
    ERR_ABRT = -33,
    ERR_RST = -34,
    ERR_CLSD = -35,
    ERR_ARG = -36,
    ERR_CONNREFUSED = -37,
    ERR_NBR_OVERWRITEFORBIDDEN = -38,
    ERR_NBR_NOTFOUND = -39,
    ERR_DEFAULT_ROUTER_NOTFOUND = -40,
    ERR_PREFIX_NOT_FOUND = -41,
    ERR_NO_FREE_ENTRY = -42,
    ERR_DEFAULT_ROUTE_EXISTS = -43,
    ERR_PREFIX_EXISTS = -44,
    ERR_LOWPAN_CTX_NOTFOUND = -45,
    ERR_NBR_NOMORE_DCHILD = -46,
    ERR_DROP_NEW_NBR = -47,
    ERR_MAX_VAL = -48,
} err_enum_t;

#endif

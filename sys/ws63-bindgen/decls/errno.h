/* errno of the LiteOS C library (musl): a per-task location, and the codes lwIP reports. */
#ifndef WS63_DECLS_ERRNO_H
#define WS63_DECLS_ERRNO_H

int *__errno_location(void);
#define errno (*__errno_location())

#define EPERM 1
#define EINTR 4
#define EIO 5
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EINVAL 22
#define ENFILE 23
#define EPIPE 32
#define EWOULDBLOCK EAGAIN
#define ENOTSOCK 88
#define EADDRINUSE 98
#define ENETUNREACH 101
#define ECONNABORTED 103
#define ECONNRESET 104
#define ENOBUFS 105
#define EISCONN 106
#define ENOTCONN 107
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define EHOSTUNREACH 113
#define EALREADY 114
#define EINPROGRESS 115

#endif

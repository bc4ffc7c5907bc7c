/*
 * lwIP 2.1.3 sockets as the WS63 SDK builds them: LWIP_COMPAT_SOCKETS 2 (the functions link
 * as socket/connect/..., closesocket, ioctlsocket), LWIP_LITEOS_COMPAT 1 (socket types and
 * constants from the LiteOS musl headers: no sin_len, a 32-bit time_t, SO_RCVTIMEO and
 * SO_SNDTIMEO 66 and 67 taking a struct timeval), LWIP_SO_RCVTIMEO 1. fcntl, poll, read,
 * write and close are declared by the C library but not linked into the app image.
 */
#ifndef WS63_DECLS_LWIP_SOCKETS_H
#define WS63_DECLS_LWIP_SOCKETS_H

#include <stdint.h>
#include <stddef.h>

typedef long time_t;
typedef long suseconds_t;
typedef unsigned int socklen_t;
typedef unsigned short sa_family_t;
typedef uint16_t in_port_t;
typedef uint32_t in_addr_t;

struct timeval {
    time_t tv_sec;
    suseconds_t tv_usec;
};

#define FD_SETSIZE 1024
typedef struct {
    unsigned long fds_bits[FD_SETSIZE / 8 / sizeof(long)];
} fd_set;

struct sockaddr {
    sa_family_t sa_family;
    char sa_data[14];
};

struct in_addr {
    in_addr_t s_addr;
};

struct sockaddr_in {
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    uint8_t sin_zero[8];
};

#define AF_UNSPEC 0
#define AF_INET 2
#define PF_INET 2
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define SOL_SOCKET 1
#define SO_ERROR 4
#define SO_KEEPALIVE 9
#define SO_SNDTIMEO 67
#define SO_RCVTIMEO 66
#define TCP_NODELAY 1
#define MSG_PEEK 2
#define MSG_DONTWAIT 64
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2
#define FIONBIO 0x5421

int socket(int, int, int);
int connect(int, const struct sockaddr *, socklen_t);
ssize_t send(int, const void *, size_t, int);
ssize_t recv(int, void *, size_t, int);
int shutdown(int, int);
int setsockopt(int, int, int, const void *, socklen_t);
int getsockopt(int, int, int, void *, socklen_t *);
int select(int, fd_set *, fd_set *, fd_set *, struct timeval *);
int closesocket(int s);
int ioctlsocket(int s, long cmd, void *argp);

#endif

/* The C library's print function, which reaches the WS63's console UART. */
#ifndef WS63_DECLS_STDIO_H
#define WS63_DECLS_STDIO_H
int printf(const char *, ...);
#endif

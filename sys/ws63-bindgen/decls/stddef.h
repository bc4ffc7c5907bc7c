/* size_t and NULL for the WS63 C ABI (RV32, ilp32f). */
#ifndef WS63_DECLS_STDDEF_H
#define WS63_DECLS_STDDEF_H
typedef unsigned int size_t;
typedef int ssize_t;
#define NULL ((void *)0)
#endif

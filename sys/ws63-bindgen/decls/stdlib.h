/* The C library's allocator over the LiteOS system heap (default alignment 4 bytes). */
#ifndef WS63_DECLS_STDLIB_H
#define WS63_DECLS_STDLIB_H
#include <stddef.h>
void *malloc(size_t);
void *calloc(size_t, size_t);
void free(void *);
void *memalign(size_t, size_t);
#endif

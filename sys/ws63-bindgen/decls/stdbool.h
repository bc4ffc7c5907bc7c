/* C99 bool. */
#ifndef WS63_DECLS_STDBOOL_H
#define WS63_DECLS_STDBOOL_H
#define bool _Bool
#define true 1
#define false 0
#endif

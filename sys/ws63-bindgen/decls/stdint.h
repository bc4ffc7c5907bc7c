/* Fixed-width integer types of the WS63 C ABI (RV32, ilp32f), as the SDK's libc gives them. */
#ifndef WS63_DECLS_STDINT_H
#define WS63_DECLS_STDINT_H
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef int intptr_t;
typedef unsigned int uintptr_t;
#endif

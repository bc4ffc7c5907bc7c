/*
 * The upgrade porting layer: its init (which ws63-liteos-app's main() does not call: the app
 * must, before any uapi_upg_* call), and the reboot and watchdog hooks.
 */
#ifndef WS63_DECLS_UPG_PORTING_H
#define WS63_DECLS_UPG_PORTING_H
#include "errcode.h"
errcode_t ws63_upg_init(void);
void upg_reboot(void);
void upg_watchdog_kick(void);
#endif

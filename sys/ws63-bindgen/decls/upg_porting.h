/* The upgrade porting layer's reboot and watchdog hooks. */
#ifndef WS63_DECLS_UPG_PORTING_H
#define WS63_DECLS_UPG_PORTING_H
void upg_reboot(void);
void upg_watchdog_kick(void);
#endif

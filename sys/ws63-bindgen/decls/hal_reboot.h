/* Chip reset. */
#ifndef WS63_DECLS_HAL_REBOOT_H
#define WS63_DECLS_HAL_REBOOT_H
void hal_reboot_chip(void);
#endif

/*
 * The BMS gateway's OTA, for C callers (the C original's entry point, same ABI).
 *
 * ota_task_start() starts the OTA thread (normal priority, stack 0x2800, name "ota") for the
 * package at the configured URL template (config/gateway.toml, [ota] url, with {version}
 * replaced by [ota] default_version). The thread downloads the package into the upgrade
 * partition, verifies it, requests the upgrade and reboots; on failure it logs and ends.
 *
 * Returns 0 when the thread was started, -1 when it was not: an OTA is already running, the
 * configured URL is invalid, or the kernel refused the thread.
 */
#ifndef WS63_BMS_OTA_TASK_H
#define WS63_BMS_OTA_TASK_H

#ifdef __cplusplus
extern "C" {
#endif

int ota_task_start(void);

#ifdef __cplusplus
}
#endif

#endif

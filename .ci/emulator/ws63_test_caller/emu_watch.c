/*
 * Emulator lane only (.ci/emulate, tests/emulator_ota.rs): measurements of the OTA image on
 * the real kernel. Never installed by sdk/install.sh, not part of the product.
 *
 * - Time in the SDK's upgrade storage calls: the OTA image is linked with
 *   --wrap=uapi_upg_prepare,--wrap=uapi_upg_write_package_sync,--wrap=uapi_upg_request_upgrade
 *   (only that link: the other images never call the wrappers, and the weak __real_
 *   references stay unresolved there), so each call the firmware makes is counted in CPU
 *   cycles (the mcycle CSR; under QEMU's -icount one instruction is one cycle, and the
 *   kernel's osKernelGetSysTimerCount reads 0 in the emulator).
 * - Stack water lines and heap: ws63_emu_watch_start() starts a thread that samples, every
 *   tick, LiteOS's peak stack use of the tasks "ota" and "gateway" (LOS_TaskInfoGet: the
 *   kernel's own high-water mark; the name through osThreadGetName, because the ROM
 *   strncpy_s that fills TSK_INFO_S's copy does nothing in the emulator) and the system heap in use (LOS_MemInfoGet; this build has
 *   no heap water line, so the heap peak is the largest sample, one per tick).
 *
 * The summary is printed as one line starting "[emu-watch]" when uapi_upg_request_upgrade
 * returns, and when the "ota" task has ended.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmsis_os2.h"
#include "los_memory.h"
#include "los_task.h"

void ws63_emu_watch_start(void);

/* The real functions, under the names --wrap gives them (weak: absent without --wrap). */
extern uint32_t __real_uapi_upg_prepare(void *prepare_info) __attribute__((weak));
extern uint32_t __real_uapi_upg_write_package_sync(uint32_t offset, const uint8_t *buff, uint16_t len)
    __attribute__((weak));
extern uint32_t __real_uapi_upg_request_upgrade(bool reset) __attribute__((weak));
uint32_t __wrap_uapi_upg_prepare(void *prepare_info);
uint32_t __wrap_uapi_upg_write_package_sync(uint32_t offset, const uint8_t *buff, uint16_t len);
uint32_t __wrap_uapi_upg_request_upgrade(bool reset);

/* LiteOS's task control blocks (LOS_TaskInfoGet indexes them by id * 96 in this kernel
 * build); a CMSIS thread id is a block's address. */
extern uint8_t *g_osTaskCBArray;
#define TCB_SIZE 96u

#define WATCH_TASKS 2
static const char *const g_watch_names[WATCH_TASKS] = { "ota", "gateway" };

static struct {
    uint32_t calls[3];
    uint64_t cycles[3];
    uint32_t stack_size[WATCH_TASKS];
    uint32_t stack_peak[WATCH_TASKS];
    uint32_t heap_peak;
    uint32_t heap_start;
    bool ota_seen;
    bool started;
} g_watch;


static uint32_t heap_used(void)
{
    LOS_MEM_POOL_STATUS st;
    (void)memset(&st, 0, sizeof(st));
    if (LOS_MemInfoGet(m_aucSysMem0, &st) != LOS_OK) {
        return 0;
    }
    return st.uwTotalUsedSize;
}

static void print_summary(const char *why)
{
    printf("[emu-watch] %s: prepare %u call %u cycles; write %u calls %u cycles; "
           "request %u call %u cycles; "
           "stack ota %u of %u, gateway %u of %u; heap peak %u, at start %u, now %u\r\n",
           why,
           (unsigned)g_watch.calls[0], (unsigned)g_watch.cycles[0],
           (unsigned)g_watch.calls[1], (unsigned)g_watch.cycles[1],
           (unsigned)g_watch.calls[2], (unsigned)g_watch.cycles[2],
           (unsigned)g_watch.stack_peak[0], (unsigned)g_watch.stack_size[0],
           (unsigned)g_watch.stack_peak[1], (unsigned)g_watch.stack_size[1],
           (unsigned)g_watch.heap_peak, (unsigned)g_watch.heap_start, (unsigned)heap_used());
}

/* One sample; true while the "ota" task exists. */
static bool sample(void)
{
    bool ota_alive = false;
    for (uint32_t id = 0; id < LOSCFG_BASE_CORE_TSK_LIMIT; id++) {
        TSK_INFO_S info;
        (void)memset(&info, 0, sizeof(info));
        if (LOS_TaskInfoGet(id, &info) != LOS_OK) {
            continue;
        }
        const char *name = osThreadGetName((osThreadId_t)(g_osTaskCBArray + id * TCB_SIZE));
        for (int i = 0; name != NULL && i < WATCH_TASKS; i++) {
            if (strcmp(name, g_watch_names[i]) != 0) {
                continue;
            }
            g_watch.stack_size[i] = info.uwStackSize;
            if (info.uwPeakUsed > g_watch.stack_peak[i]) {
                g_watch.stack_peak[i] = info.uwPeakUsed;
            }
            if (i == 0) {
                ota_alive = true;
            }
        }
    }
    uint32_t used = heap_used();
    if (used > g_watch.heap_peak) {
        g_watch.heap_peak = used;
    }
    return ota_alive;
}

static void watch_thread(void *arg)
{
    (void)arg;
    for (;;) {
        bool alive = sample();
        if (alive) {
            g_watch.ota_seen = true;
        } else if (g_watch.ota_seen) {
            g_watch.ota_seen = false;
            print_summary("ota ended");
        }
        (void)osDelay(1);
    }
}

void ws63_emu_watch_start(void)
{
    if (g_watch.started) {
        return;
    }
    g_watch.started = true;
    g_watch.heap_start = heap_used();
    osThreadAttr_t attr = {
        .name = "emu_watch",
        .stack_size = 2048,
        .priority = osPriorityHigh, /* samples every tick, whatever the firmware does */
    };
    (void)osThreadNew(watch_thread, NULL, &attr);
}

static uint64_t now_cycles(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi));
        __asm__ volatile("csrr %0, mcycle" : "=r"(lo));
        __asm__ volatile("csrr %0, mcycleh" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

uint32_t __wrap_uapi_upg_prepare(void *prepare_info)
{
    uint64_t t = now_cycles();
    uint32_t ret = __real_uapi_upg_prepare(prepare_info);
    g_watch.cycles[0] += now_cycles() - t;
    g_watch.calls[0]++;
    return ret;
}

uint32_t __wrap_uapi_upg_write_package_sync(uint32_t offset, const uint8_t *buff, uint16_t len)
{
    uint64_t t = now_cycles();
    uint32_t ret = __real_uapi_upg_write_package_sync(offset, buff, len);
    g_watch.cycles[1] += now_cycles() - t;
    g_watch.calls[1]++;
    return ret;
}

uint32_t __wrap_uapi_upg_request_upgrade(bool reset)
{
    uint64_t t = now_cycles();
    uint32_t ret = __real_uapi_upg_request_upgrade(reset);
    g_watch.cycles[2] += now_cycles() - t;
    g_watch.calls[2]++;
    (void)sample();
    print_summary(ret == 0 ? "upgrade requested" : "upgrade refused");
    return ret;
}

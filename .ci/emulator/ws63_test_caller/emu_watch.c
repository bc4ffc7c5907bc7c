/*
 * Emulator lane only (.ci/emulate, tests/emulator_ota.rs): measurements of the OTA image on
 * the real kernel. Never installed by sdk/install.sh, not part of the product.
 *
 * - Time in the SDK's upgrade storage calls: the OTA image is linked with
 *   --wrap=uapi_upg_prepare,--wrap=uapi_upg_write_package_sync,--wrap=uapi_upg_request_upgrade
 *   (only that link: the other images never call the wrappers, and the weak __real_
 *   references stay unresolved there), so each call the firmware makes is measured: the
 *   instructions retired meanwhile (minstret: under QEMU's -icount, the instruction count;
 *   every thread's) and the emulated time (mcycle: under -icount, QEMU's virtual clock in ns;
 *   the kernel's osKernelGetSysTimerCount reads 0 in the emulator). The wrappers only count
 *   and wake the watch thread, so they add next to nothing to the OTA thread's stack.
 * - Stack water lines and heap: ws63_emu_watch_start() starts a thread that samples, every
 *   tick, LiteOS's peak stack use of the tasks "ota", "gateway" and the NIC driver's
 *   "emu_netmac_rx" (LOS_TaskInfoGet: the
 *   kernel's own high-water mark; the name through osThreadGetName, because the ROM
 *   strncpy_s that fills TSK_INFO_S's copy does nothing in the emulator) and the system heap in use (LOS_MemInfoGet; this build has
 *   no heap water line, so the heap peak is the largest sample, one per tick).
 *
 * The watch thread prints the summary, two lines starting "[emu-watch]", when
 * uapi_upg_request_upgrade has returned (woken by the wrapper: the firmware's reboot comes
 * after its final report is acknowledged, many ticks later) and when the "ota" task has
 * ended. Sampling every tick costs CPU time (28 task records and a heap walk at high
 * priority), which the wall-clock and time figures include.
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

#define WATCH_TASKS 3
static const char *const g_watch_names[WATCH_TASKS] = { "ota", "gateway", "emu_netmac_rx" };
#define WAKE_REQUESTED 0x1u

static struct {
    uint32_t calls[3];
    uint64_t instret[3];
    uint64_t nanos[3];
    volatile uint32_t request_result;
    osThreadId_t thread;
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

static unsigned u32(uint64_t v)
{
    return v > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)v;
}

/* Two short lines (the SDK's printf cuts long ones): per storage call calls/instructions/us,
 * then per thread stack peak/size and the heap's peak/at start/now. */
static void print_summary(const char *why)
{
    printf("[emu-watch] %s: calls prepare %u/%u/%u write %u/%u/%u request %u/%u/%u\r\n", why,
           (unsigned)g_watch.calls[0], u32(g_watch.instret[0]), u32(g_watch.nanos[0] / 1000),
           (unsigned)g_watch.calls[1], u32(g_watch.instret[1]), u32(g_watch.nanos[1] / 1000),
           (unsigned)g_watch.calls[2], u32(g_watch.instret[2]), u32(g_watch.nanos[2] / 1000));
    printf("[emu-watch] %s: memory ota %u/%u gateway %u/%u rx %u/%u heap %u/%u/%u\r\n", why,
           (unsigned)g_watch.stack_peak[0], (unsigned)g_watch.stack_size[0],
           (unsigned)g_watch.stack_peak[1], (unsigned)g_watch.stack_size[1],
           (unsigned)g_watch.stack_peak[2], (unsigned)g_watch.stack_size[2],
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
        /* A tick's sleep, or less when the request wrapper wakes it. */
        uint32_t flags = osThreadFlagsWait(WAKE_REQUESTED, osFlagsWaitAny, 1);
        bool alive = sample();
        if (flags == WAKE_REQUESTED) {
            print_summary(g_watch.request_result == 0 ? "upgrade requested" : "upgrade refused");
        }
        if (alive) {
            g_watch.ota_seen = true;
        } else if (g_watch.ota_seen) {
            g_watch.ota_seen = false;
            print_summary("ota ended");
        }
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
    g_watch.thread = osThreadNew(watch_thread, NULL, &attr);
}

#define READ_CSR64(name, out) do {                                   \
        uint32_t hi_, lo_, hi2_;                                       \
        do {                                                           \
            __asm__ volatile("csrr %0, " #name "h" : "=r"(hi_));      \
            __asm__ volatile("csrr %0, " #name : "=r"(lo_));          \
            __asm__ volatile("csrr %0, " #name "h" : "=r"(hi2_));     \
        } while (hi_ != hi2_);                                         \
        (out) = ((uint64_t)hi_ << 32) | lo_;                           \
    } while (0)

typedef struct {
    uint64_t instret;
    uint64_t nanos;
} stamp_t;

static stamp_t stamp(void)
{
    stamp_t s;
    READ_CSR64(minstret, s.instret);
    READ_CSR64(mcycle, s.nanos);
    return s;
}

static void account(int i, stamp_t t)
{
    stamp_t now = stamp();
    g_watch.instret[i] += now.instret - t.instret;
    g_watch.nanos[i] += now.nanos - t.nanos;
    g_watch.calls[i]++;
}

uint32_t __wrap_uapi_upg_prepare(void *prepare_info)
{
    stamp_t t = stamp();
    uint32_t ret = __real_uapi_upg_prepare(prepare_info);
    account(0, t);
    return ret;
}

uint32_t __wrap_uapi_upg_write_package_sync(uint32_t offset, const uint8_t *buff, uint16_t len)
{
    stamp_t t = stamp();
    uint32_t ret = __real_uapi_upg_write_package_sync(offset, buff, len);
    account(1, t);
    return ret;
}

uint32_t __wrap_uapi_upg_request_upgrade(bool reset)
{
    stamp_t t = stamp();
    uint32_t ret = __real_uapi_upg_request_upgrade(reset);
    account(2, t);
    g_watch.request_result = ret;
    if (g_watch.thread != NULL) {
        (void)osThreadFlagsSet(g_watch.thread, WAKE_REQUESTED);
    }
    return ret;
}

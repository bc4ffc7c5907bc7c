//! CMSIS-RTOS2 as LiteOS v208.5.0 implements it on the WS63, on host threads, with the chip's
//! 100 Hz tick.
//!
//! Every behaviour below was read from the SDK's prebuilt `libcmsis.a` / `libbase.a`
//! (disassembled with the SDK's own objdump), not from the CMSIS API reference, where the two
//! differ:
//!
//! - **The kernel starts.** A firmware run begins with the kernel *ready* (the SDK's `main()`
//!   has initialised it and runs the `app_run` entries), and [`start_kernel`] starts it.
//!   Threads created before that wait until then. `osKernelGetState` reports ready (1),
//!   running (2) or locked (3). In-process tests find the kernel running.
//! - **The scheduler lock.** `osKernelLock` returns -1 before the kernel runs, 1 *without
//!   locking again* when already locked, else locks and returns 0. `osKernelUnlock` removes
//!   one level and returns 1 when that unlocked, -1 when still locked, 0 when it was not
//!   locked. `osKernelRestoreLock(0)` removes one level (0 when unlocked, -1 when still
//!   locked), `osKernelRestoreLock(1)` adds one level *even when already locked*, anything
//!   else is -1. A thread that returns while holding the lock clears it (as `OsTaskEntry`).
//!   While one thread holds the lock no other may run on the chip; here the others wait at
//!   the door of every kernel and SDK call ([`gate`]). In the locked thread `osDelay(n)`
//!   fails at once (-1), `osSemaphoreAcquire` always fails (-3), and waits on a mutex or a
//!   queue that cannot be served at once fail (-3).
//! - **Threads.** Priorities `osPriorityLow3` (11) to `osPriorityHigh` (40) only; attributes
//!   with a NULL name are refused; the stack is rounded up to 16 bytes, 0 becomes 2048, less
//!   than 1024 is refused, and it comes out of the heap ([`crate::heap`]); the name pointer
//!   is kept, not copied; NULL attributes mean the name "undefined", 2048 bytes and priority
//!   31. The host thread's stack is [`HOST_MIN_STACK`] at least (host code built without
//!   `-Os` needs more); the chip's stack budgets are checked on the chip build instead.
//! - **Mutexes** ignore their attributes: every one is recursive (the owner's relock counts).
//!   Release by a non-owner is -4, deleting a locked mutex -3.
//! - **Semaphores**: `max_count` 1 makes a binary semaphore, any other is a counting
//!   semaphore capped at 0xFFFE whatever was asked; release at the cap is -3.
//! - **Queues**: counts and sizes below 65536; the buffer (`count * (size + 4)`) comes out of
//!   the heap; priorities are ignored (FIFO).
//! - **Limits**: 28 tasks, 16 queues, 60 mutexes, 32 semaphores in all, shared with the SDK's
//!   own ([`LITEOS_LIMITS`], [`SDK_SHARE`]).
//! - **The watchdog** ([`watchdog`]): the app's watchdog (15 s) is fed only by the idle task,
//!   which runs only when every firmware thread is waiting; a run in which some firmware
//!   thread keeps the CPU for longer resets the board.
//!
//! Handles are opaque numbers looked up in a registry, so a stale or foreign handle gets
//! `osErrorParameter` (or NULL) instead of undefined behaviour. Not modelled: scheduling by
//! priority (host threads run as the host schedules them), interrupt context, the time-slice.

#![allow(non_snake_case)]

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cmsis_rtos2_sys as os;
use os::{
    osKernelState_t, osMessageQueueAttr_t, osMessageQueueId_t, osMutexAttr_t, osMutexId_t,
    osPriority_t, osSemaphoreAttr_t, osSemaphoreId_t, osStatus_t, osThreadAttr_t, osThreadFunc_t,
    osThreadId_t,
};

use crate::{faults, heap};

/// The chip's tick rate (`LOSCFG_BASE_CORE_TICK_PER_SECOND`).
pub const TICK_HZ: u32 = 100;

/// The least stack a simulated thread gets on the host.
pub const HOST_MIN_STACK: usize = 256 * 1024;

/// Stack size LiteOS gives a thread whose attributes ask for 0, or that has none.
pub const DEFAULT_STACK: u32 = 0x800;

/// The smallest stack LiteOS accepts (after rounding up to 16).
pub const MIN_STACK: u32 = 1024;

/// The priority LiteOS gives a thread created without attributes (LiteOS 10, read back as
/// CMSIS 31).
pub const DEFAULT_PRIORITY: osPriority_t = 31;

/// Kernel object limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tasks (including the kernel's idle and software-timer tasks).
    pub tasks: u32,
    /// Message queues.
    pub queues: u32,
    /// Mutexes.
    pub mutexes: u32,
    /// Semaphores.
    pub semaphores: u32,
}

/// What this LiteOS build has in all (`ws63.config`: `LOSCFG_BASE_CORE_TSK_LIMIT`,
/// `LOSCFG_BASE_IPC_QUEUE_LIMIT`, `..._MUX_LIMIT`, `..._SEM_LIMIT`).
pub const LITEOS_LIMITS: Limits = Limits { tasks: 28, queues: 16, mutexes: 60, semaphores: 32 };

/// What the SDK's own `ws63-liteos-app` takes of them before and beside the firmware, an
/// estimate from its sources and libraries: the kernel's idle and timer tasks, the twelve
/// tasks of `main.c`, `dfx_msg`, then lwIP's, the WiFi service's, wpa's and NV's tasks
/// (about 18 to 22; the upper end is taken), and the queues, mutexes and semaphores of those
/// tasks and drivers (not countable from the sources alone: half of each limit is taken, which
/// leaves the firmware far more than it uses).
pub const SDK_SHARE: Limits = Limits { tasks: 22, queues: 8, mutexes: 30, semaphores: 16 };

/// What the firmware may have at most: [`LITEOS_LIMITS`] less [`SDK_SHARE`].
pub const FIRMWARE_LIMITS: Limits = Limits {
    tasks: LITEOS_LIMITS.tasks - SDK_SHARE.tasks,
    queues: LITEOS_LIMITS.queues - SDK_SHARE.queues,
    mutexes: LITEOS_LIMITS.mutexes - SDK_SHARE.mutexes,
    semaphores: LITEOS_LIMITS.semaphores - SDK_SHARE.semaphores,
};

fn boot_instant() -> Instant {
    static BOOT: OnceLock<Instant> = OnceLock::new();
    *BOOT.get_or_init(Instant::now)
}

/// Ticks since the board started (wrapping, like the kernel's 32-bit counter).
pub fn ticks_now() -> u32 {
    (boot_instant().elapsed().as_millis() / u128::from(1000 / TICK_HZ)) as u32
}

/// The duration of `ticks` ticks.
pub fn ticks_to_duration(ticks: u32) -> Duration {
    Duration::from_millis(u64::from(ticks) * u64::from(1000 / TICK_HZ))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The kernel: its state, the scheduler lock, the interrupt lock

/// Where the kernel is (`osKernelGetState` adds "locked").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelState {
    /// Initialised, not started: the SDK's `main()` is running the `app_run` entries.
    Ready,
    /// The scheduler runs.
    Running,
}

struct Kernel {
    state: KernelState,
    /// `taskLockCnt`: the scheduler lock's depth.
    lock_count: u32,
    /// The thread that locked the scheduler (the only one the chip would run).
    lock_holder: usize,
    /// The thread that has interrupts locked (a flash operation), and how deep.
    irq_holder: usize,
    irq_depth: u32,
    /// The threads waiting in [`gate`] (id, whether a firmware thread).
    waiting: Vec<(usize, bool)>,
    /// The thread whose time slice ran out while it had interrupts locked, and the threads
    /// that run before it runs again (see [`with_interrupts_locked`]).
    yielder: usize,
    owed: Vec<usize>,
    /// The thread that last had interrupts locked, and how much of its time slice the locked
    /// sections used since it last gave way.
    slice_owner: usize,
    slice_used: Duration,
}

static KERNEL: Mutex<Kernel> = Mutex::new(Kernel {
    state: KernelState::Running,
    lock_count: 0,
    lock_holder: 0,
    irq_holder: 0,
    irq_depth: 0,
    waiting: Vec::new(),
    yielder: 0,
    owed: Vec::new(),
    slice_owner: 0,
    slice_used: Duration::ZERO,
});
static KERNEL_CV: Condvar = Condvar::new();

fn kernel() -> MutexGuard<'static, Kernel> {
    lock(&KERNEL)
}

/// LiteOS's time slice (`LOSCFG_BASE_CORE_TIMESLICE_TIMEOUT` = 2 ticks in the SDK's
/// kernel configuration).
pub const TIME_SLICE: Duration = Duration::from_millis(2 * 1000 / TICK_HZ as u64);

/// Whether `id` could not run on the chip now: another thread holds the scheduler lock or has
/// interrupts locked, or (for a thread created by `osThreadNew`) the kernel has not started.
fn blocked(k: &Kernel, id: usize, fw: bool) -> bool {
    (k.lock_count > 0 && k.lock_holder != id)
        || (k.irq_depth > 0 && k.irq_holder != id)
        || (fw && k.state != KernelState::Running)
}

/// Waits until the calling thread could be running on the chip: until no other thread holds
/// the scheduler lock or has interrupts locked, the kernel has started (for threads created
/// by `osThreadNew`), and, if this thread gave way at the end of its time slice, until the
/// threads it gave way to have run. Every kernel and SDK call of the board passes here first.
pub fn gate() {
    drop(wait_turn());
}

/// [`gate`], handing back the kernel's state still locked, so that what the caller does
/// next (taking the interrupt lock) happens before any other thread's turn.
fn wait_turn() -> MutexGuard<'static, Kernel> {
    let me = current_id();
    let fw = is_firmware_thread();
    let mut k = kernel();
    let mut queued = false;
    while blocked(&k, me, fw) || (k.yielder == me && !k.owed.is_empty()) {
        if !queued {
            k.waiting.push((me, fw));
            queued = true;
        }
        k = KERNEL_CV.wait(k).unwrap_or_else(|p| p.into_inner());
    }
    if queued {
        k.waiting.retain(|(t, _)| *t != me);
    }
    if k.owed.contains(&me) {
        k.owed.retain(|t| *t != me);
        if k.owed.is_empty() {
            k.yielder = 0;
        }
        KERNEL_CV.notify_all();
    }
    k
}

/// The number of threads waiting in [`gate`] (for tests).
pub fn gate_waiters() -> usize {
    kernel().waiting.len()
}

/// Whether the calling thread holds the scheduler lock.
fn locked_by_me() -> bool {
    let me = current_id();
    let k = kernel();
    k.lock_count > 0 && k.lock_holder == me
}

/// Runs `f` with interrupts locked, as the SDK's flash driver does around each erase block
/// and each write: no other thread runs meanwhile.
///
/// When interrupts come back, the ticks that were held back run: once the locked sections of
/// a thread have used up its [`TIME_SLICE`], LiteOS's tick handler (`OsTimesliceCheck`) puts
/// it behind the other ready threads of its priority, so every thread that was waiting runs
/// before its next flash operation (threads here all run at the same priority, as the
/// gateway and the OTA thread do). Time outside locked sections is host time, not the
/// chip's, and is not counted: the board gives way later than the chip would, never sooner.
pub fn with_interrupts_locked<R>(f: impl FnOnce() -> R) -> R {
    let me = current_id();
    {
        let mut k = wait_turn();
        k.irq_holder = me;
        k.irq_depth += 1;
    }
    struct Unlock(usize, Instant);
    impl Drop for Unlock {
        fn drop(&mut self) {
            let mut k = kernel();
            k.irq_depth -= 1;
            if k.irq_depth == 0 {
                k.irq_holder = 0;
                if k.slice_owner != self.0 {
                    k.slice_owner = self.0;
                    k.slice_used = Duration::ZERO;
                }
                k.slice_used += self.1.elapsed();
                let holds_scheduler = k.lock_count > 0 && k.lock_holder == self.0;
                if k.slice_used >= TIME_SLICE && !holds_scheduler {
                    k.slice_used = Duration::ZERO;
                    let ready: Vec<usize> = k
                        .waiting
                        .iter()
                        .filter(|(t, fw)| *t != self.0 && !blocked(&k, *t, *fw))
                        .map(|(t, _)| *t)
                        .collect();
                    if !ready.is_empty() {
                        k.yielder = self.0;
                        k.owed = ready;
                    }
                }
                KERNEL_CV.notify_all();
            }
        }
    }
    let _unlock = Unlock(me, Instant::now());
    f()
}

/// Puts the kernel back to "initialised, not started" (what a firmware run begins with:
/// the SDK's `main()` then runs the firmware's entry).
pub fn reset_kernel() {
    let mut k = kernel();
    k.state = KernelState::Ready;
    k.lock_count = 0;
    k.lock_holder = 0;
}

/// `osKernelStart`: the scheduler starts, and with it every thread created so far.
pub fn start_kernel() {
    kernel().state = KernelState::Running;
    KERNEL_CV.notify_all();
}

/// The kernel's state.
pub fn kernel_state() -> KernelState {
    kernel().state
}

/// `osKernelGetState`: ready (1), running (2), or locked (3).
#[export_name = "ws63sim_osKernelGetState"]
pub extern "C" fn osKernelGetState() -> osKernelState_t {
    let k = kernel();
    match (k.state, k.lock_count) {
        (KernelState::Ready, _) => os::osKernelReady,
        (KernelState::Running, 0) => os::osKernelRunning,
        (KernelState::Running, _) => os::osKernelLocked,
    }
}

/// `osKernelLock`: -1 before the kernel runs; 1 (and no new level) when already locked; else
/// locks and returns 0.
#[export_name = "ws63sim_osKernelLock"]
pub extern "C" fn osKernelLock() -> i32 {
    let me = current_id();
    // Checked and taken in one step: no other thread's turn in between.
    let mut k = wait_turn();
    if k.state != KernelState::Running {
        return os::osError;
    }
    if k.lock_count > 0 {
        return 1;
    }
    k.lock_count = 1;
    k.lock_holder = me;
    0
}

fn unlock_one_level(k: &mut Kernel) {
    if k.lock_count > 0 {
        k.lock_count -= 1;
        if k.lock_count == 0 {
            k.lock_holder = 0;
            KERNEL_CV.notify_all();
        }
    }
}

/// `osKernelUnlock`: -1 before the kernel runs; 0 when not locked; else removes one level and
/// returns 1 when that unlocked the scheduler, -1 when it stays locked.
#[export_name = "ws63sim_osKernelUnlock"]
pub extern "C" fn osKernelUnlock() -> i32 {
    let mut k = wait_turn();
    if k.state != KernelState::Running {
        return os::osError;
    }
    if k.lock_count == 0 {
        return 0;
    }
    unlock_one_level(&mut k);
    if k.lock_count == 0 {
        1
    } else {
        os::osError
    }
}

/// `osKernelRestoreLock`: 0 removes one level (0 when unlocked then, -1 when still locked);
/// 1 adds one level, even when already locked, and returns 1; anything else, and any call
/// before the kernel runs, is -1.
#[export_name = "ws63sim_osKernelRestoreLock"]
pub extern "C" fn osKernelRestoreLock(lock: i32) -> i32 {
    let me = current_id();
    // Checked and taken in one step: no other thread's turn in between.
    let mut k = wait_turn();
    if k.state != KernelState::Running {
        return os::osError;
    }
    match lock {
        0 => {
            unlock_one_level(&mut k);
            if k.lock_count == 0 {
                0
            } else {
                os::osError
            }
        }
        1 => {
            k.lock_count += 1;
            k.lock_holder = me;
            1
        }
        _ => os::osError,
    }
}

/// `osKernelGetTickCount`.
#[export_name = "ws63sim_osKernelGetTickCount"]
pub extern "C" fn osKernelGetTickCount() -> u32 {
    gate();
    ticks_now()
}

/// `osKernelGetTickFreq`: 100.
#[export_name = "ws63sim_osKernelGetTickFreq"]
pub extern "C" fn osKernelGetTickFreq() -> u32 {
    TICK_HZ
}

// ---------------------------------------------------------------------------------------------
// Registries

/// A registry of live kernel objects behind opaque handles.
struct Registry<T> {
    next: usize,
    live: BTreeMap<usize, Arc<T>>,
}

impl<T> Registry<T> {
    const fn new() -> Self {
        Self { next: 0, live: BTreeMap::new() }
    }
}

fn insert<T>(r: &Mutex<Registry<T>>, tag: usize, obj: T) -> *mut c_void {
    let mut g = lock(r);
    g.next += 1;
    // Handles look like aligned pointers and never collide across object kinds.
    let h = (g.next << 4) | tag;
    g.live.insert(h, Arc::new(obj));
    h as *mut c_void
}

/// Inserts unless `limit` objects counted by `counts` are alive already.
fn insert_limited<T>(
    r: &Mutex<Registry<T>>,
    tag: usize,
    limit: u32,
    counts: impl Fn(&T) -> bool,
    obj: T,
) -> Option<*mut c_void> {
    let mut g = lock(r);
    if g.live.values().filter(|o| counts(o)).count() as u32 >= limit {
        return None;
    }
    g.next += 1;
    let h = (g.next << 4) | tag;
    g.live.insert(h, Arc::new(obj));
    Some(h as *mut c_void)
}

fn get<T>(r: &Mutex<Registry<T>>, h: *mut c_void) -> Option<Arc<T>> {
    lock(r).live.get(&(h as usize)).cloned()
}

fn remove<T>(r: &Mutex<Registry<T>>, h: *mut c_void) -> Option<Arc<T>> {
    lock(r).live.remove(&(h as usize))
}

// ---------------------------------------------------------------------------------------------
// Threads

/// What the board knows of a thread.
#[derive(Debug)]
pub struct ThreadInfo {
    name: usize,
    /// The stack size LiteOS gave it (rounded up to 16), in bytes; 0 for host threads.
    pub stack_size: u32,
    /// Its CMSIS priority.
    pub priority: osPriority_t,
    /// Made by `osThreadNew` (a task of the firmware), not a host thread that called in.
    pub firmware: bool,
}

impl ThreadInfo {
    /// The thread's name, read through the pointer LiteOS keeps (the creator's string).
    pub fn name(&self) -> String {
        // SAFETY: the pointer came from the creator's attributes (or a static string here),
        // which LiteOS also keeps and the CMSIS caller keeps alive for the thread's life.
        unsafe { CStr::from_ptr(self.name as *const c_char) }.to_string_lossy().into_owned()
    }
}

static THREADS: Mutex<Registry<ThreadInfo>> = Mutex::new(Registry::new());
const TAG_THREAD: usize = 1;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static FIRMWARE: Cell<bool> = const { Cell::new(false) };
}

fn is_firmware_thread() -> bool {
    FIRMWARE.with(Cell::get)
}

/// Every thread created through `osThreadNew` and still running, with its attributes.
pub fn threads() -> Vec<(usize, Arc<ThreadInfo>)> {
    lock(&THREADS).live.iter().filter(|(_, t)| t.firmware).map(|(h, t)| (*h, t.clone())).collect()
}

/// The attributes `osThreadNew` recorded for the calling thread, if it was created by it.
pub fn current_thread() -> Option<Arc<ThreadInfo>> {
    let h = CURRENT.with(Cell::get);
    (h != 0).then(|| get(&THREADS, h as *mut c_void)).flatten().filter(|t| t.firmware)
}

/// The calling thread's kernel handle (host threads that call in are registered on first use,
/// as the kernel knows every task; they do not count against the task limit).
fn current_id() -> usize {
    let h = CURRENT.with(Cell::get);
    if h != 0 {
        return h;
    }
    static HOST_NAME: &CStr = c"host";
    let handle = insert(
        &THREADS,
        TAG_THREAD,
        ThreadInfo {
            name: HOST_NAME.as_ptr() as usize,
            stack_size: 0,
            priority: os::osPriorityNormal,
            firmware: false,
        },
    ) as usize;
    CURRENT.with(|c| c.set(handle));
    handle
}

struct SendPtr(*mut c_void);
// SAFETY: the pointer is handed, untouched, to the thread function, as the CMSIS contract says;
// what it points to is the caller's business, exactly as on the chip.
unsafe impl Send for SendPtr {}

/// `osThreadNew`: a host thread running `func(argument)`, with LiteOS's checks (see the
/// module): NULL for a NULL function, a priority outside 11..=40, a NULL name in attributes,
/// a stack under 1024 bytes, no task left, or no heap for the stack.
#[export_name = "ws63sim_osThreadNew"]
pub extern "C" fn osThreadNew(
    func: osThreadFunc_t,
    argument: *mut c_void,
    attr: *const osThreadAttr_t,
) -> osThreadId_t {
    gate();
    let Some(func) = func else { return std::ptr::null_mut() };
    static UNDEFINED: &CStr = c"undefined";
    // SAFETY: a non-null `attr` points to an osThreadAttr_t (CMSIS contract).
    let (name, stack_size, priority) = match unsafe { attr.as_ref() } {
        None => (UNDEFINED.as_ptr(), DEFAULT_STACK, DEFAULT_PRIORITY),
        Some(a) => (a.name, a.stack_size, a.priority),
    };
    if !(os::osPriorityLow3..=os::osPriorityHigh).contains(&priority) {
        eprintln!(
            "[ws63-sim] osThreadNew Fail, NOT in adapt priority range: [osPriorityLow3 : \
             osPriorityHigh]."
        );
        return std::ptr::null_mut();
    }
    if name.is_null() {
        return std::ptr::null_mut();
    }
    let stack_size = if stack_size == 0 { DEFAULT_STACK } else { stack_size };
    let Some(stack_size) = stack_size.checked_next_multiple_of(16).filter(|s| *s >= MIN_STACK)
    else {
        return std::ptr::null_mut();
    };
    if faults::take_thread_create_failure() {
        return std::ptr::null_mut();
    }
    let info = ThreadInfo { name: name as usize, stack_size, priority, firmware: true };
    let Some(handle) =
        insert_limited(&THREADS, TAG_THREAD, FIRMWARE_LIMITS.tasks, |t| t.firmware, info)
    else {
        return std::ptr::null_mut();
    };
    let stack_charge = heap::charge_of(stack_size as usize, 16);
    if !heap::charge(stack_charge) {
        remove(&THREADS, handle);
        return std::ptr::null_mut();
    }
    let h = handle as usize;
    let arg = SendPtr(argument);
    // SAFETY: the name is a NUL-terminated string the caller keeps (CMSIS contract).
    let host_name = unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned();
    let spawned = std::thread::Builder::new()
        .name(host_name)
        .stack_size((stack_size as usize).max(HOST_MIN_STACK))
        .spawn(move || {
            let arg = arg;
            CURRENT.with(|c| c.set(h));
            FIRMWARE.with(|f| f.set(true));
            gate();
            watchdog::thread_started();
            // SAFETY: `func` and `argument` come from the osThreadNew caller, who guarantees
            // that `func(argument)` is a valid call (CMSIS contract).
            unsafe { func(arg.0) };
            watchdog::thread_ended();
            // OsTaskEntry: a task that returns clears the scheduler lock, then is deleted.
            {
                let mut k = kernel();
                if k.lock_count > 0 && k.lock_holder == h {
                    k.lock_count = 0;
                    k.lock_holder = 0;
                    KERNEL_CV.notify_all();
                }
            }
            remove(&THREADS, h as *mut c_void);
            heap::uncharge(stack_charge);
        });
    match spawned {
        Ok(_) => handle,
        Err(_) => {
            remove(&THREADS, handle);
            heap::uncharge(stack_charge);
            std::ptr::null_mut()
        }
    }
}

/// `osThreadGetId`: the calling thread.
#[export_name = "ws63sim_osThreadGetId"]
pub extern "C" fn osThreadGetId() -> osThreadId_t {
    current_id() as osThreadId_t
}

/// `osThreadGetName`: the name pointer the thread was created with, or NULL for an unknown
/// thread.
#[export_name = "ws63sim_osThreadGetName"]
pub extern "C" fn osThreadGetName(thread_id: osThreadId_t) -> *const c_char {
    gate();
    get(&THREADS, thread_id).map_or(std::ptr::null(), |t| t.name as *const c_char)
}

/// `osThreadYield`: -1 while the scheduler is locked. (LiteOS also answers -1 when no other
/// thread of the same priority is ready; the board cannot tell, and answers 0.)
#[export_name = "ws63sim_osThreadYield"]
pub extern "C" fn osThreadYield() -> osStatus_t {
    gate();
    if locked_by_me() {
        return os::osError;
    }
    std::thread::yield_now();
    os::osOK
}

/// `osDelay`: sleeps `ticks` ticks of 10 ms; 0 is -4; -1 at once while the scheduler is
/// locked.
#[export_name = "ws63sim_osDelay"]
pub extern "C" fn osDelay(ticks: u32) -> osStatus_t {
    if ticks == 0 {
        return os::osErrorParameter;
    }
    gate();
    if locked_by_me() {
        return os::osError;
    }
    let _waiting = watchdog::Waiting::new();
    std::thread::sleep(ticks_to_duration(ticks));
    os::osOK
}

// ---------------------------------------------------------------------------------------------
// Waiting with a CMSIS timeout

/// Waits on `cv` until `ready` holds, for `timeout` ticks (0: not at all, `osWaitForever`:
/// without limit). `Err` carries the CMSIS status: `osErrorResource` when `timeout` is 0 or
/// the scheduler is locked by the caller, `osErrorTimeout` when the time ran out.
fn wait_for<'a, T>(
    mut g: MutexGuard<'a, T>,
    cv: &Condvar,
    timeout: u32,
    mut ready: impl FnMut(&T) -> bool,
) -> Result<MutexGuard<'a, T>, osStatus_t> {
    if ready(&g) {
        return Ok(g);
    }
    if timeout == 0 || locked_by_me() {
        return Err(os::osErrorResource);
    }
    let _waiting = watchdog::Waiting::new();
    let deadline =
        (timeout != os::osWaitForever).then(|| Instant::now() + ticks_to_duration(timeout));
    loop {
        g = match deadline {
            None => cv.wait(g).unwrap_or_else(|p| p.into_inner()),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(os::osErrorTimeout);
                }
                cv.wait_timeout(g, d - now).unwrap_or_else(|p| p.into_inner()).0
            }
        };
        if ready(&g) {
            return Ok(g);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mutexes

struct SimMutex {
    /// (owner thread handle, lock count)
    state: Mutex<(usize, u32)>,
    cv: Condvar,
}

static MUTEXES: Mutex<Registry<SimMutex>> = Mutex::new(Registry::new());
const TAG_MUTEX: usize = 2;

/// `osMutexNew`: the attributes are ignored (every LiteOS mutex is recursive); NULL when the
/// firmware's share of the 60 mutexes is used up.
#[export_name = "ws63sim_osMutexNew"]
pub extern "C" fn osMutexNew(_attr: *const osMutexAttr_t) -> osMutexId_t {
    gate();
    let m = SimMutex { state: Mutex::new((0, 0)), cv: Condvar::new() };
    insert_limited(&MUTEXES, TAG_MUTEX, FIRMWARE_LIMITS.mutexes, |_| true, m)
        .unwrap_or(std::ptr::null_mut())
}

/// `osMutexAcquire`: the owner's relock counts and succeeds; a mutex held by another thread
/// is -3 with timeout 0 or while the scheduler is locked, -2 when the wait times out.
#[export_name = "ws63sim_osMutexAcquire"]
pub extern "C" fn osMutexAcquire(mutex_id: osMutexId_t, timeout: u32) -> osStatus_t {
    gate();
    let Some(m) = get(&MUTEXES, mutex_id) else { return os::osErrorParameter };
    let me = current_id();
    let mut g = lock(&m.state);
    if g.0 == me && g.1 > 0 {
        g.1 += 1;
        return os::osOK;
    }
    let status = match wait_for(g, &m.cv, timeout, |s| s.1 == 0) {
        Ok(mut g) => {
            *g = (me, 1);
            os::osOK
        }
        Err(e) => e,
    };
    status
}

/// `osMutexRelease`: -4 from a thread that does not own it (or of an unlocked mutex).
#[export_name = "ws63sim_osMutexRelease"]
pub extern "C" fn osMutexRelease(mutex_id: osMutexId_t) -> osStatus_t {
    gate();
    let Some(m) = get(&MUTEXES, mutex_id) else { return os::osErrorParameter };
    let me = current_id();
    let mut g = lock(&m.state);
    if g.1 == 0 || g.0 != me {
        return os::osErrorParameter;
    }
    g.1 -= 1;
    if g.1 == 0 {
        g.0 = 0;
        m.cv.notify_one();
    }
    os::osOK
}

/// `osMutexDelete`: -3 (and the mutex stays) while it is locked.
#[export_name = "ws63sim_osMutexDelete"]
pub extern "C" fn osMutexDelete(mutex_id: osMutexId_t) -> osStatus_t {
    gate();
    let Some(m) = get(&MUTEXES, mutex_id) else { return os::osErrorParameter };
    if lock(&m.state).1 > 0 {
        return os::osErrorResource;
    }
    remove(&MUTEXES, mutex_id).map_or(os::osErrorParameter, |_| os::osOK)
}

// ---------------------------------------------------------------------------------------------
// Semaphores

/// The cap of a LiteOS counting semaphore (`OS_SEM_COUNT_MAX`).
pub const SEM_COUNT_MAX: u32 = 0xFFFE;

struct SimSemaphore {
    max: u32,
    count: Mutex<u32>,
    cv: Condvar,
}

static SEMAPHORES: Mutex<Registry<SimSemaphore>> = Mutex::new(Registry::new());
const TAG_SEMAPHORE: usize = 3;

/// `osSemaphoreNew`: `max_count` 1 makes a binary semaphore, any other (0 included) a counting
/// one capped at 0xFFFE; NULL for `initial_count > max_count`, `max_count > 0xFFFE`, or when
/// the firmware's share of the 32 semaphores is used up.
#[export_name = "ws63sim_osSemaphoreNew"]
pub extern "C" fn osSemaphoreNew(
    max_count: u32,
    initial_count: u32,
    _attr: *const osSemaphoreAttr_t,
) -> osSemaphoreId_t {
    gate();
    if initial_count > max_count || max_count > SEM_COUNT_MAX {
        return std::ptr::null_mut();
    }
    let max = if max_count == 1 { 1 } else { SEM_COUNT_MAX };
    let s = SimSemaphore { max, count: Mutex::new(initial_count), cv: Condvar::new() };
    insert_limited(&SEMAPHORES, TAG_SEMAPHORE, FIRMWARE_LIMITS.semaphores, |_| true, s)
        .unwrap_or(std::ptr::null_mut())
}

/// `osSemaphoreAcquire`: always -3 while the caller holds the scheduler lock (LiteOS checks
/// the lock before the count).
#[export_name = "ws63sim_osSemaphoreAcquire"]
pub extern "C" fn osSemaphoreAcquire(semaphore_id: osSemaphoreId_t, timeout: u32) -> osStatus_t {
    gate();
    let Some(s) = get(&SEMAPHORES, semaphore_id) else { return os::osErrorParameter };
    if locked_by_me() {
        return os::osErrorResource;
    }
    let status = match wait_for(lock(&s.count), &s.cv, timeout, |c| *c > 0) {
        Ok(mut c) => {
            *c -= 1;
            os::osOK
        }
        Err(e) => e,
    };
    status
}

/// `osSemaphoreRelease`: -3 when the count is at the semaphore's cap (1 for a binary one,
/// 0xFFFE otherwise).
#[export_name = "ws63sim_osSemaphoreRelease"]
pub extern "C" fn osSemaphoreRelease(semaphore_id: osSemaphoreId_t) -> osStatus_t {
    gate();
    let Some(s) = get(&SEMAPHORES, semaphore_id) else { return os::osErrorParameter };
    let mut c = lock(&s.count);
    if *c >= s.max {
        return os::osErrorResource;
    }
    *c += 1;
    s.cv.notify_one();
    os::osOK
}

/// `osSemaphoreGetCount`: 0 for an unknown semaphore.
#[export_name = "ws63sim_osSemaphoreGetCount"]
pub extern "C" fn osSemaphoreGetCount(semaphore_id: osSemaphoreId_t) -> u32 {
    gate();
    get(&SEMAPHORES, semaphore_id).map_or(0, |s| *lock(&s.count))
}

/// `osSemaphoreDelete`.
#[export_name = "ws63sim_osSemaphoreDelete"]
pub extern "C" fn osSemaphoreDelete(semaphore_id: osSemaphoreId_t) -> osStatus_t {
    gate();
    remove(&SEMAPHORES, semaphore_id).map_or(os::osErrorParameter, |_| os::osOK)
}

// ---------------------------------------------------------------------------------------------
// Message queues

struct SimQueue {
    capacity: usize,
    msg_size: usize,
    charge: usize,
    msgs: Mutex<VecDeque<Vec<u8>>>,
    cv: Condvar,
}

static QUEUES: Mutex<Registry<SimQueue>> = Mutex::new(Registry::new());
const TAG_QUEUE: usize = 4;

/// `osMessageQueueNew`: NULL for a count or size of 0 or of 65536 and more, when the heap has
/// no room for the buffer, or when the firmware's share of the 16 queues is used up.
#[export_name = "ws63sim_osMessageQueueNew"]
pub extern "C" fn osMessageQueueNew(
    msg_count: u32,
    msg_size: u32,
    _attr: *const osMessageQueueAttr_t,
) -> osMessageQueueId_t {
    gate();
    if msg_count == 0 || msg_size == 0 || msg_count >= 0x1_0000 || msg_size >= 0x1_0000 {
        return std::ptr::null_mut();
    }
    let charge = heap::charge_of(msg_count as usize * (msg_size as usize + 4), 4);
    if !heap::charge(charge) {
        return std::ptr::null_mut();
    }
    let q = SimQueue {
        capacity: msg_count as usize,
        msg_size: msg_size as usize,
        charge,
        msgs: Mutex::new(VecDeque::new()),
        cv: Condvar::new(),
    };
    match insert_limited(&QUEUES, TAG_QUEUE, FIRMWARE_LIMITS.queues, |_| true, q) {
        Some(h) => h,
        None => {
            heap::uncharge(charge);
            std::ptr::null_mut()
        }
    }
}

/// `osMessageQueuePut`: copies `msg_size` bytes from `msg_ptr`; waits while full (-3 at once
/// with timeout 0 or under the scheduler lock).
#[export_name = "ws63sim_osMessageQueuePut"]
pub extern "C" fn osMessageQueuePut(
    mq_id: osMessageQueueId_t,
    msg_ptr: *const c_void,
    _msg_prio: u8,
    timeout: u32,
) -> osStatus_t {
    gate();
    let Some(q) = get(&QUEUES, mq_id) else { return os::osErrorParameter };
    if msg_ptr.is_null() {
        return os::osErrorParameter;
    }
    // SAFETY: the caller provides `msg_size` readable bytes at `msg_ptr` (CMSIS contract).
    let msg = unsafe { std::slice::from_raw_parts(msg_ptr.cast::<u8>(), q.msg_size) }.to_vec();
    let status = match wait_for(lock(&q.msgs), &q.cv, timeout, |m| m.len() < q.capacity) {
        Ok(mut m) => {
            m.push_back(msg);
            q.cv.notify_all();
            os::osOK
        }
        Err(e) => e,
    };
    status
}

/// `osMessageQueueGet`: copies the oldest message to `msg_ptr`; waits while empty (-3 at once
/// with timeout 0 or under the scheduler lock).
#[export_name = "ws63sim_osMessageQueueGet"]
pub extern "C" fn osMessageQueueGet(
    mq_id: osMessageQueueId_t,
    msg_ptr: *mut c_void,
    msg_prio: *mut u8,
    timeout: u32,
) -> osStatus_t {
    gate();
    let Some(q) = get(&QUEUES, mq_id) else { return os::osErrorParameter };
    if msg_ptr.is_null() {
        return os::osErrorParameter;
    }
    let status = match wait_for(lock(&q.msgs), &q.cv, timeout, |m| !m.is_empty()) {
        Ok(mut m) => {
            let msg = m.pop_front().expect("waited for a message");
            q.cv.notify_all();
            drop(m);
            // SAFETY: the caller provides `msg_size` writable bytes at `msg_ptr`, and a
            // writable byte at a non-null `msg_prio` (CMSIS contract).
            unsafe {
                std::ptr::copy_nonoverlapping(msg.as_ptr(), msg_ptr.cast::<u8>(), msg.len());
                if let Some(p) = msg_prio.as_mut() {
                    *p = 0;
                }
            }
            os::osOK
        }
        Err(e) => e,
    };
    status
}

/// `osMessageQueueGetCount`: 0 for an unknown queue.
#[export_name = "ws63sim_osMessageQueueGetCount"]
pub extern "C" fn osMessageQueueGetCount(mq_id: osMessageQueueId_t) -> u32 {
    gate();
    get(&QUEUES, mq_id).map_or(0, |q| lock(&q.msgs).len() as u32)
}

/// `osMessageQueueDelete`: frees the buffer.
#[export_name = "ws63sim_osMessageQueueDelete"]
pub extern "C" fn osMessageQueueDelete(mq_id: osMessageQueueId_t) -> osStatus_t {
    gate();
    match remove(&QUEUES, mq_id) {
        Some(q) => {
            heap::uncharge(q.charge);
            os::osOK
        }
        None => os::osErrorParameter,
    }
}

/// Kernel objects alive now (threads counted are the firmware's).
pub fn in_use() -> Limits {
    Limits {
        tasks: lock(&THREADS).live.values().filter(|t| t.firmware).count() as u32,
        queues: lock(&QUEUES).live.len() as u32,
        mutexes: lock(&MUTEXES).live.len() as u32,
        semaphores: lock(&SEMAPHORES).live.len() as u32,
    }
}

// ---------------------------------------------------------------------------------------------
// The watchdog

pub mod watchdog {
    //! The app's watchdog: 15 s, fed only by LiteOS's idle task (`main.c` of
    //! `ws63-liteos-app`), which runs only when no other task is ready. Firmware threads run
    //! at normal priority, above idle (and above the WiFi host task), so a firmware thread
    //! that keeps the CPU for 15 s resets the chip.
    //!
    //! The board counts the firmware threads that could run: a thread counts from its start
    //! to its end, except while it waits inside a kernel or SDK call that blocks (a delay, a
    //! wait on a mutex, semaphore or queue, a socket waiting for the network). When none
    //! counts, idle runs and feeds the watchdog; `upg_watchdog_kick` (which the upgrade
    //! writes call) feeds it too ([`feed`]). Work the SDK does on the CPU (the flash driver's
    //! erases and writes) counts as running, as on the chip. [`longest_busy`] is the longest
    //! stretch without a feed; with [`arm`], a stretch of the period resets the board.

    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// The app's watchdog period.
    pub const APP_PERIOD: Duration = Duration::from_secs(15);

    struct State {
        runnable: u32,
        busy_since: Option<Instant>,
        longest: Duration,
    }

    static STATE: Mutex<State> =
        Mutex::new(State { runnable: 0, busy_since: None, longest: Duration::ZERO });
    static ARMED: AtomicBool = AtomicBool::new(false);

    fn state() -> std::sync::MutexGuard<'static, State> {
        STATE.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn more() {
        let mut s = state();
        if s.runnable == 0 {
            s.busy_since = Some(Instant::now());
        }
        s.runnable += 1;
    }

    fn fewer() {
        let mut s = state();
        s.runnable = s.runnable.saturating_sub(1);
        if s.runnable == 0 {
            if let Some(t) = s.busy_since.take() {
                s.longest = s.longest.max(t.elapsed());
            }
        }
    }

    pub(crate) fn thread_started() {
        more();
    }

    pub(crate) fn thread_ended() {
        fewer();
    }

    /// A firmware thread waiting inside a blocking call (no effect on other threads).
    pub(crate) struct Waiting(bool);

    impl Waiting {
        pub(crate) fn new() -> Self {
            let fw = super::is_firmware_thread();
            if fw {
                fewer();
            }
            Self(fw)
        }
    }

    impl Drop for Waiting {
        fn drop(&mut self) {
            if self.0 {
                more();
            }
        }
    }

    /// The longest time so far in which some firmware thread could run and idle never did.
    pub fn longest_busy() -> Duration {
        let s = state();
        let now = s.busy_since.map_or(Duration::ZERO, |t| t.elapsed());
        s.longest.max(now)
    }

    /// The watchdog is fed directly (the SDK's `upg_watchdog_kick` does, as the upgrade
    /// writes call it): the stretch without a feed starts again.
    pub fn feed() {
        let mut s = state();
        if let Some(t) = s.busy_since {
            s.longest = s.longest.max(t.elapsed());
            s.busy_since = Some(Instant::now());
        }
    }

    /// Starts over: the longest stretch is forgotten.
    pub fn reset_longest() {
        let mut s = state();
        s.longest = Duration::ZERO;
        if s.busy_since.is_some() {
            s.busy_since = Some(Instant::now());
        }
    }

    /// Arms the watchdog: once the firmware threads keep idle out for `period`, `expired`
    /// runs (the board resets; see [`crate::board`]).
    pub fn arm(period: Duration, expired: fn(Duration) -> !) {
        if ARMED.swap(true, SeqCst) {
            return;
        }
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(50));
            let busy = {
                let s = state();
                s.busy_since.map_or(Duration::ZERO, |t| t.elapsed())
            };
            if busy >= period {
                expired(busy);
            }
        });
    }
}

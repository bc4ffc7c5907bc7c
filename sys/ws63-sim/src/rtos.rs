//! CMSIS-RTOS2 on host threads, with the chip's 100 Hz tick.
//!
//! Threads are `std::thread`s (named as asked; the stack is the larger of the asked size and
//! [`HOST_MIN_STACK`], since host code built without `-Os` needs more); mutexes, semaphores and
//! message queues are built on `std::sync`. Handles are opaque numbers looked up in a registry,
//! so a stale or foreign handle gets `osErrorParameter` (or NULL) instead of undefined
//! behaviour. Status codes for bad arguments follow the CMSIS-RTOS2 API reference.
//!
//! Deviations, all documented in the README: message priorities are accepted but the queue is
//! FIFO; there is no ISR context; `cb_mem`/`stack_mem` in attributes are ignored (the host
//! allocates).

#![allow(non_snake_case)]

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cmsis_rtos2_sys as os;
use os::{
    osKernelState_t, osMessageQueueAttr_t, osMessageQueueId_t, osMutexAttr_t, osMutexId_t,
    osPriority_t, osSemaphoreAttr_t, osSemaphoreId_t, osStatus_t, osThreadAttr_t, osThreadFunc_t,
    osThreadId_t,
};

use crate::faults;

/// The chip's tick rate (`LOSCFG_BASE_CORE_TICK_PER_SECOND`).
pub const TICK_HZ: u32 = 100;

/// The least stack a simulated thread gets on the host.
pub const HOST_MIN_STACK: usize = 256 * 1024;

/// Stack size LiteOS gives a thread whose attributes ask for 0.
pub const DEFAULT_STACK: u32 = 0x1000;

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

fn reg_lock<T>(r: &Mutex<Registry<T>>) -> MutexGuard<'_, Registry<T>> {
    r.lock().unwrap_or_else(|p| p.into_inner())
}

fn insert<T>(r: &Mutex<Registry<T>>, tag: usize, obj: T) -> *mut c_void {
    let mut g = reg_lock(r);
    g.next += 1;
    // Handles look like aligned pointers and never collide across object kinds.
    let h = (g.next << 4) | tag;
    g.live.insert(h, Arc::new(obj));
    h as *mut c_void
}

fn get<T>(r: &Mutex<Registry<T>>, h: *mut c_void) -> Option<Arc<T>> {
    reg_lock(r).live.get(&(h as usize)).cloned()
}

fn remove<T>(r: &Mutex<Registry<T>>, h: *mut c_void) -> Option<Arc<T>> {
    reg_lock(r).live.remove(&(h as usize))
}

// ---------------------------------------------------------------------------------------------
// Threads

/// What the board knows of a thread.
#[derive(Debug)]
pub struct ThreadInfo {
    /// The name asked for (or the host thread's).
    pub name: &'static CStr,
    /// The stack size asked for, in bytes.
    pub stack_size: u32,
    /// The priority asked for.
    pub priority: osPriority_t,
}

static THREADS: Mutex<Registry<ThreadInfo>> = Mutex::new(Registry::new());
const TAG_THREAD: usize = 1;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// Every thread created through `osThreadNew` and still running, with its attributes.
pub fn threads() -> Vec<(usize, Arc<ThreadInfo>)> {
    reg_lock(&THREADS).live.iter().map(|(h, t)| (*h, t.clone())).collect()
}

/// The attributes `osThreadNew` recorded for the calling thread, if it was created by it.
pub fn current_thread() -> Option<Arc<ThreadInfo>> {
    let h = CURRENT.with(Cell::get);
    (h != 0).then(|| get(&THREADS, h as *mut c_void)).flatten()
}

fn leak_name(name: &[u8]) -> &'static CStr {
    let clean: Vec<u8> = name.iter().copied().filter(|b| *b != 0).collect();
    Box::leak(CString::new(clean).unwrap_or_default().into_boxed_c_str())
}

struct SendPtr(*mut c_void);
// SAFETY: the pointer is handed, untouched, to the thread function, as the CMSIS contract says;
// what it points to is the caller's business, exactly as on the chip.
unsafe impl Send for SendPtr {}

/// `osThreadNew`: a host thread running `func(argument)`.
#[export_name = "ws63sim_osThreadNew"]
pub extern "C" fn osThreadNew(
    func: osThreadFunc_t,
    argument: *mut c_void,
    attr: *const osThreadAttr_t,
) -> osThreadId_t {
    let Some(func) = func else { return std::ptr::null_mut() };
    // SAFETY: a non-null `attr` points to an osThreadAttr_t (CMSIS contract).
    let attr = unsafe { attr.as_ref() };
    let name = match attr.map(|a| a.name).filter(|n| !n.is_null()) {
        // SAFETY: a non-null name is a NUL-terminated string (CMSIS contract).
        Some(n) => leak_name(unsafe { CStr::from_ptr(n) }.to_bytes()),
        None => leak_name(b"thread"),
    };
    let stack_size = attr.map_or(0, |a| a.stack_size);
    let stack_size = if stack_size == 0 { DEFAULT_STACK } else { stack_size };
    let priority = attr.map_or(os::osPriorityNone, |a| a.priority);
    let priority = if priority == os::osPriorityNone { os::osPriorityNormal } else { priority };
    if !(os::osPriorityIdle..=os::osPriorityISR).contains(&priority) {
        return std::ptr::null_mut();
    }
    if faults::take_thread_create_failure() {
        return std::ptr::null_mut();
    }
    let handle = insert(&THREADS, TAG_THREAD, ThreadInfo { name, stack_size, priority });
    let h = handle as usize;
    let arg = SendPtr(argument);
    let spawned = std::thread::Builder::new()
        .name(name.to_string_lossy().into_owned())
        .stack_size((stack_size as usize).max(HOST_MIN_STACK))
        .spawn(move || {
            let arg = arg;
            CURRENT.with(|c| c.set(h));
            // SAFETY: `func` and `argument` come from the osThreadNew caller, who guarantees
            // that `func(argument)` is a valid call (CMSIS contract).
            unsafe { func(arg.0) };
            remove(&THREADS, h as *mut c_void);
        });
    match spawned {
        Ok(_) => handle,
        Err(_) => {
            remove(&THREADS, handle);
            std::ptr::null_mut()
        }
    }
}

/// `osThreadGetId`: the calling thread (threads not made by `osThreadNew` are registered on
/// first use, as the kernel knows every task).
#[export_name = "ws63sim_osThreadGetId"]
pub extern "C" fn osThreadGetId() -> osThreadId_t {
    let h = CURRENT.with(Cell::get);
    if h != 0 {
        return h as osThreadId_t;
    }
    let t = std::thread::current();
    let name = leak_name(t.name().unwrap_or("host").as_bytes());
    let handle = insert(
        &THREADS,
        TAG_THREAD,
        ThreadInfo { name, stack_size: 0, priority: os::osPriorityNormal },
    );
    CURRENT.with(|c| c.set(handle as usize));
    handle
}

/// `osThreadGetName`: the name, or NULL for an unknown thread.
#[export_name = "ws63sim_osThreadGetName"]
pub extern "C" fn osThreadGetName(thread_id: osThreadId_t) -> *const c_char {
    get(&THREADS, thread_id).map_or(std::ptr::null(), |t| t.name.as_ptr())
}

/// `osThreadYield`.
#[export_name = "ws63sim_osThreadYield"]
pub extern "C" fn osThreadYield() -> osStatus_t {
    std::thread::yield_now();
    os::osOK
}

/// `osDelay`: sleeps `ticks` ticks of 10 ms; 0 is `osErrorParameter`.
#[export_name = "ws63sim_osDelay"]
pub extern "C" fn osDelay(ticks: u32) -> osStatus_t {
    if ticks == 0 {
        return os::osErrorParameter;
    }
    std::thread::sleep(ticks_to_duration(ticks));
    os::osOK
}

/// `osKernelGetState`: the kernel is running once firmware code runs.
#[export_name = "ws63sim_osKernelGetState"]
pub extern "C" fn osKernelGetState() -> osKernelState_t {
    os::osKernelRunning
}

/// The scheduler lock: (holding thread, depth). The host cannot stop its scheduler, so the
/// simulator makes the lock exclusive among the threads that take it: enough for the critical
/// sections the firmware builds on it, which is all it is used for.
static KERNEL_LOCK: Mutex<(usize, i32)> = Mutex::new((0, 0));
static KERNEL_LOCK_CV: Condvar = Condvar::new();

fn kernel_lock_set(locked: bool) -> i32 {
    let me = osThreadGetId() as usize;
    let mut g = lock(&KERNEL_LOCK);
    while g.1 > 0 && g.0 != me {
        g = KERNEL_LOCK_CV.wait(g).unwrap_or_else(|p| p.into_inner());
    }
    let was = i32::from(g.1 > 0);
    if locked {
        *g = (me, 1);
    } else {
        *g = (0, 0);
        KERNEL_LOCK_CV.notify_all();
    }
    was
}

/// `osKernelLock`: returns the previous lock state (0 or 1).
#[export_name = "ws63sim_osKernelLock"]
pub extern "C" fn osKernelLock() -> i32 {
    kernel_lock_set(true)
}

/// `osKernelUnlock`: returns the previous lock state.
#[export_name = "ws63sim_osKernelUnlock"]
pub extern "C" fn osKernelUnlock() -> i32 {
    kernel_lock_set(false)
}

/// `osKernelRestoreLock`: sets the lock state to `lock` (0 or 1), returns the new state;
/// `osErrorParameter` for other values.
#[export_name = "ws63sim_osKernelRestoreLock"]
pub extern "C" fn osKernelRestoreLock(lock: i32) -> i32 {
    match lock {
        0 | 1 => {
            kernel_lock_set(lock == 1);
            lock
        }
        _ => os::osErrorParameter,
    }
}

/// `osKernelGetTickCount`.
#[export_name = "ws63sim_osKernelGetTickCount"]
pub extern "C" fn osKernelGetTickCount() -> u32 {
    ticks_now()
}

/// `osKernelGetTickFreq`: 100.
#[export_name = "ws63sim_osKernelGetTickFreq"]
pub extern "C" fn osKernelGetTickFreq() -> u32 {
    TICK_HZ
}

// ---------------------------------------------------------------------------------------------
// Waiting with a CMSIS timeout

/// Waits on `cv` until `ready` holds, for `timeout` ticks (0: not at all, `osWaitForever`:
/// without limit). `Err` carries the CMSIS status: `osErrorResource` when `timeout` is 0,
/// `osErrorTimeout` when the time ran out.
fn wait_for<'a, T>(
    mut g: MutexGuard<'a, T>,
    cv: &Condvar,
    timeout: u32,
    mut ready: impl FnMut(&T) -> bool,
) -> Result<MutexGuard<'a, T>, osStatus_t> {
    if ready(&g) {
        return Ok(g);
    }
    if timeout == 0 {
        return Err(os::osErrorResource);
    }
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Mutexes

struct SimMutex {
    recursive: bool,
    /// (owner thread handle, lock count)
    state: Mutex<(usize, u32)>,
    cv: Condvar,
}

static MUTEXES: Mutex<Registry<SimMutex>> = Mutex::new(Registry::new());
const TAG_MUTEX: usize = 2;

/// `osMutexNew`: honours `osMutexRecursive`.
#[export_name = "ws63sim_osMutexNew"]
pub extern "C" fn osMutexNew(attr: *const osMutexAttr_t) -> osMutexId_t {
    // SAFETY: a non-null `attr` points to an osMutexAttr_t (CMSIS contract).
    let bits = unsafe { attr.as_ref() }.map_or(0, |a| a.attr_bits);
    let m = SimMutex {
        recursive: bits & os::osMutexRecursive != 0,
        state: Mutex::new((0, 0)),
        cv: Condvar::new(),
    };
    insert(&MUTEXES, TAG_MUTEX, m)
}

/// `osMutexAcquire`.
#[export_name = "ws63sim_osMutexAcquire"]
pub extern "C" fn osMutexAcquire(mutex_id: osMutexId_t, timeout: u32) -> osStatus_t {
    let Some(m) = get(&MUTEXES, mutex_id) else { return os::osErrorParameter };
    let me = osThreadGetId() as usize;
    let g = lock(&m.state);
    if g.0 == me && g.1 > 0 {
        if !m.recursive {
            return os::osErrorResource;
        }
        let mut g = g;
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

/// `osMutexRelease`: only the owner may release.
#[export_name = "ws63sim_osMutexRelease"]
pub extern "C" fn osMutexRelease(mutex_id: osMutexId_t) -> osStatus_t {
    let Some(m) = get(&MUTEXES, mutex_id) else { return os::osErrorParameter };
    let me = osThreadGetId() as usize;
    let mut g = lock(&m.state);
    if g.1 == 0 || g.0 != me {
        return os::osErrorResource;
    }
    g.1 -= 1;
    if g.1 == 0 {
        g.0 = 0;
        m.cv.notify_one();
    }
    os::osOK
}

/// `osMutexDelete`.
#[export_name = "ws63sim_osMutexDelete"]
pub extern "C" fn osMutexDelete(mutex_id: osMutexId_t) -> osStatus_t {
    remove(&MUTEXES, mutex_id).map_or(os::osErrorParameter, |_| os::osOK)
}

// ---------------------------------------------------------------------------------------------
// Semaphores

struct SimSemaphore {
    max: u32,
    count: Mutex<u32>,
    cv: Condvar,
}

static SEMAPHORES: Mutex<Registry<SimSemaphore>> = Mutex::new(Registry::new());
const TAG_SEMAPHORE: usize = 3;

/// `osSemaphoreNew`: NULL for `max_count` 0 or `initial_count > max_count`.
#[export_name = "ws63sim_osSemaphoreNew"]
pub extern "C" fn osSemaphoreNew(
    max_count: u32,
    initial_count: u32,
    _attr: *const osSemaphoreAttr_t,
) -> osSemaphoreId_t {
    if max_count == 0 || initial_count > max_count {
        return std::ptr::null_mut();
    }
    let s = SimSemaphore { max: max_count, count: Mutex::new(initial_count), cv: Condvar::new() };
    insert(&SEMAPHORES, TAG_SEMAPHORE, s)
}

/// `osSemaphoreAcquire`.
#[export_name = "ws63sim_osSemaphoreAcquire"]
pub extern "C" fn osSemaphoreAcquire(semaphore_id: osSemaphoreId_t, timeout: u32) -> osStatus_t {
    let Some(s) = get(&SEMAPHORES, semaphore_id) else { return os::osErrorParameter };
    let status = match wait_for(lock(&s.count), &s.cv, timeout, |c| *c > 0) {
        Ok(mut c) => {
            *c -= 1;
            os::osOK
        }
        Err(e) => e,
    };
    status
}

/// `osSemaphoreRelease`: `osErrorResource` when the count is already at its maximum.
#[export_name = "ws63sim_osSemaphoreRelease"]
pub extern "C" fn osSemaphoreRelease(semaphore_id: osSemaphoreId_t) -> osStatus_t {
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
    get(&SEMAPHORES, semaphore_id).map_or(0, |s| *lock(&s.count))
}

/// `osSemaphoreDelete`.
#[export_name = "ws63sim_osSemaphoreDelete"]
pub extern "C" fn osSemaphoreDelete(semaphore_id: osSemaphoreId_t) -> osStatus_t {
    remove(&SEMAPHORES, semaphore_id).map_or(os::osErrorParameter, |_| os::osOK)
}

// ---------------------------------------------------------------------------------------------
// Message queues

struct SimQueue {
    capacity: usize,
    msg_size: usize,
    msgs: Mutex<VecDeque<Vec<u8>>>,
    cv: Condvar,
}

static QUEUES: Mutex<Registry<SimQueue>> = Mutex::new(Registry::new());
const TAG_QUEUE: usize = 4;

/// `osMessageQueueNew`: NULL for a zero count or size.
#[export_name = "ws63sim_osMessageQueueNew"]
pub extern "C" fn osMessageQueueNew(
    msg_count: u32,
    msg_size: u32,
    _attr: *const osMessageQueueAttr_t,
) -> osMessageQueueId_t {
    if msg_count == 0 || msg_size == 0 {
        return std::ptr::null_mut();
    }
    let q = SimQueue {
        capacity: msg_count as usize,
        msg_size: msg_size as usize,
        msgs: Mutex::new(VecDeque::new()),
        cv: Condvar::new(),
    };
    insert(&QUEUES, TAG_QUEUE, q)
}

/// `osMessageQueuePut`: copies `msg_size` bytes from `msg_ptr`; waits while full.
#[export_name = "ws63sim_osMessageQueuePut"]
pub extern "C" fn osMessageQueuePut(
    mq_id: osMessageQueueId_t,
    msg_ptr: *const c_void,
    _msg_prio: u8,
    timeout: u32,
) -> osStatus_t {
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

/// `osMessageQueueGet`: copies the oldest message to `msg_ptr`; waits while empty.
#[export_name = "ws63sim_osMessageQueueGet"]
pub extern "C" fn osMessageQueueGet(
    mq_id: osMessageQueueId_t,
    msg_ptr: *mut c_void,
    msg_prio: *mut u8,
    timeout: u32,
) -> osStatus_t {
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
    get(&QUEUES, mq_id).map_or(0, |q| lock(&q.msgs).len() as u32)
}

/// `osMessageQueueDelete`.
#[export_name = "ws63sim_osMessageQueueDelete"]
pub extern "C" fn osMessageQueueDelete(mq_id: osMessageQueueId_t) -> osStatus_t {
    remove(&QUEUES, mq_id).map_or(os::osErrorParameter, |_| os::osOK)
}

//! The kernel's start and its scheduler lock, exactly as LiteOS's CMSIS layer has them
//! (`libcmsis.a` / `libbase.a` of the SDK, disassembled). One test in its own process: it
//! takes the kernel back to "not started".

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cmsis_rtos2_sys as os;
use ws63_sim::rtos;

static RAN: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_ran(_: *mut c_void) {
    RAN.store(true, SeqCst);
}

static OTHER_DONE: AtomicU32 = AtomicU32::new(0);

extern "C" fn other_thread(_: *mut c_void) {
    // A kernel call from another thread: on the chip this thread would not run while the
    // scheduler is locked; here it waits at the door until the lock is gone.
    // SAFETY: a plain kernel call.
    unsafe { os::osDelay(1) };
    OTHER_DONE.fetch_add(1, SeqCst);
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_kernel_starts_and_locks_as_liteos_does() {
    // SAFETY: plain kernel calls; the thread attributes outlive the calls.
    unsafe {
        // Before osKernelStart (where the SDK's main() runs the app_run entries).
        rtos::reset_kernel();
        assert_eq!(os::osKernelGetState(), os::osKernelReady);
        assert_eq!(os::osKernelLock(), os::osError, "no scheduler to lock yet");
        assert_eq!(os::osKernelUnlock(), os::osError);
        assert_eq!(os::osKernelRestoreLock(0), os::osError);
        assert_eq!(os::osKernelGetState(), os::osKernelReady, "nothing was locked");
        // A thread created now runs only once the scheduler starts.
        let attr = os::osThreadAttr_t {
            name: c"early".as_ptr(),
            stack_size: 2048,
            priority: os::osPriorityNormal,
            ..Default::default()
        };
        assert!(!os::osThreadNew(Some(mark_ran), std::ptr::null_mut(), &attr).is_null());
        std::thread::sleep(Duration::from_millis(100));
        assert!(!RAN.load(SeqCst), "a thread ran before the scheduler started");
        rtos::start_kernel();
        wait_until("the thread runs once the kernel starts", || RAN.load(SeqCst));
        assert_eq!(os::osKernelGetState(), os::osKernelRunning);

        // Lock: 0 when it locked; 1 when already locked, *without* another level.
        assert_eq!(os::osKernelLock(), 0);
        assert_eq!(os::osKernelGetState(), os::osKernelLocked);
        assert_eq!(os::osKernelLock(), 1);
        // The CMSIS reference's nesting pattern leaks the lock on LiteOS: RestoreLock(1) adds
        // a level, so RestoreLock(0) leaves one (and says so with -1).
        assert_eq!(os::osKernelRestoreLock(1), 1);
        assert_eq!(os::osKernelRestoreLock(0), os::osError, "still locked");
        assert_eq!(os::osKernelGetState(), os::osKernelLocked);

        // While locked, this thread cannot wait: osDelay fails at once, semaphores always
        // fail, and so do mutex and queue waits that cannot be served at once.
        let t = Instant::now();
        assert_eq!(os::osDelay(10), os::osError);
        assert!(t.elapsed() < Duration::from_millis(50), "osDelay must not wait under the lock");
        assert_eq!(os::osDelay(0), os::osErrorParameter);
        let s = os::osSemaphoreNew(1, 1, std::ptr::null());
        assert_eq!(os::osSemaphoreAcquire(s, 0), os::osErrorResource, "even with a count");
        let q = os::osMessageQueueNew(1, 4, std::ptr::null());
        let mut buf = [0u8; 4];
        let t = Instant::now();
        let got = os::osMessageQueueGet(q, buf.as_mut_ptr().cast(), std::ptr::null_mut(), 50);
        assert_eq!(got, os::osErrorResource);
        assert!(t.elapsed() < Duration::from_millis(40), "a queue wait must fail at once");
        assert_eq!(os::osMessageQueuePut(q, buf.as_ptr().cast(), 0, 50), os::osOK, "room: fine");
        let m = os::osMutexNew(std::ptr::null());
        assert_eq!(os::osMutexAcquire(m, 0), os::osOK, "a free mutex is taken under the lock");
        assert_eq!(os::osThreadYield(), os::osError);

        // Another thread does not run while this one holds the lock.
        let attr = os::osThreadAttr_t {
            name: c"other".as_ptr(),
            stack_size: 2048,
            priority: os::osPriorityNormal,
            ..Default::default()
        };
        assert!(!os::osThreadNew(Some(other_thread), std::ptr::null_mut(), &attr).is_null());
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(OTHER_DONE.load(SeqCst), 0, "another thread ran under the scheduler lock");

        // Unlock removes one level at a time: 1 when that unlocked, 0 when not locked.
        assert_eq!(os::osKernelUnlock(), 1);
        assert_eq!(os::osKernelGetState(), os::osKernelRunning);
        assert_eq!(os::osKernelUnlock(), 0);
        wait_until("the other thread runs after the unlock", || OTHER_DONE.load(SeqCst) == 1);
        assert_eq!(os::osKernelRestoreLock(7), os::osError);

        assert_eq!(os::osMutexRelease(m), os::osOK);
        assert_eq!(os::osMutexDelete(m), os::osOK);
        assert_eq!(os::osSemaphoreDelete(s), os::osOK);
        assert_eq!(os::osMessageQueueDelete(q), os::osOK);
    }
}

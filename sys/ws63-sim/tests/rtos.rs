//! CMSIS-RTOS2 on the simulated board, called through `cmsis-rtos2-sys` as the firmware does.

use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cmsis_rtos2_sys as os;
use ws63_sim as _;

extern "C" fn record_name(arg: *mut c_void) {
    // SAFETY: the test passes a Box<mpsc::Sender<String>> it leaked for this thread.
    let tx = unsafe { Box::from_raw(arg.cast::<mpsc::Sender<String>>()) };
    // SAFETY: osThreadGetId/osThreadGetName are plain calls; the name lives in the registry.
    let name = unsafe { CStr::from_ptr(os::osThreadGetName(os::osThreadGetId())) };
    let info = ws63_sim::rtos::current_thread().expect("made by osThreadNew");
    tx.send(format!("{}:{}:{}", name.to_str().unwrap(), info.stack_size, info.priority)).unwrap();
}

#[test]
fn threads_run_with_the_asked_name_stack_and_priority() {
    let _g = ws63_sim::test_lock();
    let (tx, rx) = mpsc::channel::<String>();
    let attr = os::osThreadAttr_t {
        name: c"ota".as_ptr(),
        stack_size: 0x2000,
        priority: os::osPriorityNormal,
        ..Default::default()
    };
    let arg = Box::into_raw(Box::new(tx)).cast::<c_void>();
    // SAFETY: record_name takes ownership of `arg`, a leaked Sender.
    let id = unsafe { os::osThreadNew(Some(record_name), arg, &attr) };
    assert!(!id.is_null());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "ota:8192:24");

    // No attributes: LiteOS defaults (normal priority, default stack).
    let (tx, rx) = mpsc::channel::<String>();
    let arg = Box::into_raw(Box::new(tx)).cast::<c_void>();
    // SAFETY: as above.
    let id = unsafe { os::osThreadNew(Some(record_name), arg, std::ptr::null()) };
    assert!(!id.is_null());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "thread:4096:24");
}

extern "C" fn never_run(_: *mut c_void) {
    panic!("a refused thread must not run");
}

#[test]
fn bad_thread_arguments_and_refused_creation_give_null() {
    let _g = ws63_sim::test_lock();
    let bad_prio = os::osThreadAttr_t { priority: 99, ..Default::default() };
    // SAFETY: valid arguments apart from the rejected ones.
    unsafe {
        assert!(os::osThreadNew(None, std::ptr::null_mut(), std::ptr::null()).is_null());
        assert!(os::osThreadNew(Some(never_run), std::ptr::null_mut(), &bad_prio).is_null());
        ws63_sim::faults::fail_thread_creates(1);
        assert!(os::osThreadNew(Some(never_run), std::ptr::null_mut(), std::ptr::null()).is_null());
        assert!(os::osThreadGetName(0x1230 as *mut c_void).is_null());
    }
}

#[test]
fn the_tick_is_100_hz_and_delay_counts_ticks() {
    // SAFETY: plain kernel calls.
    unsafe {
        assert_eq!(os::osKernelGetTickFreq(), 100);
        assert_eq!(os::osKernelGetState(), os::osKernelRunning);
        assert_eq!(os::osDelay(0), os::osErrorParameter);
        let t0 = os::osKernelGetTickCount();
        let start = Instant::now();
        assert_eq!(os::osDelay(3), os::osOK);
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(os::osKernelGetTickCount().wrapping_sub(t0) >= 3);
        assert_eq!(os::osThreadYield(), os::osOK);
    }
}

#[test]
fn mutexes_have_owners_timeouts_and_recursion_only_when_asked() {
    // SAFETY: plain kernel calls with handles made here.
    unsafe {
        assert_eq!(os::osMutexAcquire(std::ptr::null_mut(), 0), os::osErrorParameter);
        assert_eq!(os::osMutexRelease(std::ptr::null_mut()), os::osErrorParameter);
        let m = os::osMutexNew(std::ptr::null());
        assert!(!m.is_null());
        assert_eq!(os::osMutexRelease(m), os::osErrorResource, "not the owner");
        assert_eq!(os::osMutexAcquire(m, os::osWaitForever), os::osOK);
        assert_eq!(os::osMutexAcquire(m, 0), os::osErrorResource, "not recursive");
        let mh = m as usize;
        let other = std::thread::spawn(move || {
            let m = mh as *mut c_void;
            (os::osMutexAcquire(m, 0), os::osMutexAcquire(m, 2), os::osMutexRelease(m))
        })
        .join()
        .unwrap();
        assert_eq!(other, (os::osErrorResource, os::osErrorTimeout, os::osErrorResource));
        assert_eq!(os::osMutexRelease(m), os::osOK);
        assert_eq!(os::osMutexDelete(m), os::osOK);
        assert_eq!(os::osMutexDelete(m), os::osErrorParameter, "stale handle");

        let attr = os::osMutexAttr_t { attr_bits: os::osMutexRecursive, ..Default::default() };
        let r = os::osMutexNew(&attr);
        assert_eq!(os::osMutexAcquire(r, 0), os::osOK);
        assert_eq!(os::osMutexAcquire(r, 0), os::osOK);
        assert_eq!(os::osMutexRelease(r), os::osOK);
        assert_eq!(os::osMutexRelease(r), os::osOK);
        assert_eq!(os::osMutexRelease(r), os::osErrorResource);
        assert_eq!(os::osMutexDelete(r), os::osOK);
    }
}

#[test]
fn semaphores_count_block_and_time_out() {
    // SAFETY: plain kernel calls with handles made here.
    unsafe {
        assert!(os::osSemaphoreNew(0, 0, std::ptr::null()).is_null());
        assert!(os::osSemaphoreNew(1, 2, std::ptr::null()).is_null());
        let s = os::osSemaphoreNew(2, 1, std::ptr::null());
        assert_eq!(os::osSemaphoreGetCount(s), 1);
        assert_eq!(os::osSemaphoreAcquire(s, 0), os::osOK);
        assert_eq!(os::osSemaphoreAcquire(s, 0), os::osErrorResource);
        assert_eq!(os::osSemaphoreAcquire(s, 2), os::osErrorTimeout);
        let sh = s as usize;
        let waiter = std::thread::spawn(move || os::osSemaphoreAcquire(sh as *mut c_void, 500));
        assert_eq!(os::osSemaphoreRelease(s), os::osOK);
        assert_eq!(waiter.join().unwrap(), os::osOK, "the waiter got the released count");
        assert_eq!(os::osSemaphoreRelease(s), os::osOK);
        assert_eq!(os::osSemaphoreRelease(s), os::osOK);
        assert_eq!(os::osSemaphoreRelease(s), os::osErrorResource, "beyond max_count");
        assert_eq!(os::osSemaphoreDelete(s), os::osOK);
        assert_eq!(os::osSemaphoreAcquire(s, 0), os::osErrorParameter);
    }
}

#[test]
fn message_queues_copy_fixed_size_messages_in_order() {
    // SAFETY: plain kernel calls; message buffers are 4 bytes as the queue's msg_size.
    unsafe {
        assert!(os::osMessageQueueNew(0, 4, std::ptr::null()).is_null());
        let q = os::osMessageQueueNew(2, 4, std::ptr::null());
        let put = |v: u32, t: u32| os::osMessageQueuePut(q, (&v as *const u32).cast(), 0, t);
        assert_eq!(put(1, 0), os::osOK);
        assert_eq!(put(2, 0), os::osOK);
        assert_eq!(put(3, 0), os::osErrorResource, "full");
        assert_eq!(put(3, 2), os::osErrorTimeout);
        assert_eq!(os::osMessageQueueGetCount(q), 2);
        let mut out = 0u32;
        let mut prio = 9u8;
        assert_eq!(os::osMessageQueueGet(q, (&mut out as *mut u32).cast(), &mut prio, 0), os::osOK);
        assert_eq!((out, prio), (1, 0));
        assert_eq!(
            os::osMessageQueueGet(q, (&mut out as *mut u32).cast(), std::ptr::null_mut(), 0),
            os::osOK
        );
        assert_eq!(out, 2);
        assert_eq!(
            os::osMessageQueueGet(q, (&mut out as *mut u32).cast(), std::ptr::null_mut(), 0),
            os::osErrorResource
        );
        assert_eq!(os::osMessageQueuePut(q, std::ptr::null(), 0, 0), os::osErrorParameter);
        // A reader waiting with a timeout gets a message put by another thread.
        static GOT: AtomicU32 = AtomicU32::new(0);
        let qh = q as usize;
        let reader = std::thread::spawn(move || {
            let mut v = 0u32;
            let r = os::osMessageQueueGet(
                qh as *mut c_void,
                (&mut v as *mut u32).cast(),
                std::ptr::null_mut(),
                500,
            );
            GOT.store(v, Ordering::SeqCst);
            r
        });
        assert_eq!(put(42, 0), os::osOK);
        assert_eq!(reader.join().unwrap(), os::osOK);
        assert_eq!(GOT.load(Ordering::SeqCst), 42);
        assert_eq!(os::osMessageQueueDelete(q), os::osOK);
        assert_eq!(os::osMessageQueueGetCount(q), 0);
    }
}

#[test]
fn the_kernel_lock_nests_by_restoring_and_excludes_other_lockers() {
    // SAFETY: plain kernel calls.
    unsafe {
        let prev = os::osKernelLock();
        assert_eq!(prev, 0);
        assert_eq!(os::osKernelLock(), 1, "already locked by this thread");
        let other = std::thread::spawn(|| {
            let p = os::osKernelLock();
            os::osKernelRestoreLock(p)
        });
        assert_eq!(os::osKernelRestoreLock(prev), 0);
        assert_eq!(other.join().unwrap(), 0, "the other thread got the lock once it was free");
        assert_eq!(os::osKernelRestoreLock(7), os::osErrorParameter);
        assert_eq!(os::osKernelUnlock(), 0);
    }
}

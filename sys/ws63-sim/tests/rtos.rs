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
    let same_pointer = std::ptr::eq(name.as_ptr(), NAME.as_ptr());
    let name = name.to_str().unwrap();
    let what = format!("{name}:{}:{}", info.stack_size, info.priority);
    tx.send(if name == "ota" { format!("{what}:{same_pointer}") } else { what }).unwrap();
}

#[test]
fn threads_run_with_the_asked_name_stack_and_priority() {
    let _g = ws63_sim::test_lock();
    let (tx, rx) = mpsc::channel::<String>();
    let attr = os::osThreadAttr_t {
        name: NAME.as_ptr(),
        stack_size: 0x2000,
        priority: os::osPriorityNormal,
        ..Default::default()
    };
    let arg = Box::into_raw(Box::new(tx)).cast::<c_void>();
    // SAFETY: record_name takes ownership of `arg`, a leaked Sender.
    let id = unsafe { os::osThreadNew(Some(record_name), arg, &attr) };
    assert!(!id.is_null());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "ota:8192:24:true");

    // No attributes: LiteOS's defaults (the name "undefined", 2048 bytes, priority 31).
    let (tx, rx) = mpsc::channel::<String>();
    let arg = Box::into_raw(Box::new(tx)).cast::<c_void>();
    // SAFETY: as above.
    let id = unsafe { os::osThreadNew(Some(record_name), arg, std::ptr::null()) };
    assert!(!id.is_null());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "undefined:2048:31");

    // Stack sizes round up to 16; 0 is 2048.
    for (asked, got) in [(1009, "1024"), (0, "2048"), (3000, "3008")] {
        let (tx, rx) = mpsc::channel::<String>();
        let arg = Box::into_raw(Box::new(tx)).cast::<c_void>();
        let attr = os::osThreadAttr_t { stack_size: asked, ..attr };
        // SAFETY: as above.
        assert!(!unsafe { os::osThreadNew(Some(record_name), arg, &attr) }.is_null());
        let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(r.split(':').nth(1), Some(got), "{asked}");
    }
}

/// LiteOS keeps the name pointer it is given (it does not copy the name).
static NAME: &std::ffi::CStr = c"ota";

extern "C" fn never_run(_: *mut c_void) {
    panic!("a refused thread must not run");
}

#[test]
fn liteos_refuses_what_it_refuses() {
    let _g = ws63_sim::test_lock();
    let ok = os::osThreadAttr_t {
        name: c"t".as_ptr(),
        stack_size: 2048,
        priority: os::osPriorityNormal,
        ..Default::default()
    };
    let refused = [
        ("osPriorityNone", os::osThreadAttr_t { priority: os::osPriorityNone, ..ok }),
        ("below osPriorityLow3", os::osThreadAttr_t { priority: os::osPriorityLow2, ..ok }),
        ("above osPriorityHigh", os::osThreadAttr_t { priority: os::osPriorityHigh1, ..ok }),
        ("osPriorityRealtime7", os::osThreadAttr_t { priority: os::osPriorityRealtime7, ..ok }),
        ("a NULL name", os::osThreadAttr_t { name: std::ptr::null(), ..ok }),
        ("a stack under 1024", os::osThreadAttr_t { stack_size: 1008, ..ok }),
    ];
    // SAFETY: valid arguments apart from the rejected ones.
    unsafe {
        assert!(os::osThreadNew(None, std::ptr::null_mut(), std::ptr::null()).is_null());
        for (what, attr) in &refused {
            assert!(
                os::osThreadNew(Some(never_run), std::ptr::null_mut(), attr).is_null(),
                "{what}"
            );
        }
        ws63_sim::faults::fail_thread_creates(1);
        assert!(os::osThreadNew(Some(never_run), std::ptr::null_mut(), std::ptr::null()).is_null());
        assert!(os::osThreadGetName(0x1230 as *mut c_void).is_null());
    }
}

extern "C" fn park_until_released(arg: *mut c_void) {
    // SAFETY: the test passes a semaphore handle that outlives the thread.
    unsafe { os::osSemaphoreAcquire(arg, os::osWaitForever) };
}

#[test]
fn the_firmware_gets_what_the_sdks_own_tasks_leave_of_liteos_limits() {
    let _g = ws63_sim::test_lock();
    let limits = ws63_sim::rtos::FIRMWARE_LIMITS;
    assert_eq!(ws63_sim::rtos::LITEOS_LIMITS.tasks, 28);
    // SAFETY: plain kernel calls; the semaphore outlives the threads that wait on it.
    unsafe {
        let gate = os::osSemaphoreNew(0xFFFE, 0, std::ptr::null());
        let attr = os::osThreadAttr_t {
            name: c"filler".as_ptr(),
            stack_size: 1024,
            priority: os::osPriorityNormal,
            ..Default::default()
        };
        let before = ws63_sim::rtos::in_use().tasks;
        let mut made = 0;
        while !os::osThreadNew(Some(park_until_released), gate, &attr).is_null() {
            made += 1;
            assert!(made <= limits.tasks, "more tasks than LiteOS has");
        }
        assert_eq!(before + made, limits.tasks, "every task slot the firmware has, then NULL");
        for _ in 0..made {
            os::osSemaphoreRelease(gate);
        }
        let t = Instant::now();
        while ws63_sim::rtos::in_use().tasks > before {
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
        // Queues: the firmware's share of the 16, then NULL.
        let mut queues = Vec::new();
        loop {
            let q = os::osMessageQueueNew(1, 4, std::ptr::null());
            if q.is_null() {
                break;
            }
            queues.push(q);
            assert!(queues.len() as u32 <= limits.queues);
        }
        assert_eq!(ws63_sim::rtos::in_use().queues, limits.queues);
        for q in queues {
            assert_eq!(os::osMessageQueueDelete(q), os::osOK);
        }
        assert!(os::osMessageQueueNew(0x1_0000, 4, std::ptr::null()).is_null());
        assert!(os::osMessageQueueNew(4, 0x1_0000, std::ptr::null()).is_null());
        os::osSemaphoreDelete(gate);
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
fn every_mutex_is_recursive_and_has_an_owner() {
    // SAFETY: plain kernel calls with handles made here.
    unsafe {
        assert_eq!(os::osMutexAcquire(std::ptr::null_mut(), 0), os::osErrorParameter);
        assert_eq!(os::osMutexRelease(std::ptr::null_mut()), os::osErrorParameter);
        // The attributes are ignored: no osMutexRecursive asked, recursive all the same.
        let m = os::osMutexNew(std::ptr::null());
        assert!(!m.is_null());
        assert_eq!(os::osMutexRelease(m), os::osErrorParameter, "not locked");
        assert_eq!(os::osMutexAcquire(m, os::osWaitForever), os::osOK);
        assert_eq!(os::osMutexAcquire(m, 0), os::osOK, "the owner's relock counts");
        let mh = m as usize;
        let other = std::thread::spawn(move || {
            let m = mh as *mut c_void;
            (os::osMutexAcquire(m, 0), os::osMutexAcquire(m, 2), os::osMutexRelease(m))
        })
        .join()
        .unwrap();
        assert_eq!(other, (os::osErrorResource, os::osErrorTimeout, os::osErrorParameter));
        assert_eq!(os::osMutexDelete(m), os::osErrorResource, "locked: stays");
        assert_eq!(os::osMutexRelease(m), os::osOK);
        assert_eq!(os::osMutexDelete(m), os::osErrorResource, "still locked once");
        assert_eq!(os::osMutexRelease(m), os::osOK);
        assert_eq!(os::osMutexRelease(m), os::osErrorParameter);
        assert_eq!(os::osMutexDelete(m), os::osOK);
        assert_eq!(os::osMutexDelete(m), os::osErrorParameter, "stale handle");
    }
}

#[test]
fn semaphores_count_block_and_time_out() {
    // SAFETY: plain kernel calls with handles made here.
    unsafe {
        assert!(os::osSemaphoreNew(1, 2, std::ptr::null()).is_null());
        assert!(os::osSemaphoreNew(0x1_0000, 0, std::ptr::null()).is_null());
        // A binary semaphore (max 1) stops at 1.
        let b = os::osSemaphoreNew(1, 1, std::ptr::null());
        assert_eq!(os::osSemaphoreRelease(b), os::osErrorResource);
        assert_eq!(os::osSemaphoreDelete(b), os::osOK);
        // Any other max makes a counting semaphore capped at 0xFFFE, whatever was asked.
        let z = os::osSemaphoreNew(0, 0, std::ptr::null());
        assert!(!z.is_null(), "max 0 is a counting semaphore on LiteOS");
        assert_eq!(os::osSemaphoreRelease(z), os::osOK);
        assert_eq!(os::osSemaphoreDelete(z), os::osOK);
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
        assert_eq!(os::osSemaphoreRelease(s), os::osOK, "LiteOS ignores max_count 2");
        assert_eq!(os::osSemaphoreGetCount(s), 3);
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

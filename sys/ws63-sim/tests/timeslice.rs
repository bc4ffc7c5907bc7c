//! Interrupts locked by a flash operation, and LiteOS's time slice: once a thread's locked
//! sections have used up its slice, the threads that were waiting run before its next one (a
//! maximum-size OTA's 3.6 s erase must not starve the gateway's keep-alive). One process:
//! the kernel's state is global.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ws63_sim::rtos;

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::yield_now();
    }
}

/// Thread A locks interrupts for `pieces` sections of `each`, then once more; thread B asks
/// to run while A is in its first section. The order in which B ran and A's last section
/// began.
fn race(pieces: u32, each: Duration) -> Vec<&'static str> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let in_first = Arc::new(AtomicBool::new(false));
    let a = {
        let (log, in_first) = (log.clone(), in_first.clone());
        std::thread::spawn(move || {
            for i in 0..pieces {
                rtos::with_interrupts_locked(|| {
                    if i == 0 {
                        in_first.store(true, SeqCst);
                        wait_until("B waits", || rtos::gate_waiters() == 1);
                    }
                    // The flash's own time (the board's flash spends it the same way).
                    std::thread::sleep(each);
                });
            }
            rtos::with_interrupts_locked(|| log.lock().unwrap().push("A again"));
        })
    };
    wait_until("A locks", || in_first.load(SeqCst));
    let b = {
        let log = log.clone();
        std::thread::spawn(move || {
            // B's turn: it takes the flash next (before A can, if A gave way).
            rtos::with_interrupts_locked(|| log.lock().unwrap().push("B ran"));
        })
    };
    a.join().unwrap();
    b.join().unwrap();
    let order = log.lock().unwrap().clone();
    order
}

#[test]
fn a_flash_operation_longer_than_a_time_slice_lets_the_waiting_threads_run_first() {
    // One 150 ms block erase: the slice (20 ms) is used up, B runs before A's next erase.
    for _ in 0..5 {
        assert_eq!(race(1, Duration::from_millis(150)), ["B ran", "A again"]);
    }
    // Short page programs: A gives way once its locked sections add up to a slice.
    let pieces = (rtos::TIME_SLICE.as_millis() / 2 + 1) as u32;
    assert_eq!(race(pieces, Duration::from_millis(2)), ["B ran", "A again"]);
}

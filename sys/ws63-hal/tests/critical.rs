//! The firmware's own critical sections (`ws63_rt::critical`, which the board links as the
//! `critical-section` implementation) over the board's kernel, which locks as LiteOS does.
//! One test in its own process: it takes the kernel back to "not started".

use cmsis_rtos2_sys as os;
use ws63_sim::rtos;

fn state() -> os::osKernelState_t {
    // SAFETY: a plain kernel call.
    unsafe { os::osKernelGetState() }
}

#[test]
fn sections_nest_and_work_before_the_scheduler_starts() {
    // Before osKernelStart, where the SDK's main() runs the app entry: LiteOS's lock answers
    // -1 and locks nothing; a section must still run (one thread, nothing to exclude) and
    // leave nothing behind.
    rtos::reset_kernel();
    let v = critical_section::with(|_| critical_section::with(|_| 7));
    assert_eq!(v, 7);
    assert_eq!(state(), os::osKernelReady);

    rtos::start_kernel();
    assert_eq!(state(), os::osKernelRunning);
    critical_section::with(|_| {
        assert_eq!(state(), os::osKernelLocked);
        critical_section::with(|_| {
            assert_eq!(state(), os::osKernelLocked);
            critical_section::with(|_| assert_eq!(state(), os::osKernelLocked));
        });
        // The inner sections' ends do not unlock the outer one.
        assert_eq!(state(), os::osKernelLocked);
    });
    // Nested sections leave the scheduler unlocked (on LiteOS, lock/restore pairs would
    // leave it locked for good), so the firmware can wait again.
    assert_eq!(state(), os::osKernelRunning);
    // SAFETY: a plain kernel call.
    assert_eq!(unsafe { os::osDelay(1) }, os::osOK);
    // A section the scheduler lock already covers (taken directly) leaves it so.
    // SAFETY: plain kernel calls, paired.
    unsafe {
        assert_eq!(os::osKernelLock(), 0);
        critical_section::with(|_| {});
        assert_eq!(state(), os::osKernelLocked);
        assert_eq!(os::osKernelUnlock(), 1);
    }
    assert_eq!(state(), os::osKernelRunning);
}

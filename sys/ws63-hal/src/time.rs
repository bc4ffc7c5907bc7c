//! Time on the kernel tick (100 Hz on the chip).

use core::time::Duration;

use cmsis_rtos2_sys as os;

/// Ticks per second of the kernel.
pub fn tick_hz() -> u32 {
    // SAFETY: a plain kernel query.
    match unsafe { os::osKernelGetTickFreq() } {
        0 => 100,
        f => f,
    }
}

/// `d` in ticks, rounded up, so a wait is never shorter than asked; saturates below
/// `osWaitForever`.
pub fn to_ticks(d: Duration) -> u32 {
    let hz = u128::from(tick_hz());
    let t = (d.as_nanos() * hz).div_ceil(1_000_000_000);
    t.min(u128::from(os::osWaitForever - 1)) as u32
}

/// A CMSIS timeout: `None` waits forever, `Some(ZERO)` does not wait.
pub fn timeout_ticks(d: Option<Duration>) -> u32 {
    d.map_or(os::osWaitForever, to_ticks)
}

/// Time since the kernel started (the tick counter; it wraps after 497 days at 100 Hz).
pub fn uptime() -> Duration {
    // SAFETY: a plain kernel query.
    let ticks = unsafe { os::osKernelGetTickCount() };
    Duration::from_millis(u64::from(ticks) * 1000 / u64::from(tick_hz()))
}

/// A point in time, in kernel ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(u32);

impl Instant {
    /// Now.
    pub fn now() -> Self {
        // SAFETY: a plain kernel query.
        Instant(unsafe { os::osKernelGetTickCount() })
    }

    /// Time since this instant (the tick counter wraps; differences stay right).
    pub fn elapsed(self) -> Duration {
        let ticks = Self::now().0.wrapping_sub(self.0);
        Duration::from_millis(u64::from(ticks) * 1000 / u64::from(tick_hz()))
    }
}

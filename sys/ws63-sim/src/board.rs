//! Reboot, the watchdog, and how a firmware run ends.
//!
//! On the board, a firmware run is one process: `hal_reboot_chip` and `upg_reboot` end it with
//! [`EXIT_REBOOT`], a power cut with [`EXIT_POWER_CUT`]; the supervisor ([`crate::supervisor`])
//! then plays flashboot and starts the next run. That is how "the firmware stops dead" is
//! faithful: no thread of the old run survives, and the flash file keeps exactly what was
//! written. Tests that call the SDK symbols in their own process can replace the action.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;

/// Exit status of a firmware run that asked for a reboot.
pub const EXIT_REBOOT: i32 = 82;
/// Exit status of a firmware run whose power was cut.
pub const EXIT_POWER_CUT: i32 = 83;
/// Exit status of a firmware run that the app's watchdog reset.
pub const EXIT_WATCHDOG: i32 = 84;
/// Exit status of a firmware run that panicked (the chip's panic handler reboots).
pub const EXIT_PANIC: i32 = 85;

static REBOOT_ACTION: Mutex<Option<fn() -> !>> = Mutex::new(None);
static WATCHDOG_KICKS: AtomicU64 = AtomicU64::new(0);

/// Replaces what a reboot does (default: the firmware process exits with [`EXIT_REBOOT`]).
pub fn set_reboot_action(action: fn() -> !) {
    *REBOOT_ACTION.lock().unwrap_or_else(|p| p.into_inner()) = Some(action);
}

pub(crate) fn reboot() -> ! {
    let action = *REBOOT_ACTION.lock().unwrap_or_else(|p| p.into_inner());
    match action {
        Some(a) => a(),
        None => {
            // The boot's heap high-water mark, as LiteOS's pool counts it (with node headers).
            let limit = crate::heap::limit().map_or("no limit".into(), |l| format!("{l} bytes"));
            eprintln!("[ws63-sim] reboot (heap: peak {} bytes of {limit})", crate::heap::peak());
            std::process::exit(EXIT_REBOOT)
        }
    }
}

/// The app's watchdog expired: the chip prints "Oops:NMI", saves a crash dump and reboots.
/// The firmware run ends with [`EXIT_WATCHDOG`].
pub fn watchdog_reset(starved: std::time::Duration) -> ! {
    eprintln!(
        "[ws63-sim] WATCHDOG: the idle task did not run for {:.1} s (a firmware thread kept \
         the CPU); Oops:NMI, rebooting",
        starved.as_secs_f64()
    );
    std::process::exit(EXIT_WATCHDOG)
}

/// Makes a panic on any thread end the firmware run as the chip's panic handler does: it
/// prints where and why, then reboots ([`EXIT_PANIC`]). (An allocation the heap refuses is a
/// panic on the chip; on the host the standard library aborts, which the supervisor takes for
/// the same.)
pub fn install_panic_reboot() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("[ws63-rt] PANIC {info}\n[ws63-rt] rebooting");
        std::process::exit(EXIT_PANIC);
    }));
}

/// Watchdog kicks so far.
pub fn watchdog_kicks() -> u64 {
    WATCHDOG_KICKS.load(SeqCst)
}

/// `hal_reboot_chip`: ends the firmware run.
#[export_name = "ws63sim_hal_reboot_chip"]
pub extern "C" fn hal_reboot_chip() {
    reboot()
}

/// `upg_reboot`: the upgrade layer's reboot, the same as [`hal_reboot_chip`].
#[export_name = "ws63sim_upg_reboot"]
pub extern "C" fn upg_reboot() {
    reboot()
}

/// `upg_watchdog_kick`: feeds the app's watchdog (`uapi_watchdog_kick`), counted.
#[export_name = "ws63sim_upg_watchdog_kick"]
pub extern "C" fn upg_watchdog_kick() {
    crate::rtos::gate();
    crate::rtos::watchdog::feed();
    WATCHDOG_KICKS.fetch_add(1, SeqCst);
}

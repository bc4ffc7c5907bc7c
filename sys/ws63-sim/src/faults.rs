//! Fault injection: the board misbehaves on purpose, from tests (the functions here) and from
//! the command line (`ws63-sim run --power-cut-at-write N ...`, parsed by [`Faults::parse_arg`]).
//!
//! Counters are per boot: a fault set for a boot happens in that boot only.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

static THREAD_CREATE_FAILURES: AtomicU32 = AtomicU32::new(0);
static POWER_CUT_AT_WRITE: AtomicU64 = AtomicU64::new(0);
static FLASH_WRITE_ERROR_AT: AtomicU64 = AtomicU64::new(0);
static FLASH_WRITES: AtomicU64 = AtomicU64::new(0);
static WIFI_CONNECT_FAILURES: AtomicU32 = AtomicU32::new(0);
static DNS_FAIL: AtomicBool = AtomicBool::new(false);
static DNS_DELAY_MS: AtomicU64 = AtomicU64::new(0);
static POWER_CUT_ACTION: Mutex<Option<fn() -> !>> = Mutex::new(None);

/// A set of faults to inject into one boot, as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Cut the power during the Nth flash program operation of the boot (1-based): the first
    /// half of that write reaches the flash, then the firmware stops dead.
    pub power_cut_at_write: Option<u64>,
    /// The Nth flash program operation fails (nothing is written).
    pub flash_write_error_at: Option<u64>,
    /// The first N WiFi connection attempts fail.
    pub wifi_connect_failures: u32,
    /// Every DNS lookup fails.
    pub dns_fail: bool,
    /// Every DNS lookup takes this long first.
    pub dns_delay: Option<Duration>,
    /// The next N thread creations are refused.
    pub thread_create_failures: u32,
}

impl Faults {
    /// Takes one command-line fault option (`--name VALUE` or a flag) from `args` if it is one;
    /// returns whether it was.
    ///
    /// # Errors
    /// A fault option with a missing or malformed value.
    pub fn parse_arg(
        &mut self,
        flag: &str,
        next: &mut dyn Iterator<Item = String>,
    ) -> Result<bool, String> {
        let mut num = |what: &str| -> Result<u64, String> {
            let v = next.next().ok_or_else(|| format!("{what} needs a number"))?;
            v.parse().map_err(|_| format!("{what}: not a number: {v}"))
        };
        match flag {
            "--power-cut-at-write" => self.power_cut_at_write = Some(num(flag)?.max(1)),
            "--flash-write-error-at" => self.flash_write_error_at = Some(num(flag)?.max(1)),
            "--wifi-fail" => self.wifi_connect_failures = num(flag)? as u32,
            "--dns-fail" => self.dns_fail = true,
            "--dns-delay-ms" => self.dns_delay = Some(Duration::from_millis(num(flag)?)),
            "--thread-fail" => self.thread_create_failures = num(flag)? as u32,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Command-line arguments that reproduce these faults.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(n) = self.power_cut_at_write {
            a.extend(["--power-cut-at-write".into(), n.to_string()]);
        }
        if let Some(n) = self.flash_write_error_at {
            a.extend(["--flash-write-error-at".into(), n.to_string()]);
        }
        if self.wifi_connect_failures > 0 {
            a.extend(["--wifi-fail".into(), self.wifi_connect_failures.to_string()]);
        }
        if self.dns_fail {
            a.push("--dns-fail".into());
        }
        if let Some(d) = self.dns_delay {
            a.extend(["--dns-delay-ms".into(), d.as_millis().to_string()]);
        }
        if self.thread_create_failures > 0 {
            a.extend(["--thread-fail".into(), self.thread_create_failures.to_string()]);
        }
        a
    }

    /// Makes these the faults of the running boot (and resets the flash write count).
    pub fn install(&self) {
        THREAD_CREATE_FAILURES.store(self.thread_create_failures, SeqCst);
        POWER_CUT_AT_WRITE.store(self.power_cut_at_write.unwrap_or(0), SeqCst);
        FLASH_WRITE_ERROR_AT.store(self.flash_write_error_at.unwrap_or(0), SeqCst);
        FLASH_WRITES.store(0, SeqCst);
        WIFI_CONNECT_FAILURES.store(self.wifi_connect_failures, SeqCst);
        DNS_FAIL.store(self.dns_fail, SeqCst);
        DNS_DELAY_MS.store(self.dns_delay.map_or(0, |d| d.as_millis() as u64), SeqCst);
    }
}

/// Clears every fault.
pub fn clear() {
    Faults::default().install();
}

/// Refuses the next `n` thread creations.
pub fn fail_thread_creates(n: u32) {
    THREAD_CREATE_FAILURES.store(n, SeqCst);
}

pub(crate) fn take_thread_create_failure() -> bool {
    THREAD_CREATE_FAILURES.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// What happens to one flash program operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteFate {
    /// It is written.
    Write,
    /// It fails, nothing written.
    Fail,
    /// The power goes during it: half is written, then the firmware stops.
    PowerCut,
}

/// Counts a flash program operation and says what happens to it.
pub(crate) fn next_flash_write() -> WriteFate {
    let n = FLASH_WRITES.fetch_add(1, SeqCst) + 1;
    if POWER_CUT_AT_WRITE.load(SeqCst) == n {
        WriteFate::PowerCut
    } else if FLASH_WRITE_ERROR_AT.load(SeqCst) == n {
        WriteFate::Fail
    } else {
        WriteFate::Write
    }
}

/// Flash program operations so far in this boot.
pub fn flash_writes() -> u64 {
    FLASH_WRITES.load(SeqCst)
}

/// What the board does when the power is cut: by default the firmware process exits at once
/// with [`crate::board::EXIT_POWER_CUT`]; tests in one process may put another action here.
pub fn set_power_cut_action(action: fn() -> !) {
    *POWER_CUT_ACTION.lock().unwrap_or_else(|p| p.into_inner()) = Some(action);
}

pub(crate) fn cut_power() -> ! {
    let action = *POWER_CUT_ACTION.lock().unwrap_or_else(|p| p.into_inner());
    match action {
        Some(a) => a(),
        None => {
            eprintln!("[ws63-sim] POWER CUT");
            std::process::exit(crate::board::EXIT_POWER_CUT)
        }
    }
}

pub(crate) fn take_wifi_connect_failure() -> bool {
    WIFI_CONNECT_FAILURES.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
}

pub(crate) fn dns_fault() -> (bool, Duration) {
    (DNS_FAIL.load(SeqCst), Duration::from_millis(DNS_DELAY_MS.load(SeqCst)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_faults_round_trip() {
        let mut f = Faults::default();
        let args = ["--power-cut-at-write", "7", "--dns-fail", "--wifi-fail", "2", "--x"];
        let mut it = args.iter().map(|s| s.to_string());
        let mut unknown = Vec::new();
        while let Some(a) = it.next() {
            if !f.parse_arg(&a, &mut it).unwrap() {
                unknown.push(a);
            }
        }
        assert_eq!(unknown, ["--x"]);
        assert_eq!(f.power_cut_at_write, Some(7));
        assert!(f.dns_fail);
        assert_eq!(f.wifi_connect_failures, 2);
        let mut g = Faults::default();
        let mut it = f.to_args().into_iter();
        while let Some(a) = it.next() {
            assert!(g.parse_arg(&a, &mut it).unwrap());
        }
        assert_eq!(f, g);
        let mut it = std::iter::once("x".to_string());
        assert!(Faults::default().parse_arg("--power-cut-at-write", &mut it).is_err());
    }
}

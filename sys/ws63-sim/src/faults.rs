//! Fault injection: the board misbehaves on purpose, from tests (the functions here) and from
//! the command line (`ws63-sim run --power-cut-at-write N ...`: [`Faults`] is the options).
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
static WIFI_DROP_AFTER_RX: AtomicU64 = AtomicU64::new(0);
static WIFI_DROP_FOR_MS: AtomicU64 = AtomicU64::new(DEFAULT_WIFI_DROP_MS);
static RX_BYTES: AtomicU64 = AtomicU64::new(0);
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How long a dropped WiFi link's access point stays away unless told otherwise.
pub const DEFAULT_WIFI_DROP_MS: u64 = 2000;
static POWER_CUT_ACTION: Mutex<Option<fn() -> !>> = Mutex::new(None);

/// A set of faults to inject into one boot, as given on the command line (the options of
/// `ws63-sim run`, and what a firmware run gets from its supervisor).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct Faults {
    /// Cut the power during the Nth flash write or erase of the first boot (1-based): half of
    /// it lands, then the firmware stops dead.
    #[arg(long = "power-cut-at-write", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub power_cut_at_write: Option<u64>,
    /// The Nth flash write or erase of the first boot fails (nothing is written).
    #[arg(long = "flash-write-error-at", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub flash_write_error_at: Option<u64>,
    /// The first N WiFi connection attempts fail.
    #[arg(long = "wifi-fail", value_name = "N", default_value_t = 0)]
    pub wifi_connect_failures: u32,
    /// Every DNS lookup fails.
    #[arg(long = "dns-fail")]
    pub dns_fail: bool,
    /// Every DNS lookup takes this long first.
    #[arg(long = "dns-delay-ms", value_name = "MS", value_parser = parse_ms)]
    pub dns_delay: Option<Duration>,
    /// The next N thread creations are refused.
    #[arg(long = "thread-fail", value_name = "N", default_value_t = 0)]
    pub thread_create_failures: u32,
    /// The WiFi link drops once the firmware has received this many bytes over its sockets.
    #[arg(long = "wifi-drop-after-rx", value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub wifi_drop_after_rx: Option<u64>,
    /// The WiFi link drops this long after the boot.
    #[arg(long = "wifi-drop-at-ms", value_name = "MS", value_parser = parse_ms)]
    pub wifi_drop_at: Option<Duration>,
    /// How long a dropped link's access point stays away [default: 2000].
    #[arg(long = "wifi-drop-for-ms", value_name = "MS", value_parser = parse_ms)]
    pub wifi_drop_for: Option<Duration>,
}

fn parse_ms(s: &str) -> Result<Duration, String> {
    s.parse::<u64>().map(Duration::from_millis).map_err(|_| format!("`{s}` is not a number"))
}

/// Just the faults, for [`Faults::from_args`].
#[derive(clap::Parser)]
struct FaultsOnly {
    #[command(flatten)]
    faults: Faults,
}

impl Faults {
    /// Parses fault options (as [`Faults::to_args`] writes them).
    ///
    /// # Errors
    /// An unknown option or a malformed value, with clap's message.
    pub fn from_args(args: &[String]) -> Result<Faults, String> {
        use clap::Parser as _;
        let argv = std::iter::once("faults").chain(args.iter().map(String::as_str));
        FaultsOnly::try_parse_from(argv).map(|f| f.faults).map_err(|e| e.to_string())
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
        if let Some(n) = self.wifi_drop_after_rx {
            a.extend(["--wifi-drop-after-rx".into(), n.to_string()]);
        }
        if let Some(d) = self.wifi_drop_at {
            a.extend(["--wifi-drop-at-ms".into(), d.as_millis().to_string()]);
        }
        if let Some(d) = self.wifi_drop_for {
            a.extend(["--wifi-drop-for-ms".into(), d.as_millis().to_string()]);
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
        WIFI_DROP_AFTER_RX.store(self.wifi_drop_after_rx.unwrap_or(0), SeqCst);
        let away = self.wifi_drop_for.map_or(DEFAULT_WIFI_DROP_MS, |d| d.as_millis() as u64);
        WIFI_DROP_FOR_MS.store(away, SeqCst);
        RX_BYTES.store(0, SeqCst);
        let generation = GENERATION.fetch_add(1, SeqCst) + 1;
        if let Some(at) = self.wifi_drop_at {
            std::thread::spawn(move || {
                std::thread::sleep(at);
                if GENERATION.load(SeqCst) == generation {
                    crate::wifi::drop_link(Duration::from_millis(away));
                }
            });
        }
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

/// Counts bytes the firmware received over its sockets (for `wifi_drop_after_rx`).
pub(crate) fn count_rx(n: usize) {
    let before = RX_BYTES.fetch_add(n as u64, SeqCst);
    let at = WIFI_DROP_AFTER_RX.load(SeqCst);
    if at != 0 && before < at && before + n as u64 >= at {
        crate::wifi::drop_link(Duration::from_millis(WIFI_DROP_FOR_MS.load(SeqCst)));
    }
}

pub(crate) fn dns_fault() -> (bool, Duration) {
    (DNS_FAIL.load(SeqCst), Duration::from_millis(DNS_DELAY_MS.load(SeqCst)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_faults_round_trip() {
        let args: Vec<String> = ["--power-cut-at-write", "7", "--dns-fail", "--wifi-fail", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = Faults::from_args(&args).unwrap();
        assert_eq!(f.power_cut_at_write, Some(7));
        assert!(f.dns_fail);
        assert_eq!(f.wifi_connect_failures, 2);
        let all = Faults {
            flash_write_error_at: Some(3),
            dns_delay: Some(Duration::from_millis(250)),
            thread_create_failures: 1,
            wifi_drop_after_rx: Some(5000),
            wifi_drop_at: Some(Duration::from_millis(1500)),
            wifi_drop_for: Some(Duration::from_millis(900)),
            ..f.clone()
        };
        assert_eq!(Faults::from_args(&all.to_args()).unwrap(), all);
        for bad in [&["--x"][..], &["--power-cut-at-write"], &["--power-cut-at-write", "0"]] {
            let bad: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(Faults::from_args(&bad).is_err(), "{bad:?}");
        }
    }
}

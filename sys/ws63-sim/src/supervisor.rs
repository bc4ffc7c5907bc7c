//! The board around the firmware: power-on, flashboot, the firmware run, reboot.
//!
//! A boot, for the supervisor (its own process), is what happens from a reset to the end of
//! the next firmware run: flashboot ([`crate::upgrade::flashboot`]) on the flash file, as
//! many times as it resets the chip (after each upgrade step, after an app that fails its
//! check), then, if an intact app is installed, the firmware as a child process, until a
//! reboot, a power cut, the watchdog or a panic ends it (see [`crate::board`]). A board
//! whose flashboot gives up (its reset counter at 15) halts: no app runs, and the record
//! says so. The child learns its boot through [`FirmwareEnv`] (environment variables), and
//! calls [`FirmwareEnv::start`] before the firmware's entry point.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};

use crate::faults::Faults;
use crate::flash::Flash;
use crate::upgrade::{self, BootCounters, FlashbootEnd, FlashbootOutcome};
use crate::{board, flash, wifi};

const ENV_FLASH: &str = "WS63SIM_FLASH";
const ENV_FAULTS: &str = "WS63SIM_FAULTS";
const ENV_AP: &str = "WS63SIM_AP";
const ENV_BOOT: &str = "WS63SIM_BOOT";
const ENV_VERSION: &str = "WS63SIM_VERSION";
const ENV_TIMING: &str = "WS63SIM_FLASH_TIMING";
const ENV_HEAP: &str = "WS63SIM_HEAP_LIMIT";
const ENV_CONTROL: &str = "WS63SIM_CONTROL";
const ENV_WATCHDOG: &str = "WS63SIM_WATCHDOG_MS";

/// What a firmware process needs to know about its boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareEnv {
    /// The flash file.
    pub flash: PathBuf,
    /// Faults for this boot.
    pub faults: Faults,
    /// The access point the board can see (SSID, passphrase).
    pub ap: Option<(String, String)>,
    /// Boot number, from 1.
    pub boot: u32,
    /// The version of the installed app (what the firmware reports as its own).
    pub version: String,
    /// The flash takes the chip's time ([`crate::flash::Timing::W25Q16`]).
    pub flash_timing: bool,
    /// The heap the firmware may use, in bytes (`None`: no limit).
    pub heap_limit: Option<usize>,
    /// The lab bench's command file ([`crate::control`]), if any.
    pub control: Option<PathBuf>,
    /// The app's watchdog period (the chip's is 15 s; tests shorten it).
    pub watchdog: std::time::Duration,
}

impl FirmwareEnv {
    /// The environment variables that carry this to the child.
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (ENV_FLASH.into(), self.flash.display().to_string()),
            (ENV_FAULTS.into(), self.faults.to_args().join(" ")),
            (ENV_BOOT.into(), self.boot.to_string()),
            (ENV_VERSION.into(), self.version.clone()),
            (ENV_TIMING.into(), u8::from(self.flash_timing).to_string()),
            (ENV_HEAP.into(), self.heap_limit.map_or(String::new(), |l| l.to_string())),
            (ENV_WATCHDOG.into(), self.watchdog.as_millis().to_string()),
        ];
        if let Some(c) = &self.control {
            v.push((ENV_CONTROL.into(), c.display().to_string()));
        }
        if let Some((s, p)) = &self.ap {
            v.push((ENV_AP.into(), format!("{s}\n{p}")));
        }
        v
    }

    /// Reads it back in the child; `None` when this process is no firmware run.
    pub fn from_env() -> Option<Self> {
        let flash = PathBuf::from(std::env::var(ENV_FLASH).ok()?);
        let fault_args: Vec<String> = std::env::var(ENV_FAULTS)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let faults = Faults::from_args(&fault_args).unwrap_or_default();
        let ap = std::env::var(ENV_AP)
            .ok()
            .and_then(|s| s.split_once('\n').map(|(a, b)| (a.to_string(), b.to_string())));
        let boot = std::env::var(ENV_BOOT).ok()?.parse().ok()?;
        let version = std::env::var(ENV_VERSION).unwrap_or_default();
        let flash_timing = std::env::var(ENV_TIMING).is_ok_and(|v| v == "1");
        let heap_limit = std::env::var(ENV_HEAP).ok().and_then(|v| v.parse().ok());
        let control = std::env::var(ENV_CONTROL).ok().map(PathBuf::from);
        let watchdog = std::env::var(ENV_WATCHDOG)
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(crate::rtos::watchdog::APP_PERIOD, std::time::Duration::from_millis);
        Some(Self { flash, faults, ap, boot, version, flash_timing, heap_limit, control, watchdog })
    }

    /// Powers on the SDK side of the board in this (firmware) process, up to where the SDK's
    /// `main()` runs the firmware's entry: opens the flash (with the chip's timing if asked),
    /// sets this boot's faults, access point and heap limit, runs what `main()` runs before
    /// the entry (`ws63_upg_init`; WiFi starts initialising in its own task), leaves the
    /// kernel initialised but not started, arms the app's watchdog and makes a panic end the
    /// run as the chip's panic handler does (it prints and reboots). Call it before the
    /// firmware's entry point, then [`crate::rtos::start_kernel`].
    ///
    /// # Errors
    /// When the flash file cannot be opened.
    pub fn start(&self) -> std::io::Result<()> {
        // The board's power is the supervisor: when it goes, this run stops too, instead of
        // living on as an orphan.
        // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and changes only this
        // process's own attribute.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        // SAFETY: getppid has no preconditions.
        if unsafe { libc::getppid() } == 1 {
            // The supervisor was already gone before the line above took effect.
            std::process::exit(board::EXIT_POWER_CUT);
        }
        flash::open(&self.flash)?;
        flash::set_timing(self.flash_timing.then_some(flash::Timing::W25Q16));
        crate::heap::set_limit(self.heap_limit);
        self.faults.install();
        upgrade::reset_ram_state();
        wifi::reset();
        if let Some((s, p)) = &self.ap {
            wifi::set_access_point(s, p);
        }
        crate::rtos::reset_kernel();
        board::install_panic_reboot();
        crate::rtos::watchdog::arm(self.watchdog, board::watchdog_reset);
        if let Some(c) = &self.control {
            crate::control::watch(c.clone());
        }
        // The SDK's main(): the upgrade module is initialised before any app entry runs.
        upgrade::ws63_upg_init();
        Ok(())
    }
}

/// How a boot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The firmware asked for a reboot.
    Reboot,
    /// The power was cut (during the firmware's run or flashboot's).
    PowerCut,
    /// The app's watchdog reset the chip: a firmware thread kept idle out for 15 s.
    Watchdog,
    /// The firmware panicked (or an allocation failed, which on the chip is a panic): the
    /// chip's panic handler prints and reboots.
    Panic,
    /// The firmware exited by itself with this status (a firmware never does; tests do).
    Exited(i32),
    /// The firmware was killed by another signal (it crashed, or the supervisor was stopped).
    Killed,
    /// No app ran: flashboot reset the chip fifteen times without an intact app to start and
    /// halted. The board cannot boot until its power is cycled.
    Halted,
}

impl From<ExitStatus> for RunEnd {
    fn from(s: ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(board::EXIT_REBOOT), _) => RunEnd::Reboot,
            (Some(board::EXIT_POWER_CUT), _) => RunEnd::PowerCut,
            (Some(board::EXIT_WATCHDOG), _) => RunEnd::Watchdog,
            (Some(board::EXIT_PANIC), _) | (None, Some(libc::SIGABRT)) => RunEnd::Panic,
            (Some(c), _) => RunEnd::Exited(c),
            (None, _) => RunEnd::Killed,
        }
    }
}

/// One boot of the board: from a reset to the end of the firmware run that followed (or to
/// flashboot halting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootRecord {
    /// Boot number, from 1.
    pub boot: u32,
    /// What flashboot did at each of its runs, in order: all but the last ended in a reset
    /// of the chip (an upgrade step, an app that failed its check); the last started the app
    /// ([`FlashbootOutcome::NoUpgrade`]), or halted, or lost its power.
    pub flashboot: Vec<FlashbootOutcome>,
    /// The version of the app that then ran (`None`: none ran).
    pub version: Option<String>,
    /// How the boot ended.
    pub end: RunEnd,
}

impl BootRecord {
    /// The upgrade step's outcome at this boot: the first flashboot run's, unless that found
    /// nothing to do.
    pub fn upgrade(&self) -> &FlashbootOutcome {
        self.flashboot.first().unwrap_or(&FlashbootOutcome::NoUpgrade)
    }
}

/// The board: a flash file, the factory version, the access point, faults per boot.
pub struct Supervisor {
    flash: PathBuf,
    factory_version: String,
    ap: Option<(String, String)>,
    boots: u32,
    counters: BootCounters,
    /// The flash takes the chip's time (in the firmware's runs; flashboot's time counts for
    /// its watchdog). Off by default.
    pub flash_timing: bool,
    /// The heap the firmware may use (`None`: no limit, the default).
    pub heap_limit: Option<usize>,
    /// The lab bench's command file for the firmware runs ([`crate::control`]).
    pub control: Option<PathBuf>,
    /// The app's watchdog period in the firmware runs (the chip's 15 s by default).
    pub watchdog: std::time::Duration,
    /// Faults for the next boot's firmware run (then cleared).
    pub next_faults: Faults,
    /// Faults for the next boot's flashboot step (then cleared).
    pub next_flashboot_faults: Faults,
    /// The root public key the board's flash holds (written at power-on when set; `None`
    /// leaves the flash's key area as it is, erased on a factory-fresh board: then only
    /// SHA-256-mode packages verify).
    pub root_key: Option<crate::keys::VerifyingKey>,
}

impl Supervisor {
    /// A board with `flash`; a board whose flash file does not exist yet is factory-fresh:
    /// the file is made with `factory_version` installed. (An existing flash is never
    /// repaired: a board whose app is gone stays so.)
    pub fn new(flash: &Path, factory_version: &str) -> Self {
        Self {
            flash: flash.to_path_buf(),
            factory_version: factory_version.to_string(),
            ap: None,
            boots: 0,
            counters: BootCounters::default(),
            flash_timing: false,
            heap_limit: None,
            control: None,
            watchdog: crate::rtos::watchdog::APP_PERIOD,
            next_faults: Faults::default(),
            next_flashboot_faults: Faults::default(),
            root_key: None,
        }
    }

    /// Gives the board a root public key (see [`Supervisor::root_key`]).
    pub fn with_root_key(mut self, key: crate::keys::VerifyingKey) -> Self {
        self.root_key = Some(key);
        self
    }

    /// Sets the access point the board can see.
    pub fn with_access_point(mut self, ssid: &str, passphrase: &str) -> Self {
        self.ap = Some((ssid.to_string(), passphrase.to_string()));
        self
    }

    /// Makes the flash take the chip's time (see [`Supervisor::flash_timing`]).
    pub fn with_flash_timing(mut self, on: bool) -> Self {
        self.flash_timing = on;
        self
    }

    fn open_flash(&self) -> std::io::Result<Flash> {
        let fresh = !self.flash.exists();
        let mut f = Flash::open(&self.flash)?;
        if fresh {
            upgrade::factory_install(&mut f, &self.factory_version)
                .map_err(|e| std::io::Error::other(format!("factory install: {e:?}")))?;
        }
        if let Some(k) = &self.root_key {
            upgrade::set_root_key(&mut f, Some(k))
                .map_err(|e| std::io::Error::other(format!("root key: {e:?}")))?;
        }
        f.sync();
        Ok(f)
    }

    /// The installed app's version, read from the flash file (`None`: no intact app).
    ///
    /// # Errors
    /// When the flash file cannot be opened.
    pub fn installed_version(&self) -> std::io::Result<Option<String>> {
        Ok(upgrade::installed_version(&mut self.open_flash()?))
    }

    /// The `update_result` of the last finished upgrade, from the flash file.
    ///
    /// # Errors
    /// When the flash file cannot be opened.
    pub fn last_upgrade_result(&self) -> std::io::Result<Option<u32>> {
        Ok(upgrade::last_result(&mut self.open_flash()?))
    }

    /// One boot: flashboot (resetting as often as it does), then the firmware run that `spawn`
    /// starts (give the child the environment of the [`FirmwareEnv`]), until it ends.
    ///
    /// # Errors
    /// When the flash file cannot be opened or the child cannot be started or waited for.
    pub fn boot(
        &mut self,
        spawn: &mut dyn FnMut(&FirmwareEnv) -> std::io::Result<Child>,
    ) -> std::io::Result<BootRecord> {
        self.boots += 1;
        let timing = self.flash_timing.then_some(flash::Timing::W25Q16);
        let mut outcomes = Vec::new();
        let version = {
            let mut f = self.open_flash()?;
            std::mem::take(&mut self.next_flashboot_faults).install();
            let end = loop {
                let (outcome, end) = upgrade::flashboot(&mut f, &mut self.counters, timing);
                let cut = outcome == FlashbootOutcome::PowerCut;
                outcomes.push(outcome);
                if cut {
                    // The next power-on starts with the register cleared.
                    self.counters = BootCounters::default();
                    break None;
                }
                match end {
                    FlashbootEnd::RunApp(v) => break Some(Ok(v)),
                    FlashbootEnd::Halt => break Some(Err(())),
                    FlashbootEnd::Reset => {}
                }
            };
            crate::faults::clear();
            f.sync();
            end
        };
        let (version, end) = match version {
            None => (None, RunEnd::PowerCut),
            Some(Err(())) => {
                // Halted until the power is cycled: the next boot is a power-on.
                self.counters = BootCounters::default();
                (None, RunEnd::Halted)
            }
            Some(Ok(v)) => {
                let env = FirmwareEnv {
                    flash: self.flash.clone(),
                    faults: std::mem::take(&mut self.next_faults),
                    ap: self.ap.clone(),
                    boot: self.boots,
                    version: v.clone(),
                    flash_timing: self.flash_timing,
                    heap_limit: self.heap_limit,
                    control: self.control.clone(),
                    watchdog: self.watchdog,
                };
                let end = RunEnd::from(spawn(&env)?.wait()?);
                if end == RunEnd::PowerCut {
                    self.counters = BootCounters::default();
                }
                (Some(v), end)
            }
        };
        Ok(BootRecord { boot: self.boots, flashboot: outcomes, version, end })
    }
}

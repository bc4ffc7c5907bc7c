//! The board around the firmware: power-on, flashboot, the firmware run, reboot.
//!
//! Each boot, the supervisor (its own process) plays flashboot on the flash file
//! ([`crate::upgrade::flashboot`]), reads the installed app's version, then starts the firmware
//! as a child process and waits for it: a reboot or a power cut ends that process (see
//! [`crate::board`]) and the next boot begins. The child learns its boot through
//! [`FirmwareEnv`] (environment variables), and calls [`FirmwareEnv::start`] before the
//! firmware's entry point.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};

use crate::faults::Faults;
use crate::flash::Flash;
use crate::upgrade::{self, FlashbootOutcome};
use crate::{board, flash, wifi};

const ENV_FLASH: &str = "WS63SIM_FLASH";
const ENV_FAULTS: &str = "WS63SIM_FAULTS";
const ENV_AP: &str = "WS63SIM_AP";
const ENV_BOOT: &str = "WS63SIM_BOOT";
const ENV_VERSION: &str = "WS63SIM_VERSION";

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
}

impl FirmwareEnv {
    /// The environment variables that carry this to the child.
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (ENV_FLASH.into(), self.flash.display().to_string()),
            (ENV_FAULTS.into(), self.faults.to_args().join(" ")),
            (ENV_BOOT.into(), self.boot.to_string()),
            (ENV_VERSION.into(), self.version.clone()),
        ];
        if let Some((s, p)) = &self.ap {
            v.push((ENV_AP.into(), format!("{s}\n{p}")));
        }
        v
    }

    /// Reads it back in the child; `None` when this process is no firmware run.
    pub fn from_env() -> Option<Self> {
        let flash = PathBuf::from(std::env::var(ENV_FLASH).ok()?);
        let mut faults = Faults::default();
        let fault_args = std::env::var(ENV_FAULTS).unwrap_or_default();
        let mut it = fault_args.split_whitespace().map(str::to_string);
        while let Some(a) = it.next() {
            let _ = faults.parse_arg(&a, &mut it);
        }
        let ap = std::env::var(ENV_AP)
            .ok()
            .and_then(|s| s.split_once('\n').map(|(a, b)| (a.to_string(), b.to_string())));
        let boot = std::env::var(ENV_BOOT).ok()?.parse().ok()?;
        let version = std::env::var(ENV_VERSION).unwrap_or_default();
        Some(Self { flash, faults, ap, boot, version })
    }

    /// Powers on the SDK side of the board in this (firmware) process: opens the flash, sets
    /// this boot's faults and access point. Call it before the firmware's entry point.
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
        self.faults.install();
        upgrade::reset_ram_state();
        wifi::reset();
        if let Some((s, p)) = &self.ap {
            wifi::set_access_point(s, p);
        }
        Ok(())
    }
}

/// How a firmware run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// It asked for a reboot.
    Reboot,
    /// Its power was cut.
    PowerCut,
    /// It exited by itself with this status (a firmware never does; tests do).
    Exited(i32),
    /// It was killed by a signal (it crashed, or the supervisor was stopped).
    Killed,
}

impl From<ExitStatus> for RunEnd {
    fn from(s: ExitStatus) -> Self {
        match s.code() {
            Some(board::EXIT_REBOOT) => RunEnd::Reboot,
            Some(board::EXIT_POWER_CUT) => RunEnd::PowerCut,
            Some(c) => RunEnd::Exited(c),
            None => RunEnd::Killed,
        }
    }
}

/// One boot of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootRecord {
    /// Boot number, from 1.
    pub boot: u32,
    /// What flashboot did.
    pub flashboot: FlashbootOutcome,
    /// The version of the app that then ran.
    pub version: Option<String>,
    /// How the run ended.
    pub end: RunEnd,
}

/// The board: a flash file, the factory version, the access point, faults per boot.
pub struct Supervisor {
    flash: PathBuf,
    factory_version: String,
    ap: Option<(String, String)>,
    boots: u32,
    /// Faults for the next boot's firmware run (then cleared).
    pub next_faults: Faults,
    /// Faults for the next boot's flashboot step (then cleared).
    pub next_flashboot_faults: Faults,
}

impl Supervisor {
    /// A board with `flash` (created on first use, with `factory_version` installed).
    pub fn new(flash: &Path, factory_version: &str) -> Self {
        Self {
            flash: flash.to_path_buf(),
            factory_version: factory_version.to_string(),
            ap: None,
            boots: 0,
            next_faults: Faults::default(),
            next_flashboot_faults: Faults::default(),
        }
    }

    /// Sets the access point the board can see.
    pub fn with_access_point(mut self, ssid: &str, passphrase: &str) -> Self {
        self.ap = Some((ssid.to_string(), passphrase.to_string()));
        self
    }

    /// The installed app's version, read from the flash file.
    ///
    /// # Errors
    /// When the flash file cannot be opened.
    pub fn installed_version(&self) -> std::io::Result<Option<String>> {
        Ok(upgrade::installed_version(&mut Flash::open(&self.flash)?))
    }

    /// The `update_result` of the last finished upgrade, from the flash file.
    ///
    /// # Errors
    /// When the flash file cannot be opened.
    pub fn last_upgrade_result(&self) -> std::io::Result<Option<u32>> {
        Ok(upgrade::last_result(&mut Flash::open(&self.flash)?))
    }

    /// One boot: flashboot, then the firmware run that `spawn` starts (give the child the
    /// environment of the [`FirmwareEnv`]), until it ends.
    ///
    /// # Errors
    /// When the flash file cannot be opened or the child cannot be started or waited for.
    pub fn boot(
        &mut self,
        spawn: &mut dyn FnMut(&FirmwareEnv) -> std::io::Result<Child>,
    ) -> std::io::Result<BootRecord> {
        self.boots += 1;
        let (outcome, version) = {
            let mut f = Flash::open(&self.flash)?;
            if upgrade::installed_version(&mut f).is_none() {
                upgrade::factory_install(&mut f, &self.factory_version)
                    .map_err(|e| std::io::Error::other(format!("factory install: {e:?}")))?;
            }
            std::mem::take(&mut self.next_flashboot_faults).install();
            let outcome = upgrade::flashboot(&mut f);
            crate::faults::clear();
            f.sync();
            (outcome, upgrade::installed_version(&mut f))
        };
        let env = FirmwareEnv {
            flash: self.flash.clone(),
            faults: std::mem::take(&mut self.next_faults),
            ap: self.ap.clone(),
            boot: self.boots,
            version: version.clone().unwrap_or_default(),
        };
        let end = if outcome == FlashbootOutcome::PowerCut {
            RunEnd::PowerCut
        } else {
            RunEnd::from(spawn(&env)?.wait()?)
        };
        Ok(BootRecord { boot: self.boots, flashboot: outcome, version, end })
    }
}

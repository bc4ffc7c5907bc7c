//! The SDK's upgrade (FOTA) API as a typestate: one upgrade at a time, written in order, the
//! upgrade requested only once every declared byte is written.
//!
//! ```text
//! Upgrade::take()?          the one upgrade (a second take is Error::Busy)
//!   .prepare(len)?          storage checked, FOTA area erased      -> UpgradeWriter
//!   .write(bytes)? ...      sequential, split into the API's u16 writes, watchdog kicked
//!   .finish()?              every byte written? then request_upgrade(false): the SDK
//!                           verifies the whole package             -> ReadyUpgrade
//!   .reboot()               flashboot installs it
//! ```
//!
//! Dropping any stage gives the upgrade back (the flash keeps what was written; the next
//! `prepare` erases it).

use core::cell::Cell;

use critical_section::Mutex;
use ws63_sdk_sys as sdk;

use crate::error::{Error, SdkError};

/// The largest write the SDK's API takes at once.
pub const MAX_WRITE: usize = u16::MAX as usize;

static BUSY: Mutex<Cell<bool>> = Mutex::new(Cell::new(false));

/// The right to run the one upgrade.
#[derive(Debug)]
pub struct Upgrade {
    _private: (),
}

/// A prepared upgrade taking the package's bytes in order.
#[derive(Debug)]
pub struct UpgradeWriter {
    _upgrade: Upgrade,
    len: u32,
    written: u32,
}

/// A written and verified package, marked for flashboot; reboot to install it.
#[derive(Debug)]
pub struct ReadyUpgrade {
    _upgrade: Upgrade,
}

/// What the upgrade module reported at start-up (`uapi_upg_get_status`).
///
/// After flashboot has run an upgrade, the app never sees its outcome here: flashboot resets
/// after the upgrade step, and its own init at the next boot consumes the one-shot "version
/// changed" flag, so the app finds `None`. (The firmware learns that an OTA worked from the
/// version it runs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// An upgrade's outcome was still unread: it succeeded.
    Succeeded,
    /// An upgrade's outcome was still unread: it failed.
    Failed,
    /// An upgrade is pending or in progress.
    Updating,
    /// Nothing to report.
    None,
}

fn init() -> Result<(), Error> {
    // The SDK's main() has initialised the module in this build: its storage size is known
    // then. (A second ws63_upg_init would only answer ALREADY_INIT and print "[UPG] init
    // failed!" on the console.)
    // SAFETY: a plain SDK call.
    if unsafe { sdk::uapi_upg_get_storage_size() } != 0 {
        return Ok(());
    }
    // SAFETY: a plain SDK call.
    match unsafe { sdk::ws63_upg_init() } {
        sdk::ERRCODE_UPG_ALREADY_INIT => Ok(()),
        code => Ok(SdkError::check(code)?),
    }
}

/// The status the upgrade module read at start-up (initialising it if needed).
///
/// # Errors
/// When the module cannot be initialised.
pub fn status() -> Result<Status, Error> {
    init()?;
    // SAFETY: a plain SDK call.
    Ok(match unsafe { sdk::uapi_upg_get_status() } {
        sdk::UPG_STATUS_SUCC => Status::Succeeded,
        sdk::UPG_STATUS_FAIL => Status::Failed,
        sdk::UPG_STATUS_UPDATING => Status::Updating,
        _ => Status::None,
    })
}

impl Upgrade {
    /// Takes the one upgrade. The SDK's `main()` has initialised the upgrade module already
    /// in this build (`ERRCODE_UPG_ALREADY_INIT` is the normal answer); an image whose
    /// `main()` does not is initialised here.
    ///
    /// # Errors
    /// [`Error::Busy`] while another upgrade exists; the SDK's code if init fails.
    pub fn take() -> Result<Self, Error> {
        let taken = critical_section::with(|cs| BUSY.borrow(cs).replace(true));
        if taken {
            return Err(Error::Busy);
        }
        let up = Upgrade { _private: () };
        init()?;
        Ok(up)
    }

    /// The most bytes a package may have.
    pub fn storage_size(&self) -> u32 {
        // SAFETY: a plain SDK call.
        unsafe { sdk::uapi_upg_get_storage_size() }
    }

    /// Prepares for a package of `len` bytes: checks it fits, then lets the SDK erase the
    /// storage.
    ///
    /// # Errors
    /// [`Error::TooLarge`] before anything is erased; `InvalidArgument` for 0; the SDK's code.
    pub fn prepare(self, len: u32) -> Result<UpgradeWriter, Error> {
        if len == 0 {
            return Err(Error::InvalidArgument("package length 0"));
        }
        let capacity = self.storage_size();
        if len > capacity {
            return Err(Error::TooLarge { len, capacity });
        }
        let mut info = sdk::upg_prepare_info_t { package_len: len };
        // SAFETY: `info` is a valid prepare_info.
        SdkError::check(unsafe { sdk::uapi_upg_prepare(&mut info) })?;
        Ok(UpgradeWriter { _upgrade: self, len, written: 0 })
    }
}

impl Drop for Upgrade {
    fn drop(&mut self) {
        critical_section::with(|cs| BUSY.borrow(cs).set(false));
    }
}

impl UpgradeWriter {
    /// Appends `data` at the next offset, in writes of at most [`MAX_WRITE`] bytes, kicking
    /// the watchdog after each.
    ///
    /// # Errors
    /// [`Error::Overflow`] (nothing written) past the declared length; the SDK's code.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        let end = u64::from(self.written) + data.len() as u64;
        if end > u64::from(self.len) {
            return Err(Error::Overflow { len: self.len });
        }
        for chunk in data.chunks(MAX_WRITE) {
            // SAFETY: `chunk` is valid for its length, which fits u16.
            let rc = unsafe {
                sdk::uapi_upg_write_package_sync(self.written, chunk.as_ptr(), chunk.len() as u16)
            };
            SdkError::check(rc)?;
            self.written += chunk.len() as u32;
            // SAFETY: a plain SDK call.
            unsafe { sdk::upg_watchdog_kick() };
        }
        Ok(())
    }

    /// Writes `data` at `offset`, which must be where the previous write ended.
    ///
    /// # Errors
    /// [`Error::OutOfOrder`] (nothing written) for any other offset; as [`Self::write`].
    pub fn write_at(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        if offset != self.written {
            return Err(Error::OutOfOrder { expected: self.written, got: offset });
        }
        self.write(data)
    }

    /// Bytes written so far (the next write's offset).
    pub fn written(&self) -> u32 {
        self.written
    }

    /// The declared package length.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether nothing was declared (never: `prepare` refuses 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads back stored package bytes (for checks after a restart).
    ///
    /// # Errors
    /// `InvalidArgument` beyond what was written; the SDK's code.
    pub fn read_back(&self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        let end = u64::from(offset) + buf.len() as u64;
        if end > u64::from(self.written) {
            return Err(Error::InvalidArgument("read beyond the written bytes"));
        }
        for (i, chunk) in buf.chunks_mut(MAX_WRITE).enumerate() {
            let at = offset + (i * MAX_WRITE) as u32;
            // SAFETY: `chunk` is valid for writes of its length.
            let rc =
                unsafe { sdk::uapi_upg_read_package(at, chunk.as_mut_ptr(), chunk.len() as u32) };
            SdkError::check(rc)?;
        }
        Ok(())
    }

    /// Requests the upgrade once every declared byte is written: the SDK verifies the whole
    /// package and marks it for flashboot (no reboot yet).
    ///
    /// # Errors
    /// [`Error::Incomplete`] without asking the SDK when bytes are missing; the SDK's verdict
    /// (`ERRCODE_FAIL` for a package that does not verify).
    pub fn finish(self) -> Result<ReadyUpgrade, Error> {
        if self.written != self.len {
            return Err(Error::Incomplete { written: self.written, len: self.len });
        }
        // SAFETY: a plain SDK call.
        SdkError::check(unsafe { sdk::uapi_upg_request_upgrade(false) })?;
        Ok(ReadyUpgrade { _upgrade: self._upgrade })
    }
}

impl ReadyUpgrade {
    /// Reboots into flashboot, which installs the package.
    pub fn reboot(self) -> ! {
        // SAFETY: a plain SDK call; it does not return.
        unsafe { sdk::upg_reboot() };
        #[allow(clippy::empty_loop)]
        loop {}
    }
}

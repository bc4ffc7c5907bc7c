//! The board's 4 MiB NOR flash, kept in a file, and the SDK's default partition table.
//!
//! NOR semantics, as on the chip: erased bytes read 0xFF, erasing works on 4 KiB sectors
//! ([`Flash::erase`] leaves bytes outside the range as they were, like the SDK's
//! `upg_flash_erase`), and programming can only clear bits. Programming over bytes that would
//! need a 0 bit set back to 1 leaves what the chip would hold (old AND new) and fails with
//! [`FlashError::NotErased`]: on the chip that write silently corrupts data, so the simulator
//! makes it loud. Programming the same bytes again, or clearing more bits (the SDK's flag
//! updates 0xFF -> 0x0F -> 0x00), is fine.
//!
//! Every program and erase counts as one flash write for fault injection
//! ([`crate::faults`]): a power cut lands half of that operation, then stops.
//!
//! **Time.** With [`set_timing`] the flash takes the time a W25Q16-class part takes
//! ([`Timing::W25Q16`]: 45 ms a 4 KiB sector erase, 150 ms a 64 KiB block erase, 0.7 ms a
//! 256-byte page program), and [`op`] runs an operation as the SDK's driver does: with
//! interrupts locked, so no other firmware thread runs meanwhile (see
//! [`crate::rtos::with_interrupts_locked`]). The firmware side of the board uses [`op`]; the
//! supervisor's flashboot runs before any firmware thread and uses the flash directly.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ws63_sdk_sys as sdk;

use crate::faults::{self, WriteFate};

/// Flash size: the default partition table ends at 4 MiB.
pub const FLASH_SIZE: u32 = 0x40_0000;
/// Erase unit.
pub const SECTOR_SIZE: u32 = 0x1000;

/// The default partition table (`param_sector.json`): id, flash offset, size.
pub const PARTITIONS: &[(sdk::partition_ids_t, u32, u32)] = &[
    (sdk::PARTITION_FLASH_ROOT_PUBLIC_KEYS_AREA, 0x00_0000, 0x00_0800),
    (sdk::PARTITION_SSB, 0x00_2000, 0x00_6000),
    (sdk::PARTITION_CUSTOMER_FACTORY, 0x00_8000, 0x00_4000),
    (sdk::PARTITION_NV_DATA_BACKUP, 0x00_C000, 0x00_4000),
    (sdk::PARTITION_FLASH_BOOT_IMAGE_BACKUP, 0x01_0000, 0x01_0000),
    (sdk::PARTITION_FLASH_BOOT_IMAGE, 0x02_0000, 0x01_0000),
    (sdk::PARTITION_APP_IMAGE, 0x03_0000, 0x24_0000),
    (sdk::PARTITION_FOTA_DATA, 0x27_0000, 0x18_3000),
    (sdk::PARTITION_CRASH_INFO, 0x3F_B000, 0x00_1000),
    (sdk::PARTITION_NV_DATA, 0x3F_C000, 0x00_4000),
];

/// The partition's (offset, size) in the default table.
pub fn partition(id: sdk::partition_ids_t) -> Option<(u32, u32)> {
    PARTITIONS.iter().find(|p| p.0 == id).map(|p| (p.1, p.2))
}

/// How long the flash takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A 4 KiB sector erase.
    pub sector_erase: Duration,
    /// A 64 KiB block erase.
    pub block_erase: Duration,
    /// A 256-byte page program (also for part of a page).
    pub page_program: Duration,
}

impl Timing {
    /// Typical figures of the W25Q16 datasheet (the emulator reports this part's JEDEC id,
    /// 0xEF6015): sector erase 45 ms, 64 KiB block erase 150 ms, page program 0.7 ms.
    pub const W25Q16: Timing = Timing {
        sector_erase: Duration::from_millis(45),
        block_erase: Duration::from_millis(150),
        page_program: Duration::from_micros(700),
    };

    /// What erasing `[addr, addr + len)` takes, erasing greedily: 64 KiB blocks where the
    /// range covers a whole aligned block, 4 KiB sectors elsewhere (as the SDK's
    /// `do_greedy_erase`).
    pub fn erase_time(&self, addr: u32, len: u32) -> Duration {
        greedy_blocks(addr, len)
            .map(|(_, n)| if n == BLOCK_SIZE { self.block_erase } else { self.sector_erase })
            .sum()
    }

    /// What programming `len` bytes at `addr` takes: one page program per 256-byte page
    /// touched.
    pub fn program_time(&self, addr: u32, len: usize) -> Duration {
        if len == 0 {
            return Duration::ZERO;
        }
        let first = addr / PAGE_SIZE;
        let last = (addr + len as u32 - 1) / PAGE_SIZE;
        self.page_program * (last - first + 1)
    }

    /// The time the flash alone needs to store a package of `len` bytes as `uapi_upg_prepare`
    /// and the writes do: the erase of the package's sectors plus the status region, then one
    /// program per page. The physical floor of an OTA on the chip.
    pub fn package_time(&self, len: u32) -> Duration {
        let erase = self.erase_time(crate::upgrade::FOTA_BASE, len.next_multiple_of(SECTOR_SIZE))
            + self.erase_time(crate::upgrade::FLAG_REGION.0, crate::upgrade::FLAG_REGION.1);
        erase + self.program_time(crate::upgrade::FOTA_BASE, len as usize)
    }
}

/// A 64 KiB erase block.
pub const BLOCK_SIZE: u32 = 0x1_0000;
/// A program page.
pub const PAGE_SIZE: u32 = 256;

/// The erase units covering `[addr, addr + len)` (which must be sector-aligned at both ends
/// for the result to be exact): whole aligned 64 KiB blocks where they fit, sectors
/// elsewhere.
pub fn greedy_blocks(addr: u32, len: u32) -> impl Iterator<Item = (u32, u32)> {
    let end = addr.saturating_add(len);
    let mut at = addr;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let n = if at % BLOCK_SIZE == 0 && end - at >= BLOCK_SIZE {
            BLOCK_SIZE
        } else {
            (SECTOR_SIZE - at % SECTOR_SIZE).min(end - at)
        };
        let unit = (at, n);
        at += n;
        Some(unit)
    })
}

static TIMING: Mutex<Option<Timing>> = Mutex::new(None);

/// Makes the flash take time (`None`: instant, the default).
pub fn set_timing(t: Option<Timing>) {
    *TIMING.lock().unwrap_or_else(|p| p.into_inner()) = t;
}

/// The flash's timing, if it takes time.
pub fn timing() -> Option<Timing> {
    *TIMING.lock().unwrap_or_else(|p| p.into_inner())
}

fn spend(d: impl FnOnce(&Timing) -> Duration) {
    if let Some(t) = timing() {
        std::thread::sleep(d(&t));
    }
}

/// Runs one flash operation of the firmware's side as the SDK's driver does: interrupts
/// locked (no other firmware thread runs) for as long as the operation takes.
pub fn op<R>(f: impl FnOnce(&mut Flash) -> Result<R, FlashError>) -> Result<R, FlashError> {
    crate::rtos::with_interrupts_locked(|| with(f))
}

/// Why a flash operation did not happen as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashError {
    /// Outside the flash.
    OutOfRange,
    /// Programming would have to set bits that are 0 (the bytes were not erased).
    NotErased,
    /// The operation failed (injected fault); nothing was written.
    WriteFailed,
    /// The power went during the operation; half of it landed.
    PowerCut,
    /// The flash file could not be read or written.
    Io,
}

/// The flash behind a file.
pub struct Flash {
    file: File,
}

static FLASH: Mutex<Option<Flash>> = Mutex::new(None);

/// The board's flash, once [`open`] has run.
pub fn get() -> MutexGuard<'static, Option<Flash>> {
    FLASH.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens (creating, all erased) the flash file and makes it the board's flash.
///
/// # Errors
/// When the file cannot be created, read or has another size.
pub fn open(path: &Path) -> std::io::Result<()> {
    let flash = Flash::open(path)?;
    *get() = Some(flash);
    Ok(())
}

/// Runs `f` on the board's flash; `Err(FlashError::Io)` when no flash is open.
pub fn with<R>(f: impl FnOnce(&mut Flash) -> Result<R, FlashError>) -> Result<R, FlashError> {
    match get().as_mut() {
        Some(fl) => f(fl),
        None => Err(FlashError::Io),
    }
}

impl Flash {
    /// Opens a flash file, creating an erased one if there is none.
    ///
    /// # Errors
    /// When the file cannot be created or read, or is not [`FLASH_SIZE`] bytes.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let fresh = !path.exists();
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        if fresh {
            file.write_all(&vec![0xFF; FLASH_SIZE as usize])?;
            file.sync_all()?;
        }
        let len = file.metadata()?.len();
        if len != u64::from(FLASH_SIZE) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {len} bytes, a WS63 flash image has {FLASH_SIZE}", path.display()),
            ));
        }
        Ok(Self { file })
    }

    fn check(addr: u32, len: usize) -> Result<(), FlashError> {
        match u64::from(addr).checked_add(len as u64) {
            Some(end) if end <= u64::from(FLASH_SIZE) => Ok(()),
            _ => Err(FlashError::OutOfRange),
        }
    }

    /// Reads `buf.len()` bytes at `addr`.
    ///
    /// # Errors
    /// Out of range, or the file failed.
    pub fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        Self::check(addr, buf.len())?;
        self.file.seek(SeekFrom::Start(u64::from(addr))).map_err(|_| FlashError::Io)?;
        self.file.read_exact(buf).map_err(|_| FlashError::Io)
    }

    /// Reads `len` bytes at `addr`; bytes past the end of the flash read as 0xFF, as an
    /// unmapped window would not, but so that in-place readers never go out of bounds.
    pub fn read_vec(&mut self, addr: u32, len: usize) -> Vec<u8> {
        let mut v = vec![0xFF; len];
        let avail = (FLASH_SIZE.saturating_sub(addr) as usize).min(len);
        if avail > 0 {
            let _ = self.read(addr, &mut v[..avail]);
        }
        v
    }

    fn write_raw(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        self.file.seek(SeekFrom::Start(u64::from(addr))).map_err(|_| FlashError::Io)?;
        self.file.write_all(data).map_err(|_| FlashError::Io)
    }

    /// Programs `data` at `addr` (NOR: old AND new; see the module).
    ///
    /// # Errors
    /// See [`FlashError`]; with `NotErased` the AND result is in the flash.
    pub fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), FlashError> {
        Self::check(addr, data.len())?;
        let fate = faults::next_flash_write();
        if fate == WriteFate::Fail {
            return Err(FlashError::WriteFailed);
        }
        let data = if fate == WriteFate::PowerCut { &data[..data.len() / 2] } else { data };
        spend(|t| t.program_time(addr, data.len()));
        let mut old = vec![0u8; data.len()];
        self.read(addr, &mut old)?;
        let mut clean = true;
        let new: Vec<u8> = old
            .iter()
            .zip(data)
            .map(|(o, n)| {
                clean &= o & n == *n;
                o & n
            })
            .collect();
        self.write_raw(addr, &new)?;
        if fate == WriteFate::PowerCut {
            return Err(FlashError::PowerCut);
        }
        if clean {
            Ok(())
        } else {
            Err(FlashError::NotErased)
        }
    }

    /// Erases exactly `[addr, addr + len)` to 0xFF (sector erases with the bytes outside the
    /// range written back, as the SDK's `upg_flash_erase` does).
    ///
    /// # Errors
    /// See [`FlashError`]; a power cut erases the first half of the range.
    pub fn erase(&mut self, addr: u32, len: u32) -> Result<(), FlashError> {
        Self::check(addr, len as usize)?;
        let fate = faults::next_flash_write();
        if fate == WriteFate::Fail {
            return Err(FlashError::WriteFailed);
        }
        let len = if fate == WriteFate::PowerCut { len / 2 } else { len };
        spend(|t| t.erase_time(addr, len));
        let ff = [0xFFu8; SECTOR_SIZE as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(SECTOR_SIZE);
            self.write_raw(addr + done, &ff[..n as usize])?;
            done += n;
        }
        if fate == WriteFate::PowerCut {
            return Err(FlashError::PowerCut);
        }
        Ok(())
    }

    /// Makes what was written durable (the file's data reaches the disk).
    pub fn sync(&mut self) {
        let _ = self.file.sync_data();
    }
}

/// `uapi_partition_get_info`: the default table; `ERRCODE_PARTITION_INVALID_PARAMS` for a
/// NULL `info`, `ERRCODE_PARTITION_CONFIG_NOT_FOUND` for an unknown id.
#[export_name = "ws63sim_uapi_partition_get_info"]
pub extern "C" fn uapi_partition_get_info(
    partition_id: sdk::partition_ids_t,
    info: *mut sdk::partition_information_t,
) -> sdk::errcode_t {
    // SAFETY: a non-null `info` is writable (the API's contract).
    let Some(info) = (unsafe { info.as_mut() }) else {
        return sdk::ERRCODE_PARTITION_INVALID_PARAMS;
    };
    let Some((addr, size)) = partition(partition_id) else {
        return sdk::ERRCODE_PARTITION_CONFIG_NOT_FOUND;
    };
    info.type_ = sdk::PARTITION_BY_ADDRESS;
    info.part_info.addr_info =
        sdk::partition_information__bindgen_ty_1__bindgen_ty_1 { addr, size };
    sdk::ERRCODE_SUCC
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_flash(name: &str) -> (std::path::PathBuf, Flash) {
        let p = std::env::temp_dir().join(format!("ws63sim-{name}-{}.flash", std::process::id()));
        let _ = std::fs::remove_file(&p);
        let f = Flash::open(&p).unwrap();
        (p, f)
    }

    #[test]
    fn nor_semantics_erased_is_ff_program_clears_bits_only() {
        let _g = crate::test_lock();
        faults::clear();
        let (p, mut f) = temp_flash("nor");
        assert_eq!(f.read_vec(0x1000, 4), [0xFF; 4]);
        f.program(0x1000, &[0x12, 0x34]).unwrap();
        assert_eq!(f.read_vec(0x1000, 3), [0x12, 0x34, 0xFF]);
        // The same data again, or fewer bits, is a legal NOR program.
        f.program(0x1000, &[0x12, 0x34]).unwrap();
        f.program(0x1000, &[0x02]).unwrap();
        // Setting a 0 bit back to 1 fails, and the flash holds what the chip would: AND.
        assert_eq!(f.program(0x1001, &[0xFF, 0x00]), Err(FlashError::NotErased));
        assert_eq!(f.read_vec(0x1000, 3), [0x02, 0x34, 0x00]);
        f.erase(0x1001, 1).unwrap();
        assert_eq!(f.read_vec(0x1000, 3), [0x02, 0xFF, 0x00], "erase is exact to the byte");
        assert_eq!(f.program(FLASH_SIZE - 1, &[0, 0]), Err(FlashError::OutOfRange));
        drop(f);
        // The file keeps it across opens (reboots).
        let mut f = Flash::open(&p).unwrap();
        assert_eq!(f.read_vec(0x1000, 3), [0x02, 0xFF, 0x00]);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn injected_faults_fail_or_half_write() {
        let _g = crate::test_lock();
        let (p, mut f) = temp_flash("faults");
        faults::Faults {
            flash_write_error_at: Some(1),
            power_cut_at_write: Some(2),
            ..Default::default()
        }
        .install();
        assert_eq!(f.program(0, &[0; 8]), Err(FlashError::WriteFailed));
        assert_eq!(f.read_vec(0, 8), [0xFF; 8]);
        assert_eq!(f.program(0, &[0; 8]), Err(FlashError::PowerCut));
        assert_eq!(f.read_vec(0, 8), [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        f.program(4, &[0; 4]).unwrap();
        assert_eq!(faults::flash_writes(), 3);
        faults::clear();
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn a_flash_file_of_the_wrong_size_is_refused() {
        let p = std::env::temp_dir().join(format!("ws63sim-size-{}.flash", std::process::id()));
        std::fs::write(&p, [0u8; 10]).unwrap();
        let err = Flash::open(&p).err().unwrap();
        assert!(err.to_string().contains("4194304"), "{err}");
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn partition_info_is_the_default_table() {
        let mut info = sdk::partition_information_t::default();
        assert_eq!(uapi_partition_get_info(sdk::PARTITION_FOTA_DATA, &mut info), sdk::ERRCODE_SUCC);
        // SAFETY: the union holds addr_info after a successful call.
        let a = unsafe { info.part_info.addr_info };
        assert_eq!((info.type_, a.addr, a.size), (sdk::PARTITION_BY_ADDRESS, 0x27_0000, 0x18_3000));
        assert_eq!(uapi_partition_get_info(sdk::PARTITION_APP_IMAGE, &mut info), sdk::ERRCODE_SUCC);
        assert_eq!(
            uapi_partition_get_info(0x7F, &mut info),
            sdk::ERRCODE_PARTITION_CONFIG_NOT_FOUND
        );
        assert_eq!(
            uapi_partition_get_info(sdk::PARTITION_APP_IMAGE, std::ptr::null_mut()),
            sdk::ERRCODE_PARTITION_INVALID_PARAMS
        );
    }
}

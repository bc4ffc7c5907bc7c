//! The SDK's upgrade (FOTA) storage API and flashboot's install step, on the simulated flash.
//!
//! Behaviour follows the SDK's `upg_storage.c`, `upg_common.c` and flashboot's
//! `upg_process.c` (WS63 configuration: package stored raw in the FOTA partition, verified in
//! place, SHA-256 hashes):
//!
//! ```text
//! FOTA partition 0x270000..0x3F3000
//!   0x270000  package byte 0 .. (storage size 0x180000)
//!   0x3F0000  status region, 0x3000 (erased by prepare)
//!   0x3F2000  flag area: +0x00 head_magic 0x55AA55AA  +0x04 head_before_offset  +0x08 length
//!             +0x0C firmware_num  +0x10 firmware_flag[20][3]  +0x4F ver_change_flag
//!             +0x50 update_result  +0x64 complete_flag  +0x68 head_end_magic 0xAA55AA55
//! ```
//!
//! - `ws63_upg_init` must run first (the app's `main()` does not call it in `ws63-liteos-app`);
//!   every call before it is `ERRCODE_UPG_NOT_INIT`, a second one `ERRCODE_UPG_ALREADY_INIT`.
//! - `uapi_upg_prepare` erases exactly the package's bytes and the status region, then writes
//!   the head magic and length. Writes may come at any offset below the prepared length (the
//!   SDK does not require order), at most 65535 bytes each; the flash refuses writes over
//!   programmed bytes (see [`crate::flash`]).
//! - `uapi_upg_request_upgrade` verifies the whole package ([`crate::package::verify`]), marks
//!   it for flashboot and reboots only when asked.
//! - At the next boot, [`flashboot`] verifies again, erases the target partition and copies the
//!   image (raw images only: LZMA-compressed images, which real SDK packages carry, are not
//!   decompressed by the simulator and fail with `DECOMPRESS_IMAGE_FAILED`), one attempt per
//!   boot, three per image, then records the result. A failed verification leaves the old app.
//! - `uapi_upg_get_status` returns what init read from the flag area. As in the SDK, flashboot's
//!   own init consumes the one-shot result after an install, so the app then sees
//!   `UPG_STATUS_NONE`; [`last_result`] reads the stored result.

use std::sync::Mutex;

use sdk::errcode_t;
use ws63_sdk_sys as sdk;

use crate::flash::{self, Flash, FlashError};
use crate::package::{self, result};

/// FOTA partition offset.
pub const FOTA_BASE: u32 = 0x27_0000;
/// FOTA partition size.
pub const FOTA_SIZE: u32 = 0x18_3000;
/// Status, buffer and flag sectors at the end of the FOTA partition.
pub const FLAG_REGION: (u32, u32) = (0x3F_0000, 0x3000);
/// `uapi_upg_get_storage_size()`.
pub const STORAGE_SIZE: u32 = FOTA_SIZE - FLAG_REGION.1;
/// The flag area.
pub const FLAG_AREA: u32 = 0x3F_2000;
/// `head_magic`.
pub const HEAD_MAGIC: u32 = 0x55AA_55AA;
/// `head_end_magic`.
pub const END_MAGIC: u32 = 0xAA55_AA55;
/// Image id of NV data (not a firmware).
pub const NV_IMAGE_ID: u32 = 0xCB9E_063C;
/// Image id of a HiLink image (partition of size 0 in the default table).
pub const HILINK_IMAGE_ID: u32 = 0x5A87_A52D;

const F_HEAD: u32 = 0x00;
const F_BEFORE: u32 = 0x04;
const F_LEN: u32 = 0x08;
const F_FW_NUM: u32 = 0x0C;
const F_FW_FLAGS: u32 = 0x10;
const F_VER_CHANGE: u32 = 0x4F;
const F_RESULT: u32 = 0x50;
const F_COMPLETE: u32 = 0x64;
const F_END: u32 = 0x68;

struct Ctx {
    inited: bool,
    package_len: u32,
    status: sdk::upg_status_t,
}

static CTX: Mutex<Ctx> = Mutex::new(Ctx { inited: false, package_len: 0, status: 0 });

fn ctx() -> std::sync::MutexGuard<'static, Ctx> {
    CTX.lock().unwrap_or_else(|p| p.into_inner())
}

/// Forgets the RAM state (what a reboot does to it).
pub fn reset_ram_state() {
    *ctx() = Ctx { inited: false, package_len: 0, status: 0 };
}

fn u32_at(f: &mut Flash, addr: u32) -> u32 {
    package::get(&f.read_vec(addr, 4), 0)
}

/// Maps a flash failure inside the firmware to the SDK's code; a power cut ends the run.
fn flash_code(e: FlashError, erase: bool) -> errcode_t {
    match e {
        FlashError::PowerCut => crate::faults::cut_power(),
        FlashError::NotErased => {
            eprintln!("[ws63-sim] flash write over programmed bytes: the chip would corrupt data");
            sdk::ERRCODE_UPG_FLASH_WRITE_ERROR
        }
        _ if erase => sdk::ERRCODE_UPG_FLASH_ERASE_ERROR,
        _ => sdk::ERRCODE_UPG_FLASH_WRITE_ERROR,
    }
}

fn program_u32(f: &mut Flash, addr: u32, v: u32) -> Result<(), FlashError> {
    f.program(addr, &v.to_le_bytes())
}

/// What the flag area says (`upg_get_status()`), consuming a one-shot result as the SDK does.
fn evaluate_status(f: &mut Flash) -> Result<sdk::upg_status_t, FlashError> {
    if u32_at(f, FLAG_AREA + F_HEAD) != HEAD_MAGIC || u32_at(f, FLAG_AREA + F_END) != END_MAGIC {
        return Ok(sdk::UPG_STATUS_NONE);
    }
    if u32_at(f, FLAG_AREA + F_COMPLETE) != 0 {
        return Ok(sdk::UPG_STATUS_UPDATING);
    }
    if f.read_vec(FLAG_AREA + F_VER_CHANGE, 1)[0] == 0 {
        return Ok(sdk::UPG_STATUS_NONE);
    }
    let status = if u32_at(f, FLAG_AREA + F_RESULT) == result::UPDATE_SUCCESS {
        sdk::UPG_STATUS_SUCC
    } else {
        sdk::UPG_STATUS_FAIL
    };
    match f.program(FLAG_AREA + F_VER_CHANGE, &[0]) {
        Ok(()) => Ok(status),
        Err(FlashError::PowerCut) => Err(FlashError::PowerCut),
        Err(_) => Ok(sdk::UPG_STATUS_NONE),
    }
}

/// The `update_result` flashboot stored, if an upgrade has finished.
pub fn last_result(f: &mut Flash) -> Option<u32> {
    let done = u32_at(f, FLAG_AREA + F_HEAD) == HEAD_MAGIC
        && u32_at(f, FLAG_AREA + F_END) == END_MAGIC
        && u32_at(f, FLAG_AREA + F_COMPLETE) == 0;
    done.then(|| u32_at(f, FLAG_AREA + F_RESULT))
}

/// Whether an upgrade is pending for flashboot.
pub fn pending(f: &mut Flash) -> bool {
    u32_at(f, FLAG_AREA + F_HEAD) == HEAD_MAGIC
        && u32_at(f, FLAG_AREA + F_END) == END_MAGIC
        && u32_at(f, FLAG_AREA + F_COMPLETE) != 0
}

/// `ws63_upg_init`: initialises the upgrade module (reads the status once).
#[export_name = "ws63sim_ws63_upg_init"]
pub extern "C" fn ws63_upg_init() -> errcode_t {
    let mut c = ctx();
    if c.inited {
        return sdk::ERRCODE_UPG_ALREADY_INIT;
    }
    let status = match flash::with(evaluate_status) {
        Ok(s) => s,
        Err(FlashError::PowerCut) => crate::faults::cut_power(),
        Err(_) => sdk::UPG_STATUS_NONE,
    };
    *c = Ctx { inited: true, package_len: 0, status };
    sdk::ERRCODE_SUCC
}

/// `uapi_upg_get_status`: the status read at init (`UPG_STATUS_SUCC` before init, an SDK quirk
/// kept as is).
#[export_name = "ws63sim_uapi_upg_get_status"]
pub extern "C" fn uapi_upg_get_status() -> sdk::upg_status_t {
    ctx().status
}

/// `uapi_upg_get_storage_size`: 0x180000 (0 before init).
#[export_name = "ws63sim_uapi_upg_get_storage_size"]
pub extern "C" fn uapi_upg_get_storage_size() -> u32 {
    if ctx().inited {
        STORAGE_SIZE
    } else {
        0
    }
}

/// `uapi_upg_prepare`.
#[export_name = "ws63sim_uapi_upg_prepare"]
pub extern "C" fn uapi_upg_prepare(prepare_info: *mut sdk::upg_prepare_info_t) -> errcode_t {
    let mut c = ctx();
    if !c.inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    // SAFETY: a non-null prepare_info is readable (the API's contract).
    let len = match unsafe { prepare_info.as_ref() } {
        Some(i) if i.package_len != 0 && i.package_len <= STORAGE_SIZE => i.package_len,
        _ => return sdk::ERRCODE_UPG_INVALID_PARAMETER,
    };
    c.package_len = len;
    drop(c);
    let erased = flash::with(|f| {
        f.erase(FOTA_BASE, len)?;
        f.erase(FLAG_REGION.0, FLAG_REGION.1)
    });
    if let Err(e) = erased {
        return flash_code(e, true);
    }
    let flagged = flash::with(|f| {
        program_u32(f, FLAG_AREA + F_BEFORE, 0)?;
        program_u32(f, FLAG_AREA + F_LEN, len)?;
        program_u32(f, FLAG_AREA + F_HEAD, HEAD_MAGIC)
    });
    match flagged {
        Ok(()) => sdk::ERRCODE_SUCC,
        Err(e) => flash_code(e, false),
    }
}

/// `uapi_upg_write_package_sync`.
#[export_name = "ws63sim_uapi_upg_write_package_sync"]
pub extern "C" fn uapi_upg_write_package_sync(offset: u32, buff: *const u8, len: u16) -> errcode_t {
    let c = ctx();
    if !c.inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    if buff.is_null() {
        return sdk::ERRCODE_UPG_NULL_POINTER;
    }
    if len == 0 {
        return sdk::ERRCODE_UPG_INVALID_BUFF_LEN;
    }
    if c.package_len == 0 {
        return sdk::ERRCODE_UPG_NOT_PREPARED;
    }
    let end = u64::from(offset) + u64::from(len);
    if offset >= STORAGE_SIZE
        || end > u64::from(STORAGE_SIZE)
        || offset >= c.package_len
        || end > u64::from(c.package_len)
    {
        return sdk::ERRCODE_UPG_NO_ENOUGH_SPACE;
    }
    drop(c);
    // SAFETY: `buff` has `len` readable bytes (the API's contract; checked non-null).
    let data = unsafe { std::slice::from_raw_parts(buff, usize::from(len)) };
    match flash::with(|f| f.program(FOTA_BASE + offset, data)) {
        Ok(()) => sdk::ERRCODE_SUCC,
        Err(e) => flash_code(e, false),
    }
}

/// `uapi_upg_read_package`: reads from the FOTA partition; the length check uses its low 16
/// bits, and the read is clipped at the partition's end (both as in the SDK).
#[export_name = "ws63sim_uapi_upg_read_package"]
pub extern "C" fn uapi_upg_read_package(offset: u32, buff: *mut u8, len: u32) -> errcode_t {
    if !ctx().inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    if buff.is_null() {
        return sdk::ERRCODE_UPG_NULL_POINTER;
    }
    if len as u16 == 0 {
        return sdk::ERRCODE_UPG_INVALID_BUFF_LEN;
    }
    if offset >= FOTA_SIZE {
        return sdk::ERRCODE_UPG_INVALID_PARAMETER;
    }
    let actual = len.min(FOTA_SIZE - offset) as usize;
    // SAFETY: `buff` has `len >= actual` writable bytes (the API's contract; non-null).
    let out = unsafe { std::slice::from_raw_parts_mut(buff, actual) };
    match flash::with(|f| f.read(FOTA_BASE + offset, out)) {
        Ok(()) => sdk::ERRCODE_SUCC,
        Err(_) => sdk::ERRCODE_UPG_FILE_READ_FAIL,
    }
}

/// `uapi_upg_request_upgrade`: verifies the package in place, marks it for flashboot, and
/// reboots when `reset` is true.
#[export_name = "ws63sim_uapi_upg_request_upgrade"]
pub extern "C" fn uapi_upg_request_upgrade(reset: bool) -> errcode_t {
    if !ctx().inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    let verified =
        flash::with(|f| Ok(package::verify(&mut |off, len| f.read_vec(FOTA_BASE + off, len))));
    let images = match verified {
        Ok(Ok(images)) => images,
        Ok(Err(e)) => {
            eprintln!("[ws63-sim] request_upgrade: package verification failed ({:#x})", e.code);
            return e.code;
        }
        Err(e) => return flash_code(e, false),
    };
    if images.len() as u32 > package::MAX_IMAGES {
        return sdk::ERRCODE_UPG_WRONG_IMAGE_NUM;
    }
    let firmware_num = images.iter().filter(|i| i.id != NV_IMAGE_ID).count() as u32;
    let r = flash::with(|f| {
        program_u32(f, FLAG_AREA + F_FW_NUM, firmware_num)?;
        program_u32(f, FLAG_AREA + F_END, END_MAGIC)?;
        f.sync();
        Ok(())
    });
    if let Err(e) = r {
        return flash_code(e, false);
    }
    if reset {
        crate::board::reboot();
    }
    sdk::ERRCODE_SUCC
}

/// What flashboot did at a boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashbootOutcome {
    /// No upgrade was pending.
    NoUpgrade,
    /// Every image was installed; `update_result` is 0.
    Installed,
    /// The upgrade ended without installing (verification failed, or three attempts failed);
    /// `update_result` holds the reason.
    Failed(u32),
    /// An attempt failed and the upgrade stays pending for the next boot.
    Retry(u32),
    /// The flag area does not match the package: it stays pending (the SDK reboots forever).
    Stuck,
    /// The power went during flashboot's own flash writes.
    PowerCut,
}

fn fw_flag_addr(idx: usize) -> u32 {
    FLAG_AREA + F_FW_FLAGS + 3 * idx as u32
}

/// Flashboot's upgrade step, run by the board before each firmware start.
pub fn flashboot(f: &mut Flash) -> FlashbootOutcome {
    match flashboot_inner(f) {
        Ok(o) => o,
        Err(FlashError::PowerCut) => FlashbootOutcome::PowerCut,
        Err(_) => FlashbootOutcome::Stuck,
    }
}

fn flashboot_inner(f: &mut Flash) -> Result<FlashbootOutcome, FlashError> {
    evaluate_status(f)?;
    if !pending(f) {
        return Ok(FlashbootOutcome::NoUpgrade);
    }
    let firmware_num = u32_at(f, FLAG_AREA + F_FW_NUM);
    let first_entry = (0..firmware_num.min(package::MAX_IMAGES) as usize)
        .all(|i| f.read_vec(fw_flag_addr(i), 3) == [0xFF; 3]);
    let images = match package::verify(&mut |off, len| f.read_vec(FOTA_BASE + off, len)) {
        Ok(images) => images,
        Err(e) if first_entry => {
            // As the SDK: the result first, the complete flag last.
            program_u32(f, FLAG_AREA + F_RESULT, e.result)?;
            program_u32(f, FLAG_AREA + F_COMPLETE, 0)?;
            return Ok(FlashbootOutcome::Failed(e.result));
        }
        Err(_) => return Ok(FlashbootOutcome::Stuck),
    };
    let image_num = images.len() as u32;
    if firmware_num > package::MAX_IMAGES
        || !(firmware_num == image_num || firmware_num + 1 == image_num)
    {
        return Ok(FlashbootOutcome::Stuck);
    }
    let mut temp = result::NONE;
    let mut failed: Option<u32> = None;
    let mut fw_idx = 0usize;
    for img in &images {
        if img.id == NV_IMAGE_ID {
            continue;
        }
        let idx = fw_idx;
        fw_idx += 1;
        let target = match img.id {
            package::APP_IMAGE_ID => flash::partition(sdk::PARTITION_APP_IMAGE),
            package::FLASHBOOT_IMAGE_ID => flash::partition(sdk::PARTITION_FLASH_BOOT_IMAGE),
            HILINK_IMAGE_ID => Some((0x3F_3000, 0)),
            _ => continue,
        };
        let flags = f.read_vec(fw_flag_addr(idx), 3);
        let Some(k) = flags.iter().position(|b| *b != 0) else { continue };
        if flags[k] == 0xFF {
            f.program(fw_flag_addr(idx) + k as u32, &[0x0F])?;
        }
        let outcome = install(f, img, target);
        match outcome? {
            Ok(()) => {
                f.program(fw_flag_addr(idx) + k as u32, &vec![0; 3 - k])?;
            }
            Err(reason) => {
                f.program(fw_flag_addr(idx) + k as u32, &[0])?;
                temp = if k == 2 { result::RETRY_ALL_FAILED } else { reason };
                failed = Some(reason);
                break;
            }
        }
    }
    let all_done = (0..firmware_num as usize).all(|i| f.read_vec(fw_flag_addr(i), 3) == [0; 3]);
    if all_done {
        let res = if failed.is_none() { result::UPDATE_SUCCESS } else { temp };
        program_u32(f, FLAG_AREA + F_RESULT, res)?;
        program_u32(f, FLAG_AREA + F_COMPLETE, 0)?;
        f.sync();
        return Ok(if res == result::UPDATE_SUCCESS {
            FlashbootOutcome::Installed
        } else {
            FlashbootOutcome::Failed(res)
        });
    }
    f.sync();
    Ok(FlashbootOutcome::Retry(failed.unwrap_or(temp)))
}

/// Installs one verified image: `Ok(Err(result))` when the attempt fails.
fn install(
    f: &mut Flash,
    img: &package::ImageInfo,
    target: Option<(u32, u32)>,
) -> Result<Result<(), u32>, FlashError> {
    let Some((addr, size)) = target else { return Ok(Err(result::UPDATE_IMAGE_FAILED)) };
    if img.decompress_flag == package::DECOMPRESS_ZIP {
        eprintln!("[ws63-sim] flashboot: LZMA-compressed images are not simulated");
        return Ok(Err(result::DECOMPRESS_IMAGE_FAILED));
    }
    if img.decompress_flag == 0x4449_4646 {
        return Ok(Err(result::UPDATE_IMAGE_FAILED));
    }
    f.erase(addr, size)?;
    if size < img.data_len {
        return Ok(Err(result::UPDATE_IMAGE_FAILED));
    }
    let mut done = 0u32;
    while done < img.data_len {
        let n = (img.data_len - done).min(flash::SECTOR_SIZE);
        let chunk = f.read_vec(FOTA_BASE + img.data_offset + done, n as usize);
        f.program(addr + done, &chunk)?;
        done += n;
    }
    Ok(Ok(()))
}

/// The version of the app installed in the app partition, if it is a simulator image.
pub fn installed_version(f: &mut Flash) -> Option<String> {
    let (addr, _) = flash::partition(sdk::PARTITION_APP_IMAGE)?;
    package::sim_image_version(&f.read_vec(addr, 32))
}

/// Writes a simulator app image of `version` into the app partition (a factory-fresh board).
///
/// # Errors
/// When the flash refuses.
pub fn factory_install(f: &mut Flash, version: &str) -> Result<(), FlashError> {
    let (addr, size) = flash::partition(sdk::PARTITION_APP_IMAGE).ok_or(FlashError::Io)?;
    let img = package::sim_app_image(version, 4096);
    f.erase(addr, size)?;
    f.program(addr, &img)
}

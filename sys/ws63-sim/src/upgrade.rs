//! The SDK's upgrade (FOTA) storage API and flashboot's upgrade step, on the simulated flash.
//!
//! Behaviour follows the SDK's `upg_storage.c`, `upg_common.c`, `upg_common_porting.c` and
//! flashboot's `main.c` / `upg_process.c` (WS63 configuration, no A/B: package stored raw in
//! the FOTA partition, verified in place, SHA-256 hashes):
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
//! The app side (the firmware calls these):
//! - `ws63_upg_init` runs in the SDK's `main()` before the firmware starts (the board does it
//!   in [`crate::supervisor::FirmwareEnv::start`]); a second call is
//!   `ERRCODE_UPG_ALREADY_INIT`. It computes the status once.
//! - `uapi_upg_prepare` erases exactly the package's bytes, then the 12 KiB status region,
//!   each as the flash driver does it: greedily, 64 KiB blocks where they fit, interrupts
//!   locked per block ([`crate::flash::op`]); each erase call takes two 4 KiB buffers from the
//!   heap (`ERRCODE_MALLOC` without them). Then it writes `head_before_offset`, the length and
//!   the head magic.
//! - `uapi_upg_write_package_sync` is one flash write with interrupts locked for its whole
//!   length, at any offset below the prepared length, at most 65535 bytes; the flash refuses
//!   writes over programmed bytes (see [`crate::flash`]).
//! - Flash failures come back as the flash controller's raw codes (`ERRCODE_SFC_*`), as in
//!   this build; the `ERRCODE_UPG_FLASH_*` codes exist only in A/B builds.
//! - `uapi_upg_request_upgrade` verifies the whole package ([`crate::package::verify`]),
//!   writes `firmware_num` and the end magic, and reboots only when asked.
//!
//! Flashboot ([`flashboot`]), at every reset before the app: its own init consumes the
//! one-shot "version changed" flag, so after an upgrade the app always finds
//! `UPG_STATUS_NONE`. A pending upgrade is run (see [`flashboot`]), then flashboot resets,
//! whatever the outcome; the app runs only on a boot with nothing pending, and only when its
//! image passes the check flashboot makes at every boot.

use std::sync::Mutex;

use sdk::errcode_t;
use ws63_sdk_sys as sdk;

use crate::flash::{self, Flash, FlashError};
use crate::keys::{self, RawPublicKey, VerifyingKey};
use crate::package::{self, result, SimImage};

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

/// The board's root public key, as the device reads it (`upg_get_root_public_key`: the key
/// field of the structure at flash 0; all 0xFF on a board that has none).
pub fn root_key(f: &mut Flash) -> RawPublicKey {
    let mut k = [0u8; 64];
    k.copy_from_slice(&f.read_vec(keys::ROOT_KEY_OFFSET, 64));
    k
}

/// Writes the root public key structure at flash 0 (partition 0x03), as flashing the SDK's
/// parameter image does; `None` leaves the area erased (a board without a root key). Nothing
/// is written when the flash holds it already.
///
/// # Errors
/// When the flash refuses.
pub fn set_root_key(f: &mut Flash, key: Option<&VerifyingKey>) -> Result<(), FlashError> {
    let want = key.map_or([0xFF; 0x80], keys::root_key_area);
    if f.read_vec(keys::ROOT_KEY_AREA, 0x80) == want {
        return Ok(());
    }
    f.erase(keys::ROOT_KEY_AREA, flash::SECTOR_SIZE)?;
    if key.is_some() {
        f.program(keys::ROOT_KEY_AREA, &want)?;
    }
    Ok(())
}

/// `uapi_upg_verify_file` on the package in the FOTA partition, with the board's root key.
fn verify_fota(f: &mut Flash) -> Result<Vec<package::ImageInfo>, package::VerifyError> {
    let key = root_key(f);
    package::verify(&mut |off, len| f.read_vec(FOTA_BASE + off, len), &key)
}

/// Maps a flash failure inside the firmware to the code the SDK hands on (the flash
/// controller's, unchanged); a power cut ends the run.
fn flash_code(e: FlashError) -> errcode_t {
    match e {
        FlashError::PowerCut => crate::faults::cut_power(),
        FlashError::NotErased => {
            // On the chip this write "succeeds" and silently corrupts data; the board refuses
            // it loudly instead (with the code the A/B build would give).
            eprintln!("[ws63-sim] flash write over programmed bytes: the chip would corrupt data");
            sdk::ERRCODE_UPG_FLASH_WRITE_ERROR
        }
        FlashError::OutOfRange => sdk::ERRCODE_INVALID_PARAM,
        FlashError::WriteFailed | FlashError::Io => sdk::ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY,
    }
}

/// `upg_flash_erase` as the app runs it: two 4 KiB write-back buffers from the heap
/// (`ERRCODE_MALLOC` without them), then the range erased greedily, interrupts locked per
/// block.
fn app_erase(addr: u32, len: u32) -> errcode_t {
    let buffers = 2 * crate::heap::charge_of(4096, 4);
    if !crate::heap::charge(buffers) {
        return sdk::ERRCODE_MALLOC;
    }
    let mut code = sdk::ERRCODE_SUCC;
    for (a, n) in flash::greedy_blocks(addr, len) {
        if let Err(e) = flash::op(|f| f.erase(a, n)) {
            code = flash_code(e);
            break;
        }
    }
    crate::heap::uncharge(buffers);
    code
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
    crate::rtos::gate();
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
    crate::rtos::gate();
    ctx().status
}

/// `uapi_upg_get_storage_size`: 0x180000 (0 before init).
#[export_name = "ws63sim_uapi_upg_get_storage_size"]
pub extern "C" fn uapi_upg_get_storage_size() -> u32 {
    crate::rtos::gate();
    if ctx().inited {
        STORAGE_SIZE
    } else {
        0
    }
}

/// `uapi_upg_prepare`.
#[export_name = "ws63sim_uapi_upg_prepare"]
pub extern "C" fn uapi_upg_prepare(prepare_info: *mut sdk::upg_prepare_info_t) -> errcode_t {
    crate::rtos::gate();
    let mut c = ctx();
    if !c.inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    // SAFETY: a non-null prepare_info is readable (the API's contract).
    let len = match unsafe { prepare_info.as_ref() } {
        Some(i) if i.package_len != 0 && i.package_len <= STORAGE_SIZE => i.package_len,
        _ => return sdk::ERRCODE_UPG_INVALID_PARAMETER,
    };
    // As the SDK: the length is kept before the erase, so writes count as prepared even
    // when the erase failed.
    c.package_len = len;
    drop(c);
    for (addr, n) in [(FOTA_BASE, len), FLAG_REGION] {
        let code = app_erase(addr, n);
        if code != sdk::ERRCODE_SUCC {
            return code;
        }
    }
    for (off, v) in [(F_BEFORE, 0), (F_LEN, len), (F_HEAD, HEAD_MAGIC)] {
        if let Err(e) = flash::op(|f| program_u32(f, FLAG_AREA + off, v)) {
            return flash_code(e);
        }
    }
    sdk::ERRCODE_SUCC
}

/// `uapi_upg_write_package_sync`.
#[export_name = "ws63sim_uapi_upg_write_package_sync"]
pub extern "C" fn uapi_upg_write_package_sync(offset: u32, buff: *const u8, len: u16) -> errcode_t {
    crate::rtos::gate();
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
    match flash::op(|f| f.program(FOTA_BASE + offset, data)) {
        Ok(()) => sdk::ERRCODE_SUCC,
        Err(e) => flash_code(e),
    }
}

/// `uapi_upg_read_package`: reads from the FOTA partition; the length check uses its low 16
/// bits, and the read is clipped at the partition's end (both as in the SDK).
#[export_name = "ws63sim_uapi_upg_read_package"]
pub extern "C" fn uapi_upg_read_package(offset: u32, buff: *mut u8, len: u32) -> errcode_t {
    crate::rtos::gate();
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
    match flash::op(|f| f.read(FOTA_BASE + offset, out)) {
        Ok(()) => sdk::ERRCODE_SUCC,
        Err(e) => flash_code(e),
    }
}

/// `uapi_upg_request_upgrade`: verifies the package in place, marks it for flashboot, and
/// reboots when `reset` is true.
#[export_name = "ws63sim_uapi_upg_request_upgrade"]
pub extern "C" fn uapi_upg_request_upgrade(reset: bool) -> errcode_t {
    crate::rtos::gate();
    if !ctx().inited {
        return sdk::ERRCODE_UPG_NOT_INIT;
    }
    let verified = flash::with(|f| Ok(verify_fota(f)));
    let images = match verified {
        Ok(Ok(images)) => images,
        Ok(Err(e)) => {
            eprintln!("[ws63-sim] request_upgrade: package verification failed ({:#x})", e.code);
            return e.code;
        }
        Err(e) => return flash_code(e),
    };
    if images.len() as u32 > package::MAX_IMAGES {
        return sdk::ERRCODE_UPG_WRONG_IMAGE_NUM;
    }
    let firmware_num = images.iter().filter(|i| i.id != NV_IMAGE_ID).count() as u32;
    for (off, v) in [(F_FW_NUM, firmware_num), (F_END, END_MAGIC)] {
        if let Err(e) = flash::op(|f| program_u32(f, FLAG_AREA + off, v)) {
            return flash_code(e);
        }
    }
    let _ = flash::with(|f| {
        f.sync();
        Ok(())
    });
    if reset {
        crate::board::reboot();
    }
    sdk::ERRCODE_SUCC
}

/// What one run of flashboot did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashbootOutcome {
    /// No upgrade was pending; the app was checked and started.
    NoUpgrade,
    /// Every image was installed; `update_result` is 0. Flashboot resets.
    Installed,
    /// The upgrade ended without installing everything (the package failed verification, or
    /// an image failed its third attempt: `RETRY_ALL_FAILED`, later images never tried);
    /// `update_result` holds the reason. Flashboot resets.
    Failed(u32),
    /// An attempt at an image failed (the reason); it is retried at the next boot. Flashboot
    /// resets.
    Retry(u32),
    /// An image of an id flashboot does not install was skipped: the upgrade can never
    /// complete, and every boot runs it again (and resets).
    Incomplete,
    /// The flag area does not match the package (image count): every boot runs it again.
    Stuck,
    /// The app partition does not hold an intact app ("VE"): flashboot resets (after asking
    /// for the package in the FOTA partition to be installed again, from the fourth such
    /// boot to the sixth, if it is still valid).
    AppInvalid,
    /// Flashboot's own watchdog (7 s, not fed while verifying and erasing) reset the chip in
    /// the middle of an attempt, which the next boot repeats.
    Watchdog,
    /// The power went during flashboot's own flash writes.
    PowerCut,
    /// Neither the flashboot partition nor its backup holds an intact flashboot: the ROM has
    /// nothing to start, and the board is dead until it is flashed over serial.
    NoFlashboot,
}

/// The general-purpose register flashboot keeps its counters in (it survives a reset, not a
/// power cycle).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootCounters {
    /// Flashboot resets since an app last passed its check (4 bits; at 15 flashboot halts).
    pub resets: u8,
    /// Boots that found the app invalid (4 bits), for the "fix app" tries.
    pub fix_app: u8,
}

/// The reset count at which flashboot stops resetting and halts (`REBOOT_MAX_CNT`).
pub const RESET_MAX: u8 = 15;

/// Flashboot's watchdog.
pub const FLASHBOOT_WATCHDOG: std::time::Duration = std::time::Duration::from_secs(7);

/// What a boot's flashboot stage ends in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashbootEnd {
    /// The app passed its check and runs: its version.
    RunApp(String),
    /// Flashboot resets the chip (see the outcome).
    Reset,
    /// The reset counter reached its maximum: flashboot stops the watchdog and waits for
    /// ever (`wfi`), until the power is cycled.
    Halt,
}

fn fw_flag_addr(idx: usize) -> u32 {
    FLAG_AREA + F_FW_FLAGS + 3 * idx as u32
}

/// Flashboot's time between watchdog kicks, with a flash that takes `timing`.
struct Watchdog {
    timing: Option<flash::Timing>,
    since_kick: std::time::Duration,
}

impl Watchdog {
    fn spend(&mut self, d: impl FnOnce(&flash::Timing) -> std::time::Duration) -> bool {
        if let Some(t) = &self.timing {
            self.since_kick += d(t);
        }
        self.since_kick < FLASHBOOT_WATCHDOG
    }

    fn kick(&mut self) -> bool {
        let ok = self.since_kick < FLASHBOOT_WATCHDOG;
        self.since_kick = std::time::Duration::ZERO;
        ok
    }
}

/// One run of flashboot, as at every reset of the chip: the upgrade step, then the app's
/// check. `timing` is the flash's (for flashboot's own 7 s watchdog, which is fed per 4 KiB
/// copied but not while verifying or erasing); `counters` are the register's.
pub fn flashboot(
    f: &mut Flash,
    counters: &mut BootCounters,
    timing: Option<flash::Timing>,
) -> (FlashbootOutcome, FlashbootEnd) {
    let mut wd = Watchdog { timing, since_kick: std::time::Duration::ZERO };
    // The ROM starts flashboot from its partition, or from the backup, which then copies
    // itself over the broken primary (`ws63_flashboot_recovery`).
    match rom_boot(f) {
        Ok(true) => {}
        Ok(false) => return (FlashbootOutcome::NoFlashboot, FlashbootEnd::Halt),
        Err(FlashError::PowerCut) => return (FlashbootOutcome::PowerCut, FlashbootEnd::Reset),
        Err(_) => return (FlashbootOutcome::NoFlashboot, FlashbootEnd::Halt),
    }
    let outcome = match upgrade_step(f, &mut wd) {
        Ok(None) => match app_check(f, counters) {
            Ok(Some(version)) => {
                counters.resets = 0;
                counters.fix_app = 0;
                return (FlashbootOutcome::NoUpgrade, FlashbootEnd::RunApp(version));
            }
            Ok(None) => FlashbootOutcome::AppInvalid,
            Err(FlashError::PowerCut) => FlashbootOutcome::PowerCut,
            Err(_) => FlashbootOutcome::AppInvalid,
        },
        Ok(Some(o)) => o,
        Err(FlashError::PowerCut) => FlashbootOutcome::PowerCut,
        Err(_) => FlashbootOutcome::Stuck,
    };
    f.sync();
    if outcome == FlashbootOutcome::PowerCut {
        return (outcome, FlashbootEnd::Reset);
    }
    // `reset()`: the counter in the register; at its maximum flashboot halts instead.
    if counters.resets >= RESET_MAX {
        return (outcome, FlashbootEnd::Halt);
    }
    counters.resets += 1;
    (outcome, FlashbootEnd::Reset)
}

/// Flashboot from a power-on until it starts the app (or halts): every run's outcome, and the
/// version of the app it starts (`None`: it halted, or the power went).
pub fn flashboot_until_app(f: &mut Flash) -> (Vec<FlashbootOutcome>, Option<String>) {
    let mut counters = BootCounters::default();
    let mut outcomes = Vec::new();
    loop {
        let (o, end) = flashboot(f, &mut counters, None);
        let cut = o == FlashbootOutcome::PowerCut;
        outcomes.push(o);
        match end {
            FlashbootEnd::RunApp(v) => return (outcomes, Some(v)),
            FlashbootEnd::Halt => return (outcomes, None),
            FlashbootEnd::Reset if cut => return (outcomes, None),
            FlashbootEnd::Reset => {}
        }
    }
}

/// The upgrade step (`ws63_upg_check`): `None` when nothing is pending.
fn upgrade_step(f: &mut Flash, wd: &mut Watchdog) -> Result<Option<FlashbootOutcome>, FlashError> {
    // Flashboot's `ws63_upg_init` consumes the one-shot result.
    evaluate_status(f)?;
    if !pending(f) {
        return Ok(None);
    }
    let firmware_num = u32_at(f, FLAG_AREA + F_FW_NUM);
    let first_entry = (0..firmware_num.min(package::MAX_IMAGES) as usize)
        .all(|i| f.read_vec(fw_flag_addr(i), 3) == [0xFF; 3]);
    let verified = verify_fota(f);
    let images = match verified {
        Ok(images) => images,
        Err(e) if first_entry => {
            // As the SDK: the result first, the complete flag last.
            program_u32(f, FLAG_AREA + F_RESULT, e.result)?;
            program_u32(f, FLAG_AREA + F_COMPLETE, 0)?;
            return Ok(Some(FlashbootOutcome::Failed(e.result)));
        }
        Err(_) => return Ok(Some(FlashbootOutcome::Stuck)),
    };
    let image_num = images.len() as u32;
    if firmware_num > package::MAX_IMAGES
        || !(firmware_num == image_num || firmware_num + 1 == image_num)
    {
        return Ok(Some(FlashbootOutcome::Stuck));
    }
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
            // No partition in the default table: flashboot skips it, as an unknown id.
            _ => continue,
        };
        let flags = f.read_vec(fw_flag_addr(idx), 3);
        let Some(k) = flags.iter().position(|b| *b != 0) else { continue };
        if flags[k] == 0xFF {
            f.program(fw_flag_addr(idx) + k as u32, &[0x0F])?;
        }
        match install(f, img, target, wd)? {
            Install::Done => f.program(fw_flag_addr(idx) + k as u32, &vec![0; 3 - k])?,
            Install::WatchdogReset => return Ok(Some(FlashbootOutcome::Watchdog)),
            Install::Failed(reason) => {
                f.program(fw_flag_addr(idx) + k as u32, &[0])?;
                if k < 2 {
                    // Retried at the next boot.
                    return Ok(Some(FlashbootOutcome::Retry(reason)));
                }
                // The third failure: the upgrade ends here; later images are never tried.
                program_u32(f, FLAG_AREA + F_RESULT, result::RETRY_ALL_FAILED)?;
                program_u32(f, FLAG_AREA + F_COMPLETE, 0)?;
                return Ok(Some(FlashbootOutcome::Failed(result::RETRY_ALL_FAILED)));
            }
        }
        if !wd.kick() {
            return Ok(Some(FlashbootOutcome::Watchdog));
        }
    }
    let done = |f: &mut Flash, i: usize| f.read_vec(fw_flag_addr(i), 3) == [0; 3];
    if (0..firmware_num as usize).all(|i| done(f, i)) {
        program_u32(f, FLAG_AREA + F_RESULT, result::UPDATE_SUCCESS)?;
        program_u32(f, FLAG_AREA + F_COMPLETE, 0)?;
        return Ok(Some(FlashbootOutcome::Installed));
    }
    // Images were skipped: the upgrade is only half done, and stays so.
    if u32_at(f, FLAG_AREA + F_COMPLETE) != HALF_FLAG {
        program_u32(f, FLAG_AREA + F_COMPLETE, HALF_FLAG)?;
    }
    Ok(Some(FlashbootOutcome::Incomplete))
}

/// `complete_flag` of an upgrade with images left out (`UPG_FINISH_HALF_FLAG`).
const HALF_FLAG: u32 = 0xFFFF;

enum Install {
    Done,
    Failed(u32),
    WatchdogReset,
}

/// Installs one image: verifies it, erases the whole target partition, copies the image in
/// 4 KiB pages (kicking the watchdog after each).
fn install(
    f: &mut Flash,
    img: &package::ImageInfo,
    target: Option<(u32, u32)>,
    wd: &mut Watchdog,
) -> Result<Install, FlashError> {
    let Some((addr, size)) = target else {
        return Ok(Install::Failed(result::UPDATE_IMAGE_FAILED));
    };
    // The whole target partition is erased first, whatever follows.
    if !wd.spend(|t| t.erase_time(addr, size)) {
        // The watchdog fires during the erase: half of it happened.
        f.erase(addr, size / 2)?;
        return Ok(Install::WatchdogReset);
    }
    f.erase(addr, size)?;
    if img.decompress_flag == package::DECOMPRESS_ZIP {
        return install_lzma(f, img, addr, size, wd);
    }
    if img.decompress_flag == 0x4449_4646 || size < img.data_len {
        return Ok(Install::Failed(result::UPDATE_IMAGE_FAILED));
    }
    let mut done = 0u32;
    while done < img.data_len {
        let n = (img.data_len - done).min(flash::SECTOR_SIZE);
        let chunk = f.read_vec(FOTA_BASE + img.data_offset + done, n as usize);
        f.program(addr + done, &chunk)?;
        done += n;
        if !wd.spend(|t| t.program_time(addr + done - n, n as usize)) || !wd.kick() {
            return Ok(Install::WatchdogReset);
        }
    }
    Ok(Install::Done)
}

/// Flashboot's heap (its linker script caps it at 64 KiB), from which the LZMA decoder takes
/// its probability tables, its dictionary and its two buffers.
pub const FLASHBOOT_HEAP: u32 = 64 * 1024;

/// What the decoder of an LZMA image takes from flashboot's heap (`upg_lzma_init`): the
/// probability tables (LZMA SDK 22.00: 1984 + 0x300 << (lc + lp) 16-bit probabilities), the
/// dictionary (the header's dictionary size, at least 4096, or the image's size if that is
/// smaller), the 4 KiB input and 16 KiB output buffers, and 8 bytes of block header each.
/// `None` for properties the decoder refuses (`props[0]` of 225 or more).
pub fn lzma_heap_need(head: &[u8; 16]) -> Option<u32> {
    let d = u32::from(head[0]);
    if d >= 9 * 5 * 5 {
        return None;
    }
    let (lc, lp) = (d % 9, (d / 9) % 5);
    let probs = 2 * (1984 + (0x300u32 << (lc + lp)));
    let dict_size = package::get(head, 1).max(4096);
    let unpack = package::get(head, 5);
    Some(probs + dict_size.min(unpack) + LZMA_IN_BUF + LZMA_OUT_BUF as u32 + 4 * 8)
}

/// `IN_BUF_SIZE` of the SDK's LZMA installer: the stored data is read in pieces of this size.
const LZMA_IN_BUF: u32 = 4096;
/// `OUT_BUF_SIZE`: the decoded bytes collect here before they are written to the flash.
const LZMA_OUT_BUF: usize = 16 * 1024;

/// An LZMA image, as `uapi_upg_compress_image_update` installs it into the erased partition
/// (`upg_lzma_init`, `upg_lzma_decode`, `upg_lzma_decode_to_midbuf`):
/// - the 16-byte header gives the properties and the size (bytes 5..9; the rest of the size
///   field must be zero here: the SDK's C shifts by 32 and more there, which is undefined);
/// - the decoder's memory must fit flashboot's heap ([`lzma_heap_need`]), else the image fails
///   (`ERRCODE_MALLOC`), before the size is compared with the partition;
/// - the stored data (the image's length less the header) is read to its end in 4 KiB pieces,
///   and each piece decoded in steps of at most 16 KiB of output; the output is written to the
///   flash when less than 4 KiB of the output buffer is left, when the size is reached, or
///   when the piece is used up. Once the size is reached, decoding a further piece writes
///   nothing, and a flash write of zero bytes is refused (the flash driver's
///   `check_opt_param`): the image fails. So a stream whose last bytes (an end marker, or the
///   padding to 16) spill into a piece after the one that completes the image fails on the
///   chip, and here;
/// - the watchdog is kicked after each piece.
fn install_lzma(
    f: &mut Flash,
    img: &package::ImageInfo,
    addr: u32,
    size: u32,
    wd: &mut Watchdog,
) -> Result<Install, FlashError> {
    use liblzma::stream::{Action, Status, Stream};
    const HEAD: u32 = 16;
    let failed = Ok(Install::Failed(result::DECOMPRESS_IMAGE_FAILED));
    if img.data_len < HEAD {
        return failed;
    }
    let head: [u8; 16] = f.read_vec(FOTA_BASE + img.data_offset, HEAD as usize).try_into().unwrap();
    let unpack = package::get(&head, 5);
    if head[9..16] != [0; 7] || unpack == 0 {
        return failed;
    }
    match lzma_heap_need(&head) {
        Some(need) if need <= FLASHBOOT_HEAP => {}
        _ => return failed,
    }
    if unpack > size {
        // ERRCODE_UPG_NO_ENOUGH_SPACE, with the partition already erased.
        return Ok(Install::Failed(result::UPDATE_IMAGE_FAILED));
    }
    // liblzma's decoder of the `.lzma` format, given the 13-byte header with the size as the
    // device reads it (the memory was checked above against flashboot's heap).
    let Ok(mut dec) = Stream::new_lzma_decoder(u64::MAX) else { return failed };
    let mut alone = head[..5].to_vec();
    alone.extend_from_slice(&u64::from(unpack).to_le_bytes());
    let mut out = vec![0u8; LZMA_OUT_BUF];
    // The header alone: consumed whole, nothing decoded from it.
    if dec.process(&alone, &mut out[..1], Action::Run).is_err()
        || dec.total_in() != 13
        || dec.total_out() != 0
    {
        return failed;
    }
    let mut left = unpack; // decompress_len
    let mut written = 0u32; // out_offset
    let mut ended = false;
    let (mut read, mut write_pos) = (HEAD, 0usize);
    while read < img.data_len {
        let n = (img.data_len - read).min(LZMA_IN_BUF);
        let piece = f.read_vec(FOTA_BASE + img.data_offset + read, n as usize);
        read += n;
        let produced_before = written;
        let mut pos = 0usize;
        while pos < piece.len() && !ended {
            if left == 0 {
                // Nothing left to decode: the step writes zero bytes, which the flash refuses.
                return failed;
            }
            let want = (left as usize).min(LZMA_OUT_BUF - write_pos);
            let (in0, out0) = (dec.total_in(), dec.total_out());
            let status =
                dec.process(&piece[pos..], &mut out[write_pos..write_pos + want], Action::Run);
            let used = (dec.total_in() - in0) as usize;
            let made = (dec.total_out() - out0) as usize;
            let Ok(status) = status else { return failed };
            pos += used;
            left -= made as u32;
            write_pos += made;
            if LZMA_OUT_BUF - write_pos < LZMA_IN_BUF as usize || left == 0 || pos == piece.len() {
                if write_pos == 0 {
                    return failed;
                }
                f.program(addr + written, &out[..write_pos])?;
                written += write_pos as u32;
                write_pos = 0;
            }
            if left == 0 {
                break;
            }
            if status == Status::StreamEnd {
                // A stream that ends with its marker short of the size: the rest of the stored
                // data is read and ignored, and what the last step decoded but did not write
                // stays unwritten, as on the chip (the image hash checked before the install
                // is what keeps such a stream out).
                ended = true;
            } else if used == 0 && made == 0 {
                // No progress without the end: SZ_ERROR_DATA.
                return failed;
            }
        }
        if !wd
            .spend(|t| t.program_time(addr + produced_before, (written - produced_before) as usize))
            || !wd.kick()
        {
            return Ok(Install::WatchdogReset);
        }
    }
    Ok(Install::Done)
}

/// Whether a flashboot partition holds an intact flashboot (the ROM's check of its code).
fn flashboot_intact(f: &mut Flash, part: sdk::partition_ids_t) -> bool {
    let Some((addr, size)) = flash::partition(part) else { return false };
    let header = f.read_vec(addr, package::SIM_IMAGE_HEADER_LEN);
    let Some(len) = package::sim_image_code_len_of(SimImage::Flashboot, &header) else {
        return false;
    };
    if len > size as usize - package::SIM_IMAGE_HEADER_LEN {
        return false;
    }
    let image = f.read_vec(addr, package::SIM_IMAGE_HEADER_LEN + len);
    package::sim_image_version_of(SimImage::Flashboot, &image).is_some()
}

/// The ROM at a reset: `true` when a flashboot starts. A broken primary flashboot (an
/// install of a flashboot image cut short) makes the ROM start the backup, which copies
/// itself over the primary; the upgrade then goes on where it was. OTA never writes the
/// backup.
fn rom_boot(f: &mut Flash) -> Result<bool, FlashError> {
    if flashboot_intact(f, sdk::PARTITION_FLASH_BOOT_IMAGE) {
        return Ok(true);
    }
    if !flashboot_intact(f, sdk::PARTITION_FLASH_BOOT_IMAGE_BACKUP) {
        eprintln!("[ws63-sim] ROM: no intact flashboot, nor a backup: the board cannot boot");
        return Ok(false);
    }
    eprintln!("[ws63-sim] ROM: flashboot is broken; the backup starts and restores it");
    let (Some((to, size)), Some((from, _))) = (
        flash::partition(sdk::PARTITION_FLASH_BOOT_IMAGE),
        flash::partition(sdk::PARTITION_FLASH_BOOT_IMAGE_BACKUP),
    ) else {
        return Ok(false);
    };
    f.erase(to, size)?;
    let mut at = 0;
    while at < size {
        let page = f.read_vec(from + at, flash::SECTOR_SIZE as usize);
        f.program(to + at, &page)?;
        at += flash::SECTOR_SIZE;
    }
    Ok(true)
}

/// The version of the flashboot in its partition, if intact.
pub fn flashboot_version(f: &mut Flash) -> Option<String> {
    let (addr, size) = flash::partition(sdk::PARTITION_FLASH_BOOT_IMAGE)?;
    let image = f.read_vec(addr, size as usize);
    package::sim_image_version_of(SimImage::Flashboot, &image)
}

/// Flashboot's check of the app at every boot: the image must be whole (its code hash, as
/// `verify_image_body` checks `code_area_hash`). When it is not ("VE"), the "fix app" path:
/// from the fourth such boot to the sixth, if the FOTA partition still holds a valid package,
/// its upgrade is requested again (status region reset, then the request's flags).
fn app_check(f: &mut Flash, counters: &mut BootCounters) -> Result<Option<String>, FlashError> {
    if let Some(v) = installed_version(f) {
        return Ok(Some(v));
    }
    eprintln!("[ws63-sim] flashboot: VE (the app partition holds no intact app)");
    let tries = counters.fix_app;
    counters.fix_app = (counters.fix_app + 1).min(15);
    if (3..6).contains(&tries) {
        let valid = verify_fota(f);
        if let Ok(images) = valid {
            eprintln!("[ws63-sim] flashboot: Try fota fix app.");
            let len = u32_at(f, FLAG_AREA + F_LEN);
            let firmware_num = images.iter().filter(|i| i.id != NV_IMAGE_ID).count() as u32;
            f.erase(FLAG_REGION.0, FLAG_REGION.1)?;
            program_u32(f, FLAG_AREA + F_BEFORE, 0)?;
            program_u32(f, FLAG_AREA + F_LEN, len)?;
            program_u32(f, FLAG_AREA + F_HEAD, HEAD_MAGIC)?;
            program_u32(f, FLAG_AREA + F_FW_NUM, firmware_num)?;
            program_u32(f, FLAG_AREA + F_END, END_MAGIC)?;
        }
    }
    Ok(None)
}

/// The version of the app installed in the app partition, if it holds an intact simulator
/// image (what flashboot's check of the app needs).
pub fn installed_version(f: &mut Flash) -> Option<String> {
    let (addr, size) = flash::partition(sdk::PARTITION_APP_IMAGE)?;
    let header = f.read_vec(addr, package::SIM_IMAGE_HEADER_LEN);
    let len = package::sim_image_code_len(&header)?;
    if len > size as usize - package::SIM_IMAGE_HEADER_LEN {
        return None;
    }
    package::sim_image_version(&f.read_vec(addr, package::SIM_IMAGE_HEADER_LEN + len))
}

/// Size of the factory flashboot image.
pub const FACTORY_FLASHBOOT_SIZE: usize = 16 * 1024;

/// A factory-fresh board: a simulator app image of `version` in the app partition, and a
/// flashboot in its partition and in the backup.
///
/// # Errors
/// When the flash refuses.
pub fn factory_install(f: &mut Flash, version: &str) -> Result<(), FlashError> {
    let (addr, size) = flash::partition(sdk::PARTITION_APP_IMAGE).ok_or(FlashError::Io)?;
    let img = package::sim_app_image(version, 4096);
    f.erase(addr, size)?;
    f.program(addr, &img)?;
    let boot = package::sim_image(SimImage::Flashboot, version, FACTORY_FLASHBOOT_SIZE);
    for part in [sdk::PARTITION_FLASH_BOOT_IMAGE, sdk::PARTITION_FLASH_BOOT_IMAGE_BACKUP] {
        let (addr, size) = flash::partition(part).ok_or(FlashError::Io)?;
        f.erase(addr, size)?;
        f.program(addr, &boot)?;
    }
    Ok(())
}

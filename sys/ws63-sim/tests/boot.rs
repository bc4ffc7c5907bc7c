//! The whole board: boots, firmware runs as processes, reboots, and power cuts at every flash
//! write of an upgrade, MCUboot-simulator style.
//!
//! The firmware here is this test binary run again as a child (`child_firmware`), which does
//! what the script in `WS63SIM_TEST_SCRIPT` says: an OTA through the SDK API, ending in
//! `uapi_upg_request_upgrade(true)`, or a report of the version it booted with.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ws63_sdk_sys as sdk;
use ws63_sim::package;
use ws63_sim::supervisor::{FirmwareEnv, RunEnd, Supervisor};
use ws63_sim::upgrade::FlashbootOutcome::{self, Installed, NoUpgrade, PowerCut};

const SCRIPT: &str = "WS63SIM_TEST_SCRIPT";

/// The firmware side: does nothing when run as an ordinary test.
#[test]
fn child_firmware() {
    let Some(env) = FirmwareEnv::from_env() else { return };
    env.start().unwrap();
    let script = std::env::var(SCRIPT).unwrap();
    if let Some(path) = script.strip_prefix("ota:") {
        let pkg = std::fs::read(path).unwrap();
        // SAFETY: plain SDK calls with valid buffers.
        unsafe {
            // The SDK's main() has initialised the upgrade module already.
            assert_eq!(sdk::ws63_upg_init(), sdk::ERRCODE_UPG_ALREADY_INIT);
            let mut info = sdk::upg_prepare_info_t { package_len: pkg.len() as u32 };
            assert_eq!(sdk::uapi_upg_prepare(&mut info), sdk::ERRCODE_SUCC);
            for (i, c) in pkg.chunks(4096).enumerate() {
                let r =
                    sdk::uapi_upg_write_package_sync((i * 4096) as u32, c.as_ptr(), c.len() as u16);
                assert_eq!(r, sdk::ERRCODE_SUCC);
            }
            let r = sdk::uapi_upg_request_upgrade(true);
            // Only a refused package comes back here.
            std::process::exit(if r == sdk::ERRCODE_FAIL { 3 } else { 4 });
        }
    } else if script == "hal_reboot_chip" {
        // SAFETY: a plain call; it does not return.
        unsafe { sdk::hal_reboot_chip() };
        std::process::exit(5);
    } else if script == "upg_reboot" {
        // SAFETY: a plain call; it does not return.
        unsafe { sdk::upg_reboot() };
        std::process::exit(5);
    } else if let Some(ms) = script.strip_prefix("spin:") {
        // A firmware thread that keeps the CPU (no kernel call) for `ms`.
        spin_thread(ms.parse().unwrap(), false);
    } else if let Some(ms) = script.strip_prefix("busy-but-waits:") {
        // A firmware thread as busy, but waiting a tick now and then.
        spin_thread(ms.parse().unwrap(), true);
    } else if let Some(path) = script.strip_prefix("report:") {
        std::fs::write(path, &env.version).unwrap();
        std::process::exit(0);
    }
    panic!("unknown script {script}");
}

static SPIN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static WAITS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn spinner(_: *mut std::ffi::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    let until = std::time::Instant::now() + std::time::Duration::from_millis(SPIN.load(SeqCst));
    let mut last_wait = std::time::Instant::now();
    while std::time::Instant::now() < until {
        if WAITS.load(SeqCst) && last_wait.elapsed() > std::time::Duration::from_millis(100) {
            // SAFETY: a plain kernel call.
            unsafe { cmsis_rtos2_sys::osDelay(1) };
            last_wait = std::time::Instant::now();
        }
        std::hint::spin_loop();
    }
}

/// Starts a firmware thread running [`spinner`], starts the kernel, and ends the run with
/// status 0 once the thread is done (unless the watchdog ended it first).
fn spin_thread(ms: u64, waits: bool) -> ! {
    use std::sync::atomic::Ordering::SeqCst;
    SPIN.store(ms, SeqCst);
    WAITS.store(waits, SeqCst);
    let attr = cmsis_rtos2_sys::osThreadAttr_t {
        name: c"spin".as_ptr(),
        stack_size: 0x1000,
        priority: cmsis_rtos2_sys::osPriorityNormal,
        ..Default::default()
    };
    // SAFETY: a valid thread function and attributes.
    assert!(!unsafe { cmsis_rtos2_sys::osThreadNew(Some(spinner), std::ptr::null_mut(), &attr) }
        .is_null());
    ws63_sim::rtos::start_kernel();
    std::thread::sleep(std::time::Duration::from_millis(ms + 500));
    std::process::exit(0);
}

fn spawn(script: String) -> impl FnMut(&FirmwareEnv) -> std::io::Result<std::process::Child> {
    move |env: &FirmwareEnv| {
        Command::new(std::env::current_exe()?)
            .args(["--exact", "child_firmware", "--nocapture", "--test-threads=1"])
            .envs(env.to_env())
            .env(SCRIPT, &script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }
}

/// A board on a bench; holds the lock on the simulator's process-wide fault state, which the
/// supervisor's flashboot step uses.
struct Bench {
    dir: PathBuf,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Bench {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ws63sim-boot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, _lock: ws63_sim::test_lock() }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Boots and reports what flashboot did (each run) and the version the firmware saw.
    fn report(&self, board: &mut Supervisor) -> (Vec<FlashbootOutcome>, String) {
        let out = self.file("report.txt");
        let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
        assert_eq!(rec.end, RunEnd::Exited(0));
        (rec.flashboot, std::fs::read_to_string(out).unwrap())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_pkg(path: &Path, pkg: &[u8]) -> String {
    std::fs::write(path, pkg).unwrap();
    format!("ota:{}", path.display())
}

#[test]
fn an_ota_reboots_into_the_new_version() {
    let b = Bench::new("ok");
    let mut board = Supervisor::new(&b.file("board.flash"), "1.0.0");
    assert_eq!(b.report(&mut board), (vec![NoUpgrade], "1.0.0".into()));
    let ota = write_pkg(&b.file("pkg"), &package::build_app("1.0.1", 30_000));
    let rec = board.boot(&mut spawn(ota)).unwrap();
    assert_eq!(rec.end, RunEnd::Reboot, "request_upgrade(true) reboots");
    // Flashboot installs, resets, then starts the new app.
    assert_eq!(b.report(&mut board), (vec![Installed, NoUpgrade], "1.0.1".into()));
    assert_eq!(b.report(&mut board), (vec![NoUpgrade], "1.0.1".into()));
    assert_eq!(board.installed_version().unwrap().as_deref(), Some("1.0.1"));
}

#[test]
fn both_reboot_calls_end_the_run_as_a_reboot() {
    let b = Bench::new("reboot");
    let mut board = Supervisor::new(&b.file("board.flash"), "1.0.0");
    for call in ["hal_reboot_chip", "upg_reboot"] {
        let rec = board.boot(&mut spawn(call.to_string())).unwrap();
        assert_eq!(rec.end, RunEnd::Reboot, "{call}");
    }
    assert_eq!(b.report(&mut board).1, "1.0.0");
}

#[test]
fn a_bad_package_is_refused_and_the_old_version_keeps_booting() {
    let b = Bench::new("bad");
    let mut board = Supervisor::new(&b.file("board.flash"), "1.0.0");
    let good = package::build_app("1.0.1", 30_000);
    for bad in [package::flip_bit(&good, 8 * 20_000), package::truncate(&good, 20_000)] {
        let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), &bad))).unwrap();
        assert_eq!(rec.end, RunEnd::Exited(3), "request_upgrade returned ERRCODE_FAIL");
        assert_eq!(b.report(&mut board), (vec![NoUpgrade], "1.0.0".into()));
    }
}

/// Flash operations of the firmware-side OTA: prepare (the package's and the status region's
/// erase blocks, 3 flag writes), the package writes, request (2 flag writes).
fn firmware_writes(pkg_len: usize) -> u64 {
    use ws63_sim::{flash::greedy_blocks, upgrade};
    let erases = greedy_blocks(upgrade::FOTA_BASE, pkg_len as u32).count()
        + greedy_blocks(upgrade::FLAG_REGION.0, upgrade::FLAG_REGION.1).count();
    erases as u64 + 3 + pkg_len.div_ceil(4096) as u64 + 2
}

#[test]
fn a_power_cut_at_any_write_of_the_download_leaves_the_old_version_booting() {
    let b = Bench::new("cut-fw");
    let pkg = package::build_app("2.0.0", 20_000);
    let ota = write_pkg(&b.file("pkg"), &pkg);
    let total = firmware_writes(pkg.len());
    for cut in 1..=total {
        let flash = b.file(&format!("cut{cut}.flash"));
        let mut board = Supervisor::new(&flash, "1.0.0");
        board.next_faults.power_cut_at_write = Some(cut);
        let rec = board.boot(&mut spawn(ota.clone())).unwrap();
        assert_eq!(rec.end, RunEnd::PowerCut, "cut at write {cut}");
        let (fb, version) = b.report(&mut board);
        assert_eq!(version, "1.0.0", "cut at write {cut}: flashboot {fb:?}");
        // The board is still good for an OTA.
        assert_eq!(board.boot(&mut spawn(ota.clone())).unwrap().end, RunEnd::Reboot);
        assert_eq!(b.report(&mut board), (vec![Installed, NoUpgrade], "2.0.0".into()), "cut {cut}");
        std::fs::remove_file(flash).unwrap();
    }
    // One write past the last is no cut at all: the count above covers every write.
    let flash = b.file("nocut.flash");
    let mut board = Supervisor::new(&flash, "1.0.0");
    board.next_faults.power_cut_at_write = Some(total + 1);
    assert_eq!(board.boot(&mut spawn(ota)).unwrap().end, RunEnd::Reboot);
}

#[test]
fn a_power_cut_during_flashboots_install_is_retried_and_never_boots_a_broken_image() {
    let b = Bench::new("cut-fb");
    let pkg = package::build_app("3.0.0", 20_000);
    let ota = write_pkg(&b.file("pkg"), &pkg);
    // Flashboot's writes: the first-attempt flag, the app partition erase, the image copy in
    // sectors, the finished flags, complete_flag and update_result.
    let install_writes = 1 + 1 + 20_000u64.div_ceil(4096) + 1 + 2;
    for cut in 1..=install_writes {
        let flash = b.file(&format!("fb{cut}.flash"));
        let mut board = Supervisor::new(&flash, "1.0.0");
        assert_eq!(board.boot(&mut spawn(ota.clone())).unwrap().end, RunEnd::Reboot);
        board.next_flashboot_faults.power_cut_at_write = Some(cut);
        let out = b.file("report.txt");
        let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
        assert_eq!((rec.flashboot, rec.end), (vec![PowerCut], RunEnd::PowerCut), "cut {cut}");
        let (fb, version) = b.report(&mut board);
        assert_eq!(version, "3.0.0", "cut {cut}: flashboot {fb:?}");
        assert_eq!(board.last_upgrade_result().unwrap(), Some(package::result::UPDATE_SUCCESS));
        std::fs::remove_file(flash).unwrap();
    }
}

/// The flashboot partition's bytes.
fn flashboot_partition(path: &Path) -> Vec<u8> {
    let (addr, size) =
        ws63_sim::flash::partition(ws63_sdk_sys::PARTITION_FLASH_BOOT_IMAGE).unwrap();
    ws63_sim::flash::Flash::open(path).unwrap().read_vec(addr, size as usize)
}

#[test]
fn an_image_that_fails_three_times_ends_the_upgrade_and_the_board_cannot_boot() {
    use ws63_sim::upgrade::FlashbootOutcome::{AppInvalid, Failed, Retry};
    let b = Bench::new("retry");
    let flash = b.file("board.flash");
    let mut board = Supervisor::new(&flash, "1.0.0");
    assert_eq!(b.report(&mut board).1, "1.0.0");
    let flashboot_before = flashboot_partition(&flash);
    // An application image flashboot cannot install (a compressed image whose data is no
    // LZMA stream), then a flashboot image: the package itself verifies.
    let junk = vec![0x5Au8; 8000];
    let fb_image = vec![0x11u8; 4000];
    let pkg = package::build_images(
        "2.0.0",
        &[
            package::ImageSpec {
                id: package::APP_IMAGE_ID,
                data: &junk,
                decompress_flag: package::DECOMPRESS_ZIP,
            },
            package::ImageSpec {
                id: package::FLASHBOOT_IMAGE_ID,
                data: &fb_image,
                decompress_flag: 0,
            },
        ],
        package::Signing::Sha256,
    );
    let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), &pkg))).unwrap();
    assert_eq!(rec.end, RunEnd::Reboot);
    let out = b.file("after.txt");
    let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
    let fails = package::result::DECOMPRESS_IMAGE_FAILED;
    // Three attempts, one per reset, and no app in between; the third ends the upgrade.
    assert_eq!(rec.flashboot[..3], [Retry(fails), Retry(fails), Failed(13)], "{rec:?}");
    // The app partition was erased by the attempts: nothing can start. Flashboot keeps
    // resetting (asking twice to install the package again, which fails again) until its
    // reset counter stops it.
    assert!(rec.flashboot[3..].contains(&AppInvalid), "{rec:?}");
    assert!(!rec.flashboot.contains(&NoUpgrade), "no app ran: {rec:?}");
    assert_eq!((rec.version, rec.end), (None, RunEnd::Halted));
    assert_eq!(rec.flashboot.len(), usize::from(ws63_sim::upgrade::RESET_MAX) + 1);
    assert!(!out.exists(), "the firmware never ran");
    // The flashboot image after the failed one was never installed.
    assert_eq!(flashboot_partition(&flash), flashboot_before);
    assert_eq!(board.installed_version().unwrap(), None);
    // A power cycle does not mend it.
    let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
    assert_eq!(rec.end, RunEnd::Halted);
}

#[test]
fn an_image_flashboot_does_not_install_leaves_the_upgrade_unfinished_for_ever() {
    use ws63_sim::upgrade::FlashbootOutcome::Incomplete;
    let b = Bench::new("unknown");
    let mut board = Supervisor::new(&b.file("board.flash"), "1.0.0");
    let app = package::sim_app_image("2.0.0", 6000);
    let pkg = package::build("2.0.0", &[(package::APP_IMAGE_ID, &app), (0x1234_5678, &[7u8; 64])]);
    assert_eq!(
        board.boot(&mut spawn(write_pkg(&b.file("pkg"), &pkg))).unwrap().end,
        RunEnd::Reboot
    );
    let out = b.file("report.txt");
    let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
    // The app is copied, the unknown image skipped: the upgrade is never complete, every
    // boot runs it again and resets, until flashboot halts.
    assert!(rec.flashboot.iter().all(|o| *o == Incomplete), "{rec:?}");
    assert_eq!((rec.version, rec.end), (None, RunEnd::Halted));
    assert!(!out.exists(), "the firmware never ran");
}

#[test]
fn a_board_whose_app_partition_is_empty_is_not_repaired() {
    let b = Bench::new("empty-app");
    let flash = b.file("board.flash");
    let mut board = Supervisor::new(&flash, "1.0.0");
    assert_eq!(b.report(&mut board).1, "1.0.0");
    let (addr, size) = ws63_sim::flash::partition(ws63_sdk_sys::PARTITION_APP_IMAGE).unwrap();
    ws63_sim::flash::Flash::open(&flash).unwrap().erase(addr, size).unwrap();
    let out = b.file("report.txt");
    let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
    assert_eq!((rec.version, rec.end), (None, RunEnd::Halted));
    assert_eq!(board.installed_version().unwrap(), None, "no factory image appears");
}

#[test]
fn a_firmware_thread_that_keeps_the_cpu_is_reset_by_the_watchdog() {
    let b = Bench::new("watchdog");
    let mut board = Supervisor::new(&b.file("board.flash"), "1.0.0");
    // The chip's period is 15 s; a shorter one keeps the test short.
    board.watchdog = std::time::Duration::from_millis(400);
    let rec = board.boot(&mut spawn("spin:1500".into())).unwrap();
    assert_eq!(rec.end, RunEnd::Watchdog, "a thread that never waits starves the idle task");
    // The same work, waiting a tick every 100 ms, lets idle feed it.
    let rec = board.boot(&mut spawn("busy-but-waits:1500".into())).unwrap();
    assert_eq!(rec.end, RunEnd::Exited(0));
    // The board boots on after a watchdog reset.
    assert_eq!(b.report(&mut board).1, "1.0.0");
}

// ---- packages in the SDK's default configuration: signed, compressed, with flashboot ----

fn root() -> ws63_sim::keys::SigningKey {
    ws63_sim::keys::test_key("boot tests root key")
}

/// A board whose flash holds the tests' root key.
fn keyed_board(flash: &Path) -> Supervisor {
    Supervisor::new(flash, "1.0.0").with_root_key(*root().verifying_key())
}

fn default_pkg(version: &str, app_size: usize) -> Vec<u8> {
    package::Spec::sdk_default(version, app_size, &root()).build()
}

/// The versions of the flashboot in its partition and in the backup.
fn flashboots(path: &Path) -> (Option<String>, Option<String>) {
    use ws63_sim::package::{sim_image_version_of, SimImage::Flashboot};
    let read = |part| {
        let (addr, size) = ws63_sim::flash::partition(part).unwrap();
        let bytes = ws63_sim::flash::Flash::open(path).unwrap().read_vec(addr, size as usize);
        sim_image_version_of(Flashboot, &bytes)
    };
    (
        read(ws63_sdk_sys::PARTITION_FLASH_BOOT_IMAGE),
        read(ws63_sdk_sys::PARTITION_FLASH_BOOT_IMAGE_BACKUP),
    )
}

#[test]
fn a_default_package_installs_the_decompressed_app_and_flashboot() {
    let b = Bench::new("default");
    let flash = b.file("board.flash");
    let mut board = keyed_board(&flash);
    assert_eq!(b.report(&mut board).1, "1.0.0");
    assert_eq!(flashboots(&flash), (Some("1.0.0".into()), Some("1.0.0".into())));
    let pkg = default_pkg("2.0.0", 150_000);
    let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), &pkg))).unwrap();
    assert_eq!(rec.end, RunEnd::Reboot, "request_upgrade verified the signatures");
    assert_eq!(b.report(&mut board), (vec![Installed, NoUpgrade], "2.0.0".into()));
    // Both images, decompressed to their original bytes; the backup is the factory's.
    assert_eq!(flashboots(&flash), (Some("2.0.0".into()), Some("1.0.0".into())));
    let (addr, _) = ws63_sim::flash::partition(ws63_sdk_sys::PARTITION_APP_IMAGE).unwrap();
    let app = ws63_sim::flash::Flash::open(&flash).unwrap().read_vec(addr, 150_000);
    assert_eq!(app, package::sim_app_image("2.0.0", 150_000));
}

#[test]
fn bad_default_packages_are_refused_and_the_old_version_keeps_running() {
    let b = Bench::new("default-bad");
    let flash = b.file("board.flash");
    let mut board = keyed_board(&flash);
    let good = default_pkg("2.0.0", 40_000);
    let info =
        package::verify_bytes_with(&good, &ws63_sim::keys::raw_public_key(root().verifying_key()))
            .unwrap();
    let (app, fb) = (info[0].data_offset as usize, info[1].data_offset as usize);
    let stranger = ws63_sim::keys::test_key("a stranger's key");
    let cases = [
        ("signed with another key", package::Spec::sdk_default("2.0.0", 40_000, &stranger).build()),
        ("a flipped bit in the key area's signature", package::flip_bit(&good, 0xD0 * 8)),
        ("a flipped bit in the info area's signature", package::flip_bit(&good, 0x1E8 * 8)),
        ("a flipped bit in the compressed app", package::flip_bit(&good, (app + 100) * 8 + 3)),
        ("a flipped bit in the flashboot image", package::flip_bit(&good, (fb + 100) * 8)),
        ("truncated", package::truncate(&good, good.len() - 1000)),
    ];
    for (i, (what, bad)) in cases.into_iter().enumerate() {
        // A board each: `prepare` erases only the new package's length, and what an earlier
        // package left behind it could complete a truncated one, on the chip as here.
        let mut board = keyed_board(&b.file(&format!("case{i}.flash")));
        let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), &bad))).unwrap();
        assert_eq!(rec.end, RunEnd::Exited(3), "{what}: request_upgrade refused it");
        assert_eq!(b.report(&mut board), (vec![NoUpgrade], "1.0.0".into()), "{what}");
    }
    // A board without a root key accepts no signed package, only SHA-256 mode.
    let mut keyless = Supervisor::new(&b.file("keyless.flash"), "1.0.0");
    let rec = keyless.boot(&mut spawn(write_pkg(&b.file("pkg"), &good))).unwrap();
    assert_eq!(rec.end, RunEnd::Exited(3), "no root key, no signed package");
    let sha = package::build_app("2.0.0", 40_000);
    assert_eq!(
        keyless.boot(&mut spawn(write_pkg(&b.file("pkg"), &sha))).unwrap().end,
        RunEnd::Reboot
    );
    // The signed package goes in once the board has the key.
    let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), &good))).unwrap();
    assert_eq!(rec.end, RunEnd::Reboot);
    assert_eq!(b.report(&mut board).1, "2.0.0");
}

#[test]
fn a_power_cut_at_any_write_of_a_compressed_install_never_boots_a_broken_image() {
    let b = Bench::new("cut-default");
    let pkg = default_pkg("3.0.0", 20_000);
    let ota = write_pkg(&b.file("pkg"), &pkg);
    let mut broken_flashboots = 0;
    let mut cut = 1;
    loop {
        let flash = b.file(&format!("fb{cut}.flash"));
        let mut board = keyed_board(&flash);
        assert_eq!(board.boot(&mut spawn(ota.clone())).unwrap().end, RunEnd::Reboot);
        board.next_flashboot_faults.power_cut_at_write = Some(cut);
        let out = b.file("report.txt");
        let rec = board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap();
        if rec.end != RunEnd::PowerCut {
            // The cut came after flashboot's last write: every write was covered.
            assert_eq!(rec.version.as_deref(), Some("3.0.0"));
            std::fs::remove_file(flash).unwrap();
            break;
        }
        if flashboots(&flash).0.is_none() {
            // Cut while flashboot's own partition was being rewritten: the ROM will start
            // the backup, which restores it.
            broken_flashboots += 1;
        }
        let (fb, version) = b.report(&mut board);
        assert_eq!(version, "3.0.0", "cut {cut}: flashboot {fb:?}");
        assert_eq!(board.last_upgrade_result().unwrap(), Some(package::result::UPDATE_SUCCESS));
        assert_eq!(flashboots(&flash), (Some("3.0.0".into()), Some("1.0.0".into())), "cut {cut}");
        std::fs::remove_file(flash).unwrap();
        cut += 1;
    }
    // Flags, the app partition's erase, the decompressed app's writes, the flashboot
    // partition's erase and writes, the results.
    assert!(cut > 12, "only {cut} writes in the install?");
    assert!(broken_flashboots > 0, "no cut hit flashboot's own partition");
}

/// A package in SHA-256 mode whose application image is `stored`, LZMA-flagged.
fn lzma_app_pkg(stored: &[u8]) -> Vec<u8> {
    package::build_images(
        "2.0.0",
        &[package::ImageSpec {
            id: package::APP_IMAGE_ID,
            data: stored,
            decompress_flag: package::DECOMPRESS_ZIP,
        }],
        package::Signing::Sha256,
    )
}

/// Requests `pkg` on a fresh board and boots once more: what flashboot did.
fn install(b: &Bench, name: &str, pkg: &[u8]) -> ws63_sim::supervisor::BootRecord {
    let mut board = Supervisor::new(&b.file(&format!("{name}.flash")), "1.0.0");
    let rec = board.boot(&mut spawn(write_pkg(&b.file("pkg"), pkg))).unwrap();
    assert_eq!(rec.end, RunEnd::Reboot, "{name}: the package verifies");
    let out = b.file("report.txt");
    board.boot(&mut spawn(format!("report:{}", out.display()))).unwrap()
}

#[test]
fn lzma_images_install_only_as_flashboots_decoder_can_read_them() {
    use ws63_sim::upgrade::FlashbootOutcome::{Failed, Retry};
    let b = Bench::new("lzma-rules");
    let app = package::sim_app_image("2.0.0", 100_000);
    let good = package::lzma_image(&app);
    let fail = || Retry(package::result::DECOMPRESS_IMAGE_FAILED);

    // The packager's stream (no end marker) installs, byte for byte.
    let rec = install(&b, "good", &lzma_app_pkg(&good));
    assert_eq!((&rec.flashboot[0], rec.version.as_deref()), (&Installed, Some("2.0.0")));

    // Stored data that goes on for a 4 KiB piece after the stream has given the whole image:
    // flashboot reads that piece too, decodes nothing from it, and the flash driver refuses the
    // write of zero bytes. Three attempts, then the upgrade ends (RETRY_ALL_FAILED).
    let mut long = good.clone();
    long.extend_from_slice(&[0; 4096]);
    let rec = install(&b, "long", &lzma_app_pkg(&long));
    assert_eq!(rec.flashboot[..3], [fail(), fail(), Failed(13)], "{rec:?}");

    // The dictionary comes from flashboot's 64 KiB heap with the tables and the 20 KiB of
    // buffers: 32 KiB fits, 64 KiB does not (the stream itself is the same, valid for both).
    let with_dict = |dict: u32| {
        let mut s = good.clone();
        s[1..5].copy_from_slice(&dict.to_le_bytes());
        s
    };
    let rec = install(&b, "dict32k", &lzma_app_pkg(&with_dict(32 * 1024)));
    assert_eq!((&rec.flashboot[0], rec.version.as_deref()), (&Installed, Some("2.0.0")));
    let rec = install(&b, "dict64k", &lzma_app_pkg(&with_dict(64 * 1024)));
    assert_eq!(rec.flashboot[..3], [fail(), fail(), Failed(13)], "{rec:?}");
}

#[test]
fn the_decoders_memory_is_counted_as_flashboot_allocates_it() {
    use ws63_sim::upgrade::{lzma_heap_need, FLASHBOOT_HEAP};
    let head = |props: u8, dict: u32, size: u32| {
        let mut h = [0u8; 16];
        h[0] = props;
        h[1..5].copy_from_slice(&dict.to_le_bytes());
        h[5..9].copy_from_slice(&size.to_le_bytes());
        h
    };
    // 0x5A: lc 0, lp 0, pb 2 (the packager's); 0x5D: lc 3 (xz's and 7-Zip's default).
    assert_eq!(lzma_heap_need(&head(0x5A, 4096, 100_000)), Some(30_112));
    assert_eq!(lzma_heap_need(&head(0x5D, 4096, 100_000)), Some(40_864));
    assert_eq!(lzma_heap_need(&head(0x5A, 32 << 10, 100_000)), Some(58_784));
    assert!(lzma_heap_need(&head(0x5D, 32 << 10, 100_000)).unwrap() > FLASHBOOT_HEAP);
    // The dictionary is never larger than the image, nor smaller than 4 KiB.
    assert_eq!(lzma_heap_need(&head(0x5A, 1 << 20, 1000)), Some(30_112 - 4096 + 1000));
    assert_eq!(lzma_heap_need(&head(0x5A, 16, 100_000)), Some(30_112));
    assert_eq!(lzma_heap_need(&head(225, 4096, 100_000)), None);
}

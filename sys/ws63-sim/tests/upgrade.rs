//! The upgrade API on the simulated flash, through `ws63-sdk-sys` as the firmware calls it, and
//! flashboot's install step.

use std::path::PathBuf;

use ws63_sdk_sys as sdk;
use ws63_sim::package;
use ws63_sim::upgrade::{self, FlashbootOutcome, FlashbootOutcome::*};

fn fresh_board(name: &str) -> (std::sync::MutexGuard<'static, ()>, PathBuf) {
    let g = ws63_sim::test_lock();
    ws63_sim::faults::clear();
    let p = std::env::temp_dir().join(format!("ws63sim-upg-{name}-{}.flash", std::process::id()));
    let _ = std::fs::remove_file(&p);
    ws63_sim::flash::open(&p).unwrap();
    ws63_sim::flash::with(|f| upgrade::factory_install(f, "1.0.0")).unwrap();
    upgrade::reset_ram_state();
    (g, p)
}

fn prepare(len: u32) -> sdk::errcode_t {
    let mut info = sdk::upg_prepare_info_t { package_len: len };
    // SAFETY: a valid prepare_info.
    unsafe { sdk::uapi_upg_prepare(&mut info) }
}

fn write(offset: u32, data: &[u8]) -> sdk::errcode_t {
    // SAFETY: `data` is valid for its length, which fits u16 in these tests.
    unsafe { sdk::uapi_upg_write_package_sync(offset, data.as_ptr(), data.len() as u16) }
}

fn write_all(pkg: &[u8]) {
    for (i, chunk) in pkg.chunks(4096).enumerate() {
        assert_eq!(write((i * 4096) as u32, chunk), sdk::ERRCODE_SUCC);
    }
}

/// A reboot as the app sees it: RAM state gone, the module initialised again; its status.
fn status_after_reboot() -> sdk::upg_status_t {
    upgrade::reset_ram_state();
    // SAFETY: plain API calls.
    unsafe {
        sdk::ws63_upg_init();
        sdk::uapi_upg_get_status()
    }
}

/// Init, prepare `len`, write `bytes`, request the upgrade without reboot: its verdict.
fn download(bytes: &[u8], len: u32) -> sdk::errcode_t {
    upgrade::reset_ram_state();
    // SAFETY: plain API calls.
    unsafe {
        sdk::ws63_upg_init();
        assert_eq!(prepare(len), sdk::ERRCODE_SUCC);
        write_all(bytes);
        sdk::uapi_upg_request_upgrade(false)
    }
}

fn flash<R>(f: impl FnOnce(&mut ws63_sim::flash::Flash) -> R) -> R {
    ws63_sim::flash::with(|fl| Ok(f(fl))).unwrap()
}

/// A reset of the chip: flashboot runs (and resets) until it starts the app. What each run
/// did, and the app's version.
fn reset() -> (Vec<FlashbootOutcome>, Option<String>) {
    flash(upgrade::flashboot_until_app)
}

#[test]
fn every_call_before_init_is_not_init_and_init_is_once() {
    let (_g, p) = fresh_board("init");
    // SAFETY: plain API calls with valid (or deliberately null) pointers.
    unsafe {
        assert_eq!(sdk::uapi_upg_get_status(), sdk::UPG_STATUS_SUCC, "the SDK's quirk before init");
        assert_eq!(sdk::uapi_upg_get_storage_size(), 0);
        assert_eq!(prepare(100), sdk::ERRCODE_UPG_NOT_INIT);
        assert_eq!(write(0, &[1]), sdk::ERRCODE_UPG_NOT_INIT);
        assert_eq!(
            sdk::uapi_upg_read_package(0, [0u8; 4].as_mut_ptr(), 4),
            sdk::ERRCODE_UPG_NOT_INIT
        );
        assert_eq!(sdk::uapi_upg_request_upgrade(false), sdk::ERRCODE_UPG_NOT_INIT);
        assert_eq!(sdk::ws63_upg_init(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::ws63_upg_init(), sdk::ERRCODE_UPG_ALREADY_INIT);
        assert_eq!(sdk::uapi_upg_get_status(), sdk::UPG_STATUS_NONE);
        assert_eq!(sdk::uapi_upg_get_storage_size(), 0x18_0000);
    }
    std::fs::remove_file(p).unwrap();
}

#[test]
fn prepare_and_write_check_their_arguments_with_the_sdks_codes() {
    let (_g, p) = fresh_board("args");
    // SAFETY: plain API calls with valid (or deliberately null) pointers.
    unsafe {
        sdk::ws63_upg_init();
        assert_eq!(sdk::uapi_upg_prepare(std::ptr::null_mut()), sdk::ERRCODE_UPG_INVALID_PARAMETER);
        assert_eq!(prepare(0), sdk::ERRCODE_UPG_INVALID_PARAMETER);
        assert_eq!(prepare(0x18_0001), sdk::ERRCODE_UPG_INVALID_PARAMETER, "larger than storage");
        assert_eq!(write(0, &[1, 2]), sdk::ERRCODE_UPG_NOT_PREPARED);
        assert_eq!(prepare(1000), sdk::ERRCODE_SUCC);
        assert_eq!(
            sdk::uapi_upg_write_package_sync(0, std::ptr::null(), 4),
            sdk::ERRCODE_UPG_NULL_POINTER
        );
        assert_eq!(write(0, &[]), sdk::ERRCODE_UPG_INVALID_BUFF_LEN);
        assert_eq!(write(999, &[1, 2]), sdk::ERRCODE_UPG_NO_ENOUGH_SPACE, "past the package");
        assert_eq!(write(1000, &[1]), sdk::ERRCODE_UPG_NO_ENOUGH_SPACE);
        // Any order is allowed, as in the SDK; writing programmed bytes again with other data
        // is what corrupts flash on the chip, and the simulator refuses it.
        assert_eq!(write(500, &[0xAA; 10]), sdk::ERRCODE_SUCC);
        assert_eq!(write(0, &[0x55; 10]), sdk::ERRCODE_SUCC);
        assert_eq!(write(500, &[0xAA; 10]), sdk::ERRCODE_SUCC, "identical data is harmless");
        assert_eq!(write(505, &[0x55; 10]), sdk::ERRCODE_UPG_FLASH_WRITE_ERROR);
        // Reads: 16-bit length check and clipping, as the SDK.
        let mut buf = [0u8; 12];
        assert_eq!(sdk::uapi_upg_read_package(0, buf.as_mut_ptr(), 12), sdk::ERRCODE_SUCC);
        assert_eq!(&buf[..10], &[0x55; 10]);
        assert_eq!(&buf[10..], &[0xFF; 2]);
        assert_eq!(
            sdk::uapi_upg_read_package(0, buf.as_mut_ptr(), 0x1_0000),
            sdk::ERRCODE_UPG_INVALID_BUFF_LEN
        );
        assert_eq!(
            sdk::uapi_upg_read_package(0x18_3000, buf.as_mut_ptr(), 4),
            sdk::ERRCODE_UPG_INVALID_PARAMETER
        );
        assert_eq!(
            sdk::uapi_upg_read_package(0, std::ptr::null_mut(), 4),
            sdk::ERRCODE_UPG_NULL_POINTER
        );
        // A new prepare erases what was written.
        assert_eq!(prepare(1000), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::uapi_upg_read_package(500, buf.as_mut_ptr(), 12), sdk::ERRCODE_SUCC);
        assert_eq!(buf, [0xFF; 12]);
        assert_eq!(write(505, &[0x55; 10]), sdk::ERRCODE_SUCC);
    }
    std::fs::remove_file(p).unwrap();
}

#[test]
fn a_valid_package_is_requested_then_installed_by_flashboot() {
    let (_g, p) = fresh_board("valid");
    let pkg = package::build_app("1.0.1", 20_000);
    // SAFETY: plain API calls.
    unsafe {
        sdk::ws63_upg_init();
        assert_eq!(prepare(pkg.len() as u32), sdk::ERRCODE_SUCC);
        write_all(&pkg);
        assert!(!flash(upgrade::pending));
        assert_eq!(sdk::uapi_upg_request_upgrade(false), sdk::ERRCODE_SUCC);
    }
    assert!(flash(upgrade::pending));
    assert_eq!(flash(upgrade::installed_version).as_deref(), Some("1.0.0"));
    // Flashboot installs and resets; at its next run it finds nothing to do and starts the
    // new app.
    assert_eq!(reset(), (vec![Installed, NoUpgrade], Some("1.0.1".into())));
    assert_eq!(flash(upgrade::last_result), Some(package::result::UPDATE_SUCCESS));
    // Flashboot's own init consumed the result: the app sees NONE (as on the chip, where the
    // app never hears UPG_STATUS_SUCC); the result stays readable.
    assert_eq!(status_after_reboot(), sdk::UPG_STATUS_NONE);
    assert_eq!(flash(upgrade::last_result), Some(package::result::UPDATE_SUCCESS));
    assert_eq!(reset(), (vec![NoUpgrade], Some("1.0.1".into())));
    std::fs::remove_file(p).unwrap();
}

#[test]
fn corrupted_and_truncated_packages_are_refused_and_the_old_image_stays() {
    let (_g, p) = fresh_board("bad");
    let pkg = package::build_app("2.0.0", 10_000);
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        ("flipped bit in the image", package::flip_bit(&pkg, 8 * 5000), pkg.len() as u32),
        ("flipped bit in the header", package::flip_bit(&pkg, 8 * 0x150), pkg.len() as u32),
        ("truncated download", package::truncate(&pkg, pkg.len() - 100), pkg.len() as u32),
        ("a raw image, no package", package::sim_app_image("2.0.0", 4096), 4096),
    ];
    for (what, bytes, len) in cases {
        assert_eq!(download(&bytes, len), sdk::ERRCODE_FAIL, "{what}");
        assert!(!flash(upgrade::pending), "{what}: not marked for flashboot");
        assert_eq!(reset(), (vec![NoUpgrade], Some("1.0.0".into())), "{what}");
    }
    std::fs::remove_file(p).unwrap();
}

#[test]
fn flashboot_verifies_again_and_keeps_the_old_image_if_the_package_changed() {
    let (_g, p) = fresh_board("reverify");
    let pkg = package::build_app("3.0.0", 10_000);
    assert_eq!(download(&pkg, pkg.len() as u32), sdk::ERRCODE_SUCC);
    // A bit of the stored image decays after the request (NOR can clear bits).
    let at = upgrade::FOTA_BASE + 5000;
    flash(|f| f.program(at, &[0x00])).unwrap();
    assert_eq!(
        reset(),
        (vec![Failed(package::result::VERIFY_IMAGE_FAILED), NoUpgrade], Some("1.0.0".into()))
    );
    assert_eq!(flash(upgrade::last_result), Some(package::result::VERIFY_IMAGE_FAILED));
    assert_eq!(status_after_reboot(), sdk::UPG_STATUS_NONE, "flashboot consumed the result");
    std::fs::remove_file(p).unwrap();
}

#[test]
fn injected_flash_write_errors_surface_as_the_sdks_codes() {
    let (_g, p) = fresh_board("werr");
    let pkg = package::build_app("4.0.0", 3000);
    // SAFETY: plain API calls.
    unsafe {
        sdk::ws63_upg_init();
        // No A/B in this build: the flash controller's code comes back unchanged.
        ws63_sim::faults::Faults { flash_write_error_at: Some(1), ..Default::default() }.install();
        assert_eq!(prepare(pkg.len() as u32), sdk::ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY);
        // 3000 bytes: one sector; the status region: three; then three flag writes.
        ws63_sim::faults::Faults { flash_write_error_at: Some(8), ..Default::default() }.install();
        assert_eq!(prepare(pkg.len() as u32), sdk::ERRCODE_SUCC, "4 erases + 3 flag writes");
        assert_eq!(write(0, &pkg[..1000]), sdk::ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY);
    }
    ws63_sim::faults::clear();
    std::fs::remove_file(p).unwrap();
}

//! A maximum-size OTA with the flash taking the chip's time (W25Q16 datasheet figures; the
//! SDK's driver locks interrupts per erase block and per write): the download is not cut by
//! an idle timeout while `uapi_upg_prepare` erases 1.5 MiB, the app's watchdog (15 s, fed by
//! the idle task and by the upgrade writes) is never near, and the OTA takes little more than
//! the flash alone needs. One test in its own process: it sets the flash's timing.

mod common;

use std::time::{Duration, Instant};

use common::{Board, Faults, FirmwareServer};
use ota::board::{HalConnector, SdkSink};
use ota::{OtaConfig, OtaRequest};
use ws63_sim::flash::Timing;
use ws63_sim::rtos::watchdog;
use ws63_sim::{package, upgrade};

#[test]
fn a_maximum_size_ota_under_chip_timing() {
    let board = Board::new("chip-timing");
    // The largest package the storage takes: the header, one hash node padded to 16, one
    // image header, and the image.
    let image = upgrade::STORAGE_SIZE as usize - 0x200 - 48 - 160;
    let pkg = package::build_app("2.0.0", image);
    assert_eq!(pkg.len(), upgrade::STORAGE_SIZE as usize);
    let srv = FirmwareServer::start(pkg.clone(), Faults::default());
    let req = OtaRequest {
        version: "2.0.0".into(),
        url: srv.url("/pkg"),
        sha256: Some(common::sha256_hex(&pkg)),
        size: None,
        token: None,
    };
    ws63_sim::flash::set_timing(Some(Timing::W25Q16));
    watchdog::reset_longest();
    let t0 = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    // On a firmware thread, as the OTA thread runs (the watchdog counts firmware threads).
    ws63_hal::thread::Builder::new(c"ota")
        .stack_size(ota::board::TaskConfig::default().stack_size)
        .spawn(move || {
            let mut conn = HalConnector {
                connect_timeout: Duration::from_secs(10),
                read_timeout: Duration::from_secs(15),
                ca: None,
            };
            let mut sink = SdkSink::default();
            let _ = tx.send(ota::run(&req, OtaConfig::default(), &mut conn, &mut sink, &mut ()));
        })
        .unwrap();
    let result = rx.recv_timeout(Duration::from_secs(120)).expect("the OTA ends");
    let took = t0.elapsed();
    ws63_sim::flash::set_timing(None);
    let downloaded = result.expect("the OTA succeeds under chip timing");
    assert_eq!(downloaded.len, upgrade::STORAGE_SIZE);
    assert!(board.requested());
    // One request: no idle timeout fired while prepare erased, nothing had to be resumed.
    assert_eq!(srv.hits().len(), 1, "{:?}", srv.hits());
    let floor = Timing::W25Q16.package_time(upgrade::STORAGE_SIZE);
    let starved = watchdog::longest_busy();
    println!(
        "maximum-size OTA ({} bytes) under chip timing: {:.2} s; the flash alone needs {:.2} s \
         (ratio {:.2}); longest stretch without a watchdog feed {:.2} s",
        pkg.len(),
        took.as_secs_f64(),
        floor.as_secs_f64(),
        took.as_secs_f64() / floor.as_secs_f64(),
        starved.as_secs_f64()
    );
    assert!(took >= floor, "the flash's time was spent: {took:?} < {floor:?}");
    // The longest stretch is prepare's erase (no feed, no wait): 1.5 MiB in 64 KiB blocks.
    assert!(
        starved < watchdog::APP_PERIOD / 2,
        "{starved:?} without feeding the 15 s watchdog: too close"
    );
    assert_eq!(board.reboot_and_version().as_deref(), Some("2.0.0"));
}

//! Peak heap of an OTA does not grow with the package: the engine's memory is one buffer and
//! the package header, whatever the size.

mod common;

use std::time::Duration;

use common::{Board, Faults, FirmwareServer};
use ota::board::{HalConnector, SdkSink};
use ota::{OtaConfig, OtaRequest};
use ws63_sim::measure::heap_peak;
use ws63_sim::package;

/// Peak heap bytes of one OTA of a `size`-byte image, run on its own thread.
fn peak_of_ota(size: usize) -> usize {
    let p = package::build_app("2.0.0", size);
    let srv = FirmwareServer::start(p, Faults::default());
    let req = OtaRequest {
        version: "2.0.0".into(),
        url: srv.url("/pkg"),
        sha256: None,
        size: None,
        token: None,
    };
    std::thread::spawn(move || {
        let mut conn = HalConnector {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(2),
            ca: None,
        };
        let (r, peak) = heap_peak(|| {
            ota::run(&req, OtaConfig::default(), &mut conn, &mut SdkSink::default(), &mut ())
        });
        r.unwrap();
        peak
    })
    .join()
    .unwrap()
}

#[test]
fn peak_heap_does_not_depend_on_the_package_size() {
    let _board = Board::new("heap");
    let small = peak_of_ota(64 * 1024);
    let large = peak_of_ota(1024 * 1024);
    println!("peak heap during an OTA: {small} bytes (64 KiB image), {large} bytes (1 MiB image)");
    // Sixteen times the package, the same memory: what varies is only how many bytes one
    // socket read returns (at most the 4 KiB buffer, copied once by the simulated flash).
    assert!(large <= small + 8 * 1024, "small {small}, large {large}");
    assert!(large < 48 * 1024, "the engine's memory is a few KiB: {large}");
}

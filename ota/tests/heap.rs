//! Peak heap of an OTA does not grow with the package: the engine's memory is one buffer and
//! the package header, whatever the size.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use common::{Board, Faults, FirmwareServer};
use ota::board::{HalConnector, SdkSink};
use ota::{OtaConfig, OtaRequest};
use ws63_sim::package;

/// Counts the bytes live on the heap, per thread, for threads that ask to be measured.
struct Counting;

thread_local! {
    static MEASURE: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    if MEASURE.with(Cell::get) {
        let live = LIVE.with(|l| {
            l.set(l.get() + delta);
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(live)));
    }
}

// SAFETY: forwards to the system allocator unchanged; the counters are thread-local cells that
// allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap bytes of one OTA of a `size`-byte image, run on its own thread.
fn peak_of_ota(size: usize) -> isize {
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
        MEASURE.with(|m| m.set(true));
        let mut conn = HalConnector {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(2),
        };
        let r = ota::run(&req, OtaConfig::default(), &mut conn, &mut SdkSink::default(), &mut ());
        MEASURE.with(|m| m.set(false));
        r.unwrap();
        PEAK.with(Cell::get)
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

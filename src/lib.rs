//! The BMS gateway firmware for the HiSilicon WS63, as the static library the SDK links into
//! its `ws63-liteos-app` image (`cargo +nightly ws63`).
//!
//! This crate only assembles the layers: the chip runtime (`ws63-rt`: entry registration, heap,
//! panic handler) and, above the `-sys` crates and their wrappers, the application
//! (`gateway`, with `ota` and `mqtt_cmd`). See README.md for how the library joins the image.
#![no_std]
#![warn(missing_docs)]

/// The firmware's name and version, as printed at start-up.
pub const FIRMWARE: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));

#[cfg(feature = "link-probe")]
pub use {cmsis_rtos2_sys, lwip_sys, ws63_sdk_sys};

ws63_rt::app_run!(app_main);

/// The application entry: called once by the SDK's `main()` before the scheduler starts.
pub fn app_main() {
    ws63_hal::log::init(log::LevelFilter::Info);
    log::info!(target: "gateway", "{FIRMWARE} starting");
}

//! A simulated WS63 board: the SDK's C symbols implemented on the host, so the firmware's
//! wrappers and application run unchanged on x86_64 Linux.
//!
//! What it models (each module says how, and where it differs from the SDK on purpose):
//! - [`rtos`]: CMSIS-RTOS2 as LiteOS implements it, on host threads with the chip's 100 Hz
//!   tick; the scheduler lock, resource limits and the app's watchdog;
//! - [`heap`]: the LiteOS system heap (`malloc` & co.), with a limit; the board installs the
//!   firmware's own allocator (`ws63_rt::heap::SdkHeap`) over it as the host's global
//!   allocator, so the firmware's allocations take the path they take on the chip;
//! - [`net`]: lwIP sockets, `getaddrinfo` and the netif API over host sockets;
//! - [`wifi`]: the station API against one simulated access point;
//! - [`flash`]: a 4 MiB NOR flash in a file, the SDK's default partition table;
//! - [`upgrade`]: the upgrade API and flashboot's install step; [`package`]: the update
//!   package format, a builder for tests and the device's verification; [`keys`]: their
//!   ECDSA keys;
//! - [`board`]: reboot and the watchdog; a firmware run is a process, and [`supervisor`] is
//!   the board around it (flashboot, start, reboot);
//! - [`tls`]: the SDK's mbedTLS client functions over the host's mbedTLS, kept to 3.1.0's
//!   rules where the two differ;
//! - [`faults`]: power cuts, flash write errors, WiFi and DNS failures, refused threads;
//! - [`fwserver`]: an HTTP firmware server with Range support and fault modes; [`broker`]:
//!   an MQTT broker with an in-process client, the cloud side;
//! - [`measure`]: heap and stack high-water marks for tests and benchmarks; [`control`]: the
//!   lab bench, commands to a running board (a heap limit, a WiFi drop).
//!
//! On the host the `-sys` crates link every SDK function `f` as `ws63sim_f` (see
//! `ws63-bindgen`), which is the name each function here is exported under; `printf` is the
//! host C library's.
#![warn(missing_docs)]
// The exported functions are the SDK's C entry points: C callers cannot see Rust's `unsafe`,
// and the pointer contracts are the SDK API's own, stated at each dereference.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// `c_long` and `c_ulong` are 64-bit here but follow the platform: casts through them are kept.
#![allow(clippy::unnecessary_cast)]

pub mod board;
pub mod broker;
pub mod control;
pub mod faults;
pub mod flash;
pub mod fwserver;
pub mod heap;
pub mod keys;
pub mod measure;
pub mod net;
pub mod package;
pub mod rtos;
pub mod supervisor;
pub mod tls;
pub mod upgrade;
pub mod wifi;

/// The firmware allocates through `SdkHeap` (`malloc`/`memalign`/`free` of the SDK), as on
/// the chip; on the host those are [`heap`]'s.
#[global_allocator]
static FIRMWARE_HEAP: ws63_rt::heap::SdkHeap = ws63_rt::heap::SdkHeap;

/// Serialises tests that use the board's global state (faults, WiFi, flash) in one process.
#[doc(hidden)]
pub fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// [`test_lock`], then a board with no faults and its network up: what a test of the
/// firmware's calls starts from.
#[doc(hidden)]
pub fn test_board() -> std::sync::MutexGuard<'static, ()> {
    let g = test_lock();
    faults::clear();
    wifi::bring_up();
    g
}

//! Safe wrappers over the WS63 SDK, in the spirit of esp-idf-hal/svc: the layer between the raw
//! `-sys` bindings and the firmware's logic. Nothing above this crate needs `unsafe`.
//!
//! | module | wraps |
//! |---|---|
//! | [`error`] | `errcode_t` ([`SdkError`]), `osStatus_t` ([`OsError`]), socket `errno` ([`NetError`]), and this layer's [`Error`] |
//! | [`thread`] | `osThreadNew` (a builder running a closure), `osDelay` |
//! | [`sync`] | RTOS mutex, semaphore, typed message queue |
//! | [`net`] | a TCP stream over lwIP sockets (`embedded-io`) |
//! | [`tls`] | a TLS 1.2 client stream over any transport, through the SDK's mbedTLS |
//! | [`partition`] | partition info |
//! | [`upgrade`] | the upgrade API as a typestate: prepare, write, request, reboot |
//! | [`wifi`] | joining a network as a station, with DHCP |
//! | [`log`](mod@crate::log) | a `log` backend on the console |
//! | [`time`] | the kernel tick as an instant |
//!
//! # Atomics
//!
//! The WS63 core has no A extension: atomic loads and stores exist, read-modify-write does not
//! (and `alloc::sync::Arc` is unavailable on the chip). Where this crate needs one-at-a-time
//! state it uses `critical-section`: on the chip `ws63-rt` implements it with the kernel's
//! scheduler lock (`osKernelLock`/`osKernelRestoreLock`: firmware code runs in tasks only), on
//! the host the `critical-section` `std` implementation serves. CI's instruction check keeps
//! `lr`/`sc`/`amo` out of the chip build.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod error;
pub mod log;
pub mod net;
pub mod partition;
pub mod sync;
pub mod thread;
pub mod time;
pub mod tls;
pub mod upgrade;
pub mod wifi;

pub use error::{Error, ErrorKind, NetError, OsError, SdkError};

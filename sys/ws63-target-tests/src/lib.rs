//! On-target tests: the wrappers (`ws63-hal`) and the runtime (`ws63-rt`) on the real LiteOS,
//! in the emulator lane's test image (`.ci/emulate`; the root crate's `on-target-tests`
//! feature makes its entry run these instead of only starting the gateway). Never part of the
//! product image.
//!
//! The runner prints one line per test, `[test] NAME ... ok` or `[test] NAME ... FAILED: why`,
//! then `[test] N passed, M failed`, then panics on purpose in a thread (the chip's panic
//! handler prints and reboots: the lane sees the reset). Before the tests it lets the gateway
//! run for a while, starts an OTA from C (`ota_task_start`), and prints the stack water lines
//! of the firmware's threads and the heap in use, as LiteOS counts them (`[water]`, `[heap]`).
#![no_std]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod chip;

#[cfg(target_os = "none")]
pub use chip::{before_scheduler, start, Hooks};

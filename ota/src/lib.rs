//! The OTA engine of the BMS gateway: what the C original's `ota_task.c` did (connect,
//! download the update package over HTTP into the upgrade partition as it arrives, check it,
//! request the upgrade, reboot), done so that it never installs a bad image, survives bad
//! networks and reports the truth.
//!
//! - [`engine::run`]: one OTA, generic over a [`Connector`](engine::Connector) (sockets), a
//!   [`PackageSink`](engine::PackageSink) (the upgrade storage) and a
//!   [`Progress`](engine::Progress) receiver, so it runs against fakes in tests and against
//!   [`board`]'s adapters over `ws63-hal` on the device and the simulated board.
//! - [`http`]: the HTTP/1.1 response side (httparse, bounded head, chunked decoding).
//! - [`package`]: the early header check of the first 512 bytes.
//! - [`request`]: the request (URL, version, SHA-256, size, token) and its validation.
//! - [`error`]: [`OtaError`] and its IoTDA result code.
//! - [`board`]: the device side: adapters, and the OTA thread (one at a time).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod board;
pub mod engine;
pub mod error;
pub mod http;
pub mod package;
pub mod request;

pub use engine::{run, Downloaded, OtaConfig, Phase};
pub use error::OtaError;
pub use request::OtaRequest;

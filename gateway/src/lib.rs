//! The BMS gateway application: [`app`] (the main loop, generic over a [`app::Platform`]),
//! [`board`] (the platform over `ws63-hal` and the OTA thread), [`mqtt`] (an MQTT 3.1.1
//! session over any byte stream), [`login`] (IoTDA's or a plain one) and [`config`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod app;
pub mod board;
pub mod config;
pub mod login;
pub mod mqtt;

// The version rules the configuration checks (`config.rs` is also compiled into `build.rs`,
// which includes the same rules file as its own `version` module).
use ws63_rt::version;

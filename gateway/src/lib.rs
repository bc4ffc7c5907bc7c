//! The BMS gateway application. So far: [`mqtt`], the MQTT 3.1.1 session over any byte
//! stream, [`login`] (IoTDA's or a plain one) and [`config`], the gateway's configuration (the
//! rest of the application is not written yet; see the issues).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod config;
pub mod login;
pub mod mqtt;

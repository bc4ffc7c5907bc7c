//! MQTT command parsing and responses (not written yet; see the issues).
#![no_std]
#![forbid(unsafe_code)]

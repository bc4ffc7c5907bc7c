//! The OTA engine: download, verify, resume (not written yet; see the issues).
#![no_std]
#![forbid(unsafe_code)]

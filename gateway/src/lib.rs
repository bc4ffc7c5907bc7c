//! The gateway application (not written yet; see the issues).
#![no_std]
#![forbid(unsafe_code)]

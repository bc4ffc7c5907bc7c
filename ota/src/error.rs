//! Why an OTA ended without an upgrade, mapped onto Huawei Cloud IoTDA's result codes.

use alloc::string::String;
use core::fmt;

/// IoTDA `upgrade_progress_report` result codes.
pub mod result_code {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// The device is busy (an OTA is already running).
    pub const BUSY: u8 = 1;
    /// Poor signal: the network could not be reached.
    pub const POOR_SIGNAL: u8 = 2;
    /// Already the latest version.
    pub const LATEST_VERSION: u8 = 3;
    /// Not enough space for the package.
    pub const NO_SPACE: u8 = 5;
    /// The download timed out.
    pub const DOWNLOAD_TIMEOUT: u8 = 6;
    /// The package failed verification.
    pub const VERIFICATION_FAILED: u8 = 7;
    /// The package type is not supported.
    pub const UNSUPPORTED_PACKAGE: u8 = 8;
    /// Out of memory.
    pub const OUT_OF_MEMORY: u8 = 9;
    /// The installation failed.
    pub const INSTALL_FAILED: u8 = 10;
    /// Internal error.
    pub const INTERNAL: u8 = 255;
}

/// An OTA that ended without requesting the upgrade (or whose request the SDK refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtaError {
    /// Another OTA is running.
    Busy,
    /// The request is malformed (the text says how): a bad URL, version or SHA-256.
    BadRequest(String),
    /// The server could not be reached (DNS, connection refused, no route) after retries.
    Network(String),
    /// The server stopped sending (idle timeout or repeated drops) after retries.
    DownloadTimeout,
    /// The server answered with this HTTP status.
    Http(u16),
    /// The server's response is not HTTP we accept (over-long header, bad framing, a range
    /// we did not ask for, too many redirects, more bytes than announced).
    Protocol(&'static str),
    /// The package is larger than the upgrade storage.
    NoSpace {
        /// The package length.
        len: u32,
        /// The storage size.
        capacity: u32,
    },
    /// The file is not an update package for this device (checked on its first 512 bytes).
    UnsupportedPackage(&'static str),
    /// The package's SHA-256 differs from the one requested.
    HashMismatch,
    /// The package's length differs from the declared size.
    SizeMismatch {
        /// The declared size.
        declared: u32,
        /// What the server or the package says.
        actual: u32,
    },
    /// The SDK refused the package when the upgrade was requested.
    Rejected(String),
    /// Writing to flash failed.
    Flash(String),
    /// The heap had no room (for the SDK's buffers, or ours).
    OutOfMemory(String),
    /// Anything else.
    Internal(String),
}

impl OtaError {
    /// The IoTDA result code to report.
    pub fn result_code(&self) -> u8 {
        use result_code::*;
        match self {
            OtaError::Busy => BUSY,
            OtaError::BadRequest(_) => INTERNAL,
            OtaError::Network(_) => POOR_SIGNAL,
            OtaError::DownloadTimeout => DOWNLOAD_TIMEOUT,
            OtaError::Http(_) | OtaError::Protocol(_) => DOWNLOAD_TIMEOUT,
            OtaError::NoSpace { .. } => NO_SPACE,
            OtaError::UnsupportedPackage(_) => UNSUPPORTED_PACKAGE,
            OtaError::HashMismatch | OtaError::SizeMismatch { .. } | OtaError::Rejected(_) => {
                VERIFICATION_FAILED
            }
            OtaError::Flash(_) => INSTALL_FAILED,
            OtaError::OutOfMemory(_) => OUT_OF_MEMORY,
            OtaError::Internal(_) => INTERNAL,
        }
    }
}

impl fmt::Display for OtaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OtaError::Busy => f.write_str("an OTA is already running"),
            OtaError::BadRequest(why) => write!(f, "bad request: {why}"),
            OtaError::Network(why) => write!(f, "network: {why}"),
            OtaError::DownloadTimeout => f.write_str("download timed out"),
            OtaError::Http(s) => write!(f, "server answered HTTP {s}"),
            OtaError::Protocol(why) => write!(f, "bad HTTP response: {why}"),
            OtaError::NoSpace { len, capacity } => {
                write!(f, "package of {len} bytes exceeds the upgrade storage ({capacity})")
            }
            OtaError::UnsupportedPackage(why) => write!(f, "not an update package: {why}"),
            OtaError::HashMismatch => f.write_str("SHA-256 of the package does not match"),
            OtaError::SizeMismatch { declared, actual } => {
                write!(f, "package is {actual} bytes, {declared} were declared")
            }
            OtaError::Rejected(why) => write!(f, "the SDK rejected the package: {why}"),
            OtaError::Flash(why) => write!(f, "flash: {why}"),
            OtaError::OutOfMemory(why) => write!(f, "out of memory: {why}"),
            OtaError::Internal(why) => write!(f, "internal: {why}"),
        }
    }
}

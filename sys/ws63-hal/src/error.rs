//! Errors: one newtype per SDK status type, and this layer's [`Error`].
//!
//! - [`SdkError`]: a non-success `errcode_t` (`ERRCODE_SUCC` is 0, checked at compile time),
//!   shown with the SDK's name, e.g. `ERRCODE_UPG_NOT_PREPARED (0x80003054)`.
//! - [`OsError`]: a non-`osOK` `osStatus_t`, e.g. `osErrorTimeout (-2)`.
//! - [`NetError`]: a socket `errno`, e.g. `ECONNREFUSED (111)`.
//!
//! Every wrapper returns [`Error`], whose [`Error::kind`] tells callers what happened without
//! matching on codes.

use core::fmt;
use core::num::{NonZeroI32, NonZeroU32};

use cmsis_rtos2_sys as os;
use lwip_sys as lw;
use ws63_sdk_sys as sdk;

const _: () = assert!(sdk::ERRCODE_SUCC == 0);
const _: () = assert!(os::osOK == 0);

/// A failed SDK call's `errcode_t`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdkError(NonZeroU32);

impl SdkError {
    /// `Ok(())` for `ERRCODE_SUCC`, the error otherwise.
    ///
    /// # Errors
    /// Any code but `ERRCODE_SUCC`.
    pub fn check(code: sdk::errcode_t) -> Result<(), SdkError> {
        NonZeroU32::new(code).map_or(Ok(()), |c| Err(SdkError(c)))
    }

    /// The raw code.
    pub fn code(self) -> sdk::errcode_t {
        self.0.get()
    }

    /// The SDK's name for the code, if it is one this crate knows.
    pub fn name(self) -> Option<&'static str> {
        SDK_NAMES.iter().find(|(c, _)| *c == self.code()).map(|(_, n)| *n)
    }
}

const SDK_NAMES: &[(u32, &str)] = &[
    (sdk::ERRCODE_FAIL, "ERRCODE_FAIL"),
    (sdk::ERRCODE_INVALID_PARAM, "ERRCODE_INVALID_PARAM"),
    (sdk::ERRCODE_MALLOC, "ERRCODE_MALLOC"),
    (sdk::ERRCODE_SFC_DMA_BUSY, "ERRCODE_SFC_DMA_BUSY"),
    (sdk::ERRCODE_SFC_INVALID_PARAM, "ERRCODE_SFC_INVALID_PARAM"),
    (sdk::ERRCODE_SFC_NOT_INIT, "ERRCODE_SFC_NOT_INIT"),
    (sdk::ERRCODE_SFC_FLASH_NOT_SUPPORT, "ERRCODE_SFC_FLASH_NOT_SUPPORT"),
    (sdk::ERRCODE_SFC_ADDRESS_OVERSTEP, "ERRCODE_SFC_ADDRESS_OVERSTEP"),
    (sdk::ERRCODE_SFC_REG_ADDR_INVALID, "ERRCODE_SFC_REG_ADDR_INVALID"),
    (sdk::ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY, "ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY"),
    (sdk::ERRCODE_SFC_CMD_ERROR, "ERRCODE_SFC_CMD_ERROR"),
    (sdk::ERRCODE_SFC_CMD_NOT_SUPPORT, "ERRCODE_SFC_CMD_NOT_SUPPORT"),
    (sdk::ERRCODE_SFC_ERASE_FORM_ERROR, "ERRCODE_SFC_ERASE_FORM_ERROR"),
    (sdk::ERRCODE_SFC_DEFAULT_INIT, "ERRCODE_SFC_DEFAULT_INIT"),
    (sdk::ERRCODE_SFC_PORT_INVALID_PARAM, "ERRCODE_SFC_PORT_INVALID_PARAM"),
    (sdk::ERRCODE_PARTITION_INIT_ERR, "ERRCODE_PARTITION_INIT_ERR"),
    (sdk::ERRCODE_PARTITION_NOT_SUPPORT, "ERRCODE_PARTITION_NOT_SUPPORT"),
    (sdk::ERRCODE_PARTITION_INVALID_PARAMS, "ERRCODE_PARTITION_INVALID_PARAMS"),
    (sdk::ERRCODE_PARTITION_CONFIG_NOT_FOUND, "ERRCODE_PARTITION_CONFIG_NOT_FOUND"),
    (sdk::ERRCODE_UPG_NOT_INIT, "ERRCODE_UPG_NOT_INIT"),
    (sdk::ERRCODE_UPG_ALREADY_INIT, "ERRCODE_UPG_ALREADY_INIT"),
    (sdk::ERRCODE_UPG_INVALID_PARAMETER, "ERRCODE_UPG_INVALID_PARAMETER"),
    (sdk::ERRCODE_UPG_WRONG_IMAGE_NUM, "ERRCODE_UPG_WRONG_IMAGE_NUM"),
    (sdk::ERRCODE_UPG_INVALID_IMAGE_ID, "ERRCODE_UPG_INVALID_IMAGE_ID"),
    (sdk::ERRCODE_UPG_NULL_POINTER, "ERRCODE_UPG_NULL_POINTER"),
    (sdk::ERRCODE_UPG_NOT_SUPPORTED, "ERRCODE_UPG_NOT_SUPPORTED"),
    (sdk::ERRCODE_UPG_NOT_NEED_TO_UPDATE, "ERRCODE_UPG_NOT_NEED_TO_UPDATE"),
    (sdk::ERRCODE_UPG_FLASH_ERASE_ERROR, "ERRCODE_UPG_FLASH_ERASE_ERROR"),
    (sdk::ERRCODE_UPG_FLASH_WRITE_ERROR, "ERRCODE_UPG_FLASH_WRITE_ERROR"),
    (sdk::ERRCODE_UPG_FLAG_NOT_INITED, "ERRCODE_UPG_FLAG_NOT_INITED"),
    (sdk::ERRCODE_UPG_NO_ENOUGH_SPACE, "ERRCODE_UPG_NO_ENOUGH_SPACE"),
    (sdk::ERRCODE_UPG_PARTITION_ALIGN_ERROR, "ERRCODE_UPG_PARTITION_ALIGN_ERROR"),
    (sdk::ERRCODE_UPG_INVALID_PREPARE_INFO, "ERRCODE_UPG_INVALID_PREPARE_INFO"),
    (sdk::ERRCODE_UPG_NOT_PREPARED, "ERRCODE_UPG_NOT_PREPARED"),
    (sdk::ERRCODE_UPG_INVALID_BUFF_LEN, "ERRCODE_UPG_INVALID_BUFF_LEN"),
    (sdk::ERRCODE_UPG_INVALID_OFFSET, "ERRCODE_UPG_INVALID_OFFSET"),
    (sdk::ERRCODE_UPG_FILE_OPEN_FAIL, "ERRCODE_UPG_FILE_OPEN_FAIL"),
    (sdk::ERRCODE_UPG_FILE_WRITE_FAIL, "ERRCODE_UPG_FILE_WRITE_FAIL"),
    (sdk::ERRCODE_UPG_FILE_SEEK_FAIL, "ERRCODE_UPG_FILE_SEEK_FAIL"),
    (sdk::ERRCODE_UPG_FILE_READ_FAIL, "ERRCODE_UPG_FILE_READ_FAIL"),
    (sdk::ERRCODE_UPG_EMPTY_FILE, "ERRCODE_UPG_EMPTY_FILE"),
    (sdk::ERRCODE_UPG_DECOMPRESS_FAIL, "ERRCODE_UPG_DECOMPRESS_FAIL"),
    (sdk::ERRCODE_UPG_VERIFICATION_KEY_ERROR, "ERRCODE_UPG_VERIFICATION_KEY_ERROR"),
    (sdk::ERRCODE_UPG_CHECK_FOTA_ERROR, "ERRCODE_UPG_CHECK_FOTA_ERROR"),
    (sdk::ERRCODE_UPG_SET_IMG_ERROR, "ERRCODE_UPG_SET_IMG_ERROR"),
    (sdk::ERRCODE_UPG_BACKUP_UPDATE_ERROR, "ERRCODE_UPG_BACKUP_UPDATE_ERROR"),
    (sdk::ERRCODE_UPG_RETRY_ALL_FAIL, "ERRCODE_UPG_RETRY_ALL_FAIL"),
    (sdk::ERRCODE_UPG_VERSION_ERROR, "ERRCODE_UPG_VERSION_ERROR"),
];

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({:#x})", self.code()),
            None => write!(f, "SDK error {:#x}", self.code()),
        }
    }
}

impl fmt::Debug for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A failed kernel call's `osStatus_t`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OsError(NonZeroI32);

impl OsError {
    /// `Ok(())` for `osOK`, the error otherwise.
    ///
    /// # Errors
    /// Any status but `osOK`.
    pub fn check(status: os::osStatus_t) -> Result<(), OsError> {
        NonZeroI32::new(status).map_or(Ok(()), |s| Err(OsError(s)))
    }

    /// The raw status.
    pub fn status(self) -> os::osStatus_t {
        self.0.get()
    }

    /// The CMSIS name of the status.
    pub fn name(self) -> &'static str {
        match self.status() {
            os::osError => "osError",
            os::osErrorTimeout => "osErrorTimeout",
            os::osErrorResource => "osErrorResource",
            os::osErrorParameter => "osErrorParameter",
            os::osErrorNoMemory => "osErrorNoMemory",
            os::osErrorISR => "osErrorISR",
            _ => "osStatus",
        }
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.status())
    }
}

impl fmt::Debug for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A failed socket call's `errno`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetError(NonZeroI32);

impl NetError {
    /// The error of `errno`; a zero errno (which a failed call should not leave) reads as EIO.
    pub fn from_errno(errno: i32) -> Self {
        NetError(NonZeroI32::new(errno).unwrap_or(NonZeroI32::new(lw::EIO as i32).expect("EIO")))
    }

    /// The calling thread's current `errno`.
    pub fn last() -> Self {
        // SAFETY: __errno_location returns a valid pointer to this thread's errno.
        Self::from_errno(unsafe { *lw::__errno_location() })
    }

    /// The raw errno.
    pub fn errno(self) -> i32 {
        self.0.get()
    }

    /// The errno's name, if this crate knows it.
    pub fn name(self) -> Option<&'static str> {
        let e = self.errno() as u32;
        Some(match e {
            lw::EPERM => "EPERM",
            lw::EINTR => "EINTR",
            lw::EIO => "EIO",
            lw::EBADF => "EBADF",
            lw::EAGAIN => "EAGAIN",
            lw::ENOMEM => "ENOMEM",
            lw::EINVAL => "EINVAL",
            lw::ENFILE => "ENFILE",
            lw::EPIPE => "EPIPE",
            lw::ENOTSOCK => "ENOTSOCK",
            lw::EADDRINUSE => "EADDRINUSE",
            lw::ENETUNREACH => "ENETUNREACH",
            lw::ECONNABORTED => "ECONNABORTED",
            lw::ECONNRESET => "ECONNRESET",
            lw::ENOBUFS => "ENOBUFS",
            lw::EISCONN => "EISCONN",
            lw::ENOTCONN => "ENOTCONN",
            lw::ETIMEDOUT => "ETIMEDOUT",
            lw::ECONNREFUSED => "ECONNREFUSED",
            lw::EHOSTUNREACH => "EHOSTUNREACH",
            lw::EALREADY => "EALREADY",
            lw::EINPROGRESS => "EINPROGRESS",
            _ => return None,
        })
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.errno()),
            None => write!(f, "errno {}", self.errno()),
        }
    }
}

impl fmt::Debug for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What kind of failure an [`Error`] is, for callers that decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An argument was out of range.
    InvalidArgument,
    /// Someone else holds it (a second upgrade, a locked mutex).
    Busy,
    /// Nothing happened in time.
    TimedOut,
    /// The peer refused the connection.
    ConnectionRefused,
    /// The connection broke.
    ConnectionReset,
    /// No route, no link, or the WiFi network refused us.
    NetworkUnreachable,
    /// The name could not be resolved.
    Dns,
    /// It does not fit (storage, or a write past the declared length).
    NoSpace,
    /// Writes came out of order, or the writer was finished early.
    Protocol,
    /// The SDK rejected the package's contents.
    Verification,
    /// Flash could not be erased or written.
    Flash,
    /// Memory or another resource ran out.
    OutOfResources,
    /// The server's certificate was refused (not trusted, issued for another name).
    Certificate,
    /// Anything else.
    Other,
}

/// This layer's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// An SDK call failed.
    Sdk(SdkError),
    /// A kernel call failed.
    Os(OsError),
    /// A socket call failed.
    Net(NetError),
    /// `getaddrinfo` failed with this `EAI_*` code.
    Dns(i32),
    /// The kernel refused to create a thread.
    ThreadCreate,
    /// Another upgrade is in progress.
    Busy,
    /// The package is larger than the upgrade storage.
    TooLarge {
        /// Declared package length.
        len: u32,
        /// The storage size.
        capacity: u32,
    },
    /// A write did not start where the previous one ended.
    OutOfOrder {
        /// The offset the next write must have.
        expected: u32,
        /// The offset it had.
        got: u32,
    },
    /// A write would go past the declared package length.
    Overflow {
        /// The declared length.
        len: u32,
    },
    /// The upgrade was finished before every byte was written.
    Incomplete {
        /// Bytes written.
        written: u32,
        /// Declared length.
        len: u32,
    },
    /// The operation did not complete in time.
    TimedOut,
    /// The WiFi network refused the connection (wrong passphrase, no such network).
    WifiRejected,
    /// An argument was out of range; the text says which.
    InvalidArgument(&'static str),
    /// The thread already holds this lock (LiteOS mutexes would let it in again).
    WouldDeadlock,
    /// The TLS session failed (mbedTLS's code; a refused certificate's flags).
    Tls(crate::tls::TlsError),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Sdk(e) => match e.code() {
                sdk::ERRCODE_UPG_NO_ENOUGH_SPACE => ErrorKind::NoSpace,
                // In this build (no A/B) the upgrade storage hands on the flash controller's
                // codes; the ERRCODE_UPG_FLASH_* ones come from A/B builds.
                sdk::ERRCODE_SFC_DMA_BUSY..=sdk::ERRCODE_SFC_PORT_INVALID_PARAM
                | sdk::ERRCODE_UPG_FLASH_ERASE_ERROR
                | sdk::ERRCODE_UPG_FLASH_WRITE_ERROR => ErrorKind::Flash,
                sdk::ERRCODE_FAIL
                | sdk::ERRCODE_UPG_WRONG_IMAGE_NUM
                | sdk::ERRCODE_UPG_INVALID_IMAGE_ID
                | sdk::ERRCODE_UPG_NOT_SUPPORTED
                | sdk::ERRCODE_UPG_VERIFICATION_KEY_ERROR
                | sdk::ERRCODE_UPG_CHECK_FOTA_ERROR
                | sdk::ERRCODE_UPG_VERSION_ERROR => ErrorKind::Verification,
                sdk::ERRCODE_MALLOC => ErrorKind::OutOfResources,
                sdk::ERRCODE_INVALID_PARAM
                | sdk::ERRCODE_UPG_INVALID_PARAMETER
                | sdk::ERRCODE_UPG_NULL_POINTER
                | sdk::ERRCODE_UPG_INVALID_BUFF_LEN
                | sdk::ERRCODE_PARTITION_INVALID_PARAMS
                | sdk::ERRCODE_PARTITION_CONFIG_NOT_FOUND => ErrorKind::InvalidArgument,
                _ => ErrorKind::Other,
            },
            Error::Os(e) => match e.status() {
                os::osErrorTimeout => ErrorKind::TimedOut,
                os::osErrorResource => ErrorKind::Busy,
                os::osErrorParameter => ErrorKind::InvalidArgument,
                os::osErrorNoMemory => ErrorKind::OutOfResources,
                _ => ErrorKind::Other,
            },
            Error::Net(e) => match e.errno() as u32 {
                lw::EAGAIN | lw::ETIMEDOUT => ErrorKind::TimedOut,
                lw::ECONNREFUSED => ErrorKind::ConnectionRefused,
                lw::ECONNRESET | lw::ECONNABORTED | lw::EPIPE | lw::ENOTCONN => {
                    ErrorKind::ConnectionReset
                }
                lw::ENETUNREACH | lw::EHOSTUNREACH => ErrorKind::NetworkUnreachable,
                lw::ENOMEM | lw::ENOBUFS | lw::ENFILE => ErrorKind::OutOfResources,
                lw::EINVAL | lw::EBADF => ErrorKind::InvalidArgument,
                _ => ErrorKind::Other,
            },
            Error::Dns(_) => ErrorKind::Dns,
            Error::ThreadCreate => ErrorKind::OutOfResources,
            Error::Busy => ErrorKind::Busy,
            Error::TooLarge { .. } | Error::Overflow { .. } => ErrorKind::NoSpace,
            Error::OutOfOrder { .. } | Error::Incomplete { .. } => ErrorKind::Protocol,
            Error::TimedOut => ErrorKind::TimedOut,
            Error::WifiRejected => ErrorKind::NetworkUnreachable,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::WouldDeadlock => ErrorKind::Busy,
            Error::Tls(e) => match e.code() {
                mbedtls_sys::MBEDTLS_ERR_X509_CERT_VERIFY_FAILED => ErrorKind::Certificate,
                mbedtls_sys::MBEDTLS_ERR_SSL_TIMEOUT => ErrorKind::TimedOut,
                mbedtls_sys::MBEDTLS_ERR_SSL_ALLOC_FAILED
                | mbedtls_sys::MBEDTLS_ERR_X509_ALLOC_FAILED => ErrorKind::OutOfResources,
                mbedtls_sys::MBEDTLS_ERR_NET_CONN_RESET
                | mbedtls_sys::MBEDTLS_ERR_SSL_CONN_EOF
                | mbedtls_sys::MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY => ErrorKind::ConnectionReset,
                _ => ErrorKind::Protocol,
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sdk(e) => write!(f, "SDK: {e}"),
            Error::Os(e) => write!(f, "kernel: {e}"),
            Error::Net(e) => write!(f, "socket: {e}"),
            Error::Dns(c) => write!(f, "name resolution failed (EAI {c})"),
            Error::ThreadCreate => f.write_str("the kernel refused to create the thread"),
            Error::Busy => f.write_str("another upgrade is in progress"),
            Error::TooLarge { len, capacity } => {
                write!(f, "package of {len} bytes exceeds the upgrade storage ({capacity} bytes)")
            }
            Error::OutOfOrder { expected, got } => {
                write!(f, "write at offset {got}, but the next byte to write is {expected}")
            }
            Error::Overflow { len } => write!(f, "write past the declared package length {len}"),
            Error::Incomplete { written, len } => {
                write!(f, "upgrade finished after {written} of {len} bytes")
            }
            Error::TimedOut => f.write_str("timed out"),
            Error::WifiRejected => f.write_str("the WiFi network refused the connection"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::WouldDeadlock => f.write_str("this thread already holds the lock"),
            Error::Tls(e) => {
                f.write_str("TLS: ")?;
                fmt::Display::fmt(e, f)
            }
        }
    }
}

impl From<SdkError> for Error {
    fn from(e: SdkError) -> Self {
        Error::Sdk(e)
    }
}

impl From<OsError> for Error {
    fn from(e: OsError) -> Self {
        Error::Os(e)
    }
}

impl From<NetError> for Error {
    fn from(e: NetError) -> Self {
        Error::Net(e)
    }
}

impl embedded_io::Error for Error {
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind as K;
        match Error::kind(self) {
            ErrorKind::TimedOut => K::TimedOut,
            ErrorKind::ConnectionRefused => K::ConnectionRefused,
            ErrorKind::ConnectionReset => K::ConnectionReset,
            ErrorKind::InvalidArgument => K::InvalidInput,
            ErrorKind::OutOfResources => K::OutOfMemory,
            ErrorKind::NetworkUnreachable => K::NotConnected,
            _ => K::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_show_with_the_sdks_names() {
        let e = SdkError::check(sdk::ERRCODE_UPG_NOT_PREPARED).unwrap_err();
        extern crate std;
        use std::string::ToString;
        assert_eq!(e.to_string(), "ERRCODE_UPG_NOT_PREPARED (0x80003054)");
        assert_eq!(SdkError::check(0x8000_9999).unwrap_err().to_string(), "SDK error 0x80009999");
        assert!(SdkError::check(sdk::ERRCODE_SUCC).is_ok());
        assert_eq!(
            OsError::check(os::osErrorTimeout).unwrap_err().to_string(),
            "osErrorTimeout (-2)"
        );
        assert!(OsError::check(os::osOK).is_ok());
        assert_eq!(NetError::from_errno(111).to_string(), "ECONNREFUSED (111)");
        assert_eq!(NetError::from_errno(0).errno(), lw::EIO as i32);
    }

    #[test]
    fn kinds_let_callers_decide() {
        let k = |e: Error| e.kind();
        assert_eq!(
            k(Error::Sdk(SdkError::check(sdk::ERRCODE_FAIL).unwrap_err())),
            ErrorKind::Verification
        );
        assert_eq!(
            k(Error::Sdk(SdkError::check(sdk::ERRCODE_UPG_FLASH_WRITE_ERROR).unwrap_err())),
            ErrorKind::Flash
        );
        for code in [sdk::ERRCODE_SFC_FLASH_TIMEOUT_WAIT_READY, sdk::ERRCODE_SFC_CMD_ERROR] {
            let e = Error::Sdk(SdkError::check(code).unwrap_err());
            assert_eq!(k(e), ErrorKind::Flash, "{e}");
        }
        assert_eq!(
            k(Error::Sdk(SdkError::check(sdk::ERRCODE_MALLOC).unwrap_err())),
            ErrorKind::OutOfResources
        );
        assert_eq!(k(Error::Net(NetError::from_errno(lw::EAGAIN as i32))), ErrorKind::TimedOut);
        assert_eq!(
            k(Error::Net(NetError::from_errno(lw::ECONNREFUSED as i32))),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(k(Error::Os(OsError::check(os::osErrorResource).unwrap_err())), ErrorKind::Busy);
        assert_eq!(k(Error::OutOfOrder { expected: 1, got: 2 }), ErrorKind::Protocol);
        assert_eq!(k(Error::TooLarge { len: 2, capacity: 1 }), ErrorKind::NoSpace);
    }
}

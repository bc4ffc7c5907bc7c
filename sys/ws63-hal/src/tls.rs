//! A TLS 1.2 client stream over any byte transport, through the SDK's mbedTLS 3.1.0: the
//! server's certificate chain verified against the configured CA certificates, its name
//! checked, SNI sent.
//!
//! What the client offers is what the SDK's library can do and what IoTDA and the usual
//! servers accept: TLS 1.2 only (the SDK builds no TLS 1.3), ECDHE key exchange over P-256 only
//! (the chip's ECP hardware serves it, and there is no software fallback for X25519), and the
//! four ECDHE AES-GCM suites (ECDSA or RSA certificates). The chip's crypto engine checks the
//! chain's signatures only for P-256 (and brainpool P-256) keys and RSA keys of 1024 to 4096
//! bits with a hash as strong as the key: a chain through a P-384 CA, or an RSA-4096 CA that
//! signs with SHA-256 (Let's Encrypt's RSA root), is refused as not trusted. A `ca_file` may
//! then hold the intermediate CA instead (its own signature is never checked). The SDK's library as shipped has no
//! ECDHE key exchange at all: its hardware configuration `#undef`s it; the project's SDK kit
//! (`sdk/install.sh`) turns it back on. Certificate dates are not checked (the chip has no
//! clock the SDK's mbedTLS trusts).
//!
//! A [`TlsStream`] reads and writes like the transport under it (`embedded-io`): a read that
//! finds nothing within the transport's own read timeout fails with
//! [`crate::ErrorKind::TimedOut`] and can be repeated, mbedTLS keeping any partial record. Its
//! drop sends the close_notify alert (best effort) and frees every context.
//!
//! Memory: the contexts (about 1.8 KiB, the chip's sizes) are on the heap, fixed in place
//! while the stream lives; mbedTLS itself takes its two record buffers (16,717 bytes each on
//! the chip) and the handshake's state from the LiteOS heap.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_int, c_uchar, c_void};
use core::fmt;
use core::ptr::addr_of_mut;
use core::time::Duration;

use embedded_io::{Read, Write};
use mbedtls_sys as tls;
use mbedtls_sys::ContextStorage;

use crate::error::Error;
use crate::time::Instant;

/// The suites the client offers, strongest first (0-terminated, as mbedTLS wants it).
static CIPHERSUITES: [c_int; 5] = [
    tls::MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 as c_int,
    tls::MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 as c_int,
    tls::MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 as c_int,
    tls::MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 as c_int,
    0,
];

/// The key-exchange curves: P-256 only (3.1.0 keeps the pointer: the list is static).
static CURVES: [tls::mbedtls_ecp_group_id; 2] =
    [tls::MBEDTLS_ECP_DP_SECP256R1, tls::MBEDTLS_ECP_DP_NONE];

/// The personalisation string of the random generator.
const DRBG_PERSONAL: &[u8] = b"ws63-bms-gateway tls";

/// How a client connects.
#[derive(Debug, Clone, Copy)]
pub struct TlsConfig<'a> {
    /// The CA certificates the server's chain must lead to, in PEM (one or more
    /// `-----BEGIN CERTIFICATE-----` blocks) or one DER certificate.
    pub ca: &'a [u8],
    /// The longest the whole handshake may take.
    pub handshake_timeout: Duration,
}

impl<'a> TlsConfig<'a> {
    /// A configuration trusting `ca`, with a 10 s handshake limit.
    pub fn new(ca: &'a [u8]) -> Self {
        TlsConfig { ca, handshake_timeout: Duration::from_secs(10) }
    }
}

/// An mbedTLS failure: its code and, for a refused certificate, the verification flags.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TlsError {
    code: i32,
    flags: u32,
}

impl TlsError {
    /// The error of mbedTLS code `code` (negative).
    pub fn new(code: i32) -> Self {
        TlsError { code, flags: 0 }
    }

    /// The mbedTLS code (`MBEDTLS_ERR_*`, negative).
    pub fn code(self) -> i32 {
        self.code
    }

    /// The certificate verification flags (`MBEDTLS_X509_BADCERT_*`), 0 unless the
    /// certificate was refused.
    pub fn verify_flags(self) -> u32 {
        self.flags
    }

    /// Whether the server's certificate was refused (not trusted, wrong name, ...).
    pub fn is_certificate(self) -> bool {
        self.code == tls::MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
    }

    /// The constant's name, for the codes a client meets.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.code {
            tls::MBEDTLS_ERR_X509_CERT_VERIFY_FAILED => "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
            tls::MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE => "MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE",
            tls::MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE => "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
            tls::MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY => "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY",
            tls::MBEDTLS_ERR_SSL_CONN_EOF => "MBEDTLS_ERR_SSL_CONN_EOF",
            tls::MBEDTLS_ERR_SSL_TIMEOUT => "MBEDTLS_ERR_SSL_TIMEOUT",
            tls::MBEDTLS_ERR_SSL_ALLOC_FAILED => "MBEDTLS_ERR_SSL_ALLOC_FAILED",
            tls::MBEDTLS_ERR_SSL_BAD_CONFIG => "MBEDTLS_ERR_SSL_BAD_CONFIG",
            tls::MBEDTLS_ERR_SSL_BAD_INPUT_DATA => "MBEDTLS_ERR_SSL_BAD_INPUT_DATA",
            tls::MBEDTLS_ERR_SSL_INVALID_MAC => "MBEDTLS_ERR_SSL_INVALID_MAC",
            tls::MBEDTLS_ERR_SSL_INVALID_RECORD => "MBEDTLS_ERR_SSL_INVALID_RECORD",
            tls::MBEDTLS_ERR_SSL_DECODE_ERROR => "MBEDTLS_ERR_SSL_DECODE_ERROR",
            tls::MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION => "MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION",
            tls::MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE => "MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE",
            tls::MBEDTLS_ERR_X509_INVALID_FORMAT => "MBEDTLS_ERR_X509_INVALID_FORMAT",
            tls::MBEDTLS_ERR_X509_ALLOC_FAILED => "MBEDTLS_ERR_X509_ALLOC_FAILED",
            tls::MBEDTLS_ERR_NET_CONN_RESET => "MBEDTLS_ERR_NET_CONN_RESET",
            tls::MBEDTLS_ERR_NET_RECV_FAILED => "MBEDTLS_ERR_NET_RECV_FAILED",
            tls::MBEDTLS_ERR_NET_SEND_FAILED => "MBEDTLS_ERR_NET_SEND_FAILED",
            tls::MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED => {
                "MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED"
            }
            _ => return None,
        })
    }
}

/// What each verification flag means (3.1.0's `x509_crt_verify_info` texts, shortened).
const FLAG_TEXTS: [(u32, &str); 6] = [
    (tls::MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not signed by a trusted CA"),
    (tls::MBEDTLS_X509_BADCERT_CN_MISMATCH, "issued for another name"),
    (tls::MBEDTLS_X509_BADCERT_BAD_KEY, "key too small or of an unsupported curve"),
    (tls::MBEDTLS_X509_BADCERT_BAD_MD, "signed with an unacceptable hash"),
    (tls::MBEDTLS_X509_BADCERT_BAD_PK, "key of an unacceptable type"),
    (tls::MBEDTLS_X509_BADCERT_MISSING, "no certificate"),
];

/// `v` as upper-case hex of at least four digits, written without format arguments: this
/// runs inside the formatter's recursion on the chip's stacks, where every frame counts.
struct Hex(u32);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 8];
        let mut n = 0;
        let mut rest = self.0;
        while n < 4 || rest != 0 {
            digits[7 - n] = b"0123456789ABCDEF"[(rest & 0xF) as usize];
            rest >>= 4;
            n += 1;
        }
        f.write_str(core::str::from_utf8(&digits[8 - n..]).unwrap_or("?"))
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("mbedTLS error"))?;
        f.write_str(" (-0x")?;
        fmt::Display::fmt(&Hex(self.code.unsigned_abs()), f)?;
        f.write_str(")")?;
        if self.flags != 0 {
            f.write_str(": certificate flags 0x")?;
            fmt::Display::fmt(&Hex(self.flags), f)?;
            for (bit, text) in FLAG_TEXTS {
                if self.flags & bit != 0 {
                    f.write_str(", ")?;
                    f.write_str(text)?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The contexts of one connection, at fixed addresses (they point at each other).
struct Contexts {
    ssl: ContextStorage<{ tls::RESERVE_SSL_CONTEXT }>,
    conf: ContextStorage<{ tls::RESERVE_SSL_CONFIG }>,
    ca: ContextStorage<{ tls::RESERVE_X509_CRT }>,
    drbg: ContextStorage<{ tls::RESERVE_CTR_DRBG_CONTEXT }>,
    entropy: ContextStorage<{ tls::RESERVE_ENTROPY_CONTEXT }>,
}

/// The transport, and the error it last gave mbedTLS (reported instead of mbedTLS's generic
/// `MBEDTLS_ERR_NET_*`).
struct Bio<T> {
    transport: T,
    error: Option<Error>,
}

/// A TLS client connection over `T`.
pub struct TlsStream<T: Read + Write<Error = Error>> {
    /// Both allocated by `Box::into_raw` in [`connect`] and freed once in `drop`; reached
    /// only through these pointers, as mbedTLS holds pointers into them.
    ctx: *mut Contexts,
    bio: *mut Bio<T>,
    /// Whether the handshake completed (close_notify is sent on drop then).
    established: bool,
}

fn ssl_of(ctx: *mut Contexts) -> *mut tls::mbedtls_ssl_context {
    // SAFETY: `ctx` is a live allocation; only a field address is taken.
    unsafe { addr_of_mut!((*ctx).ssl) }.cast()
}

fn check(rc: c_int) -> Result<(), Error> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::Tls(TlsError::new(rc)))
    }
}

unsafe extern "C" fn bio_send<T: Read + Write<Error = Error>>(
    p: *mut c_void,
    buf: *const c_uchar,
    len: usize,
) -> c_int {
    // SAFETY: `p` is the stream's `Bio<T>`, alive while mbedTLS runs (it is freed only after
    // the SSL context); no other reference to it exists during an mbedTLS call. mbedTLS
    // passes `len` readable bytes at `buf`.
    let (bio, data) = unsafe { (&mut *p.cast::<Bio<T>>(), core::slice::from_raw_parts(buf, len)) };
    match bio.transport.write(data) {
        Ok(0) => {
            bio.error = None;
            tls::MBEDTLS_ERR_NET_CONN_RESET
        }
        Ok(n) => n.min(c_int::MAX as usize) as c_int,
        Err(e) if e.kind() == crate::ErrorKind::TimedOut => tls::MBEDTLS_ERR_SSL_WANT_WRITE,
        Err(e) => {
            bio.error = Some(e);
            tls::MBEDTLS_ERR_NET_SEND_FAILED
        }
    }
}

unsafe extern "C" fn bio_recv<T: Read + Write<Error = Error>>(
    p: *mut c_void,
    buf: *mut c_uchar,
    len: usize,
) -> c_int {
    // SAFETY: as in `bio_send`; mbedTLS passes `len` writable bytes at `buf`.
    let (bio, data) =
        unsafe { (&mut *p.cast::<Bio<T>>(), core::slice::from_raw_parts_mut(buf, len)) };
    match bio.transport.read(data) {
        // The peer's end of stream: mbedTLS's convention for it is 0.
        Ok(n) => n.min(c_int::MAX as usize) as c_int,
        Err(e) if e.kind() == crate::ErrorKind::TimedOut => tls::MBEDTLS_ERR_SSL_WANT_READ,
        Err(e) => {
            bio.error = Some(e);
            tls::MBEDTLS_ERR_NET_RECV_FAILED
        }
    }
}

/// Opens a TLS session over `transport` (connected, with read and write timeouts set) to the
/// server named `server_name` (sent as SNI and checked against its certificate).
///
/// # Errors
/// [`Error::Tls`] (a refused certificate has [`TlsError::is_certificate`] and its flags; a
/// server with nothing in common, `MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE` or a fatal alert);
/// [`Error::TimedOut`] past the handshake limit; the transport's own error;
/// [`Error::InvalidArgument`] for a server name with a NUL byte. Nothing is left allocated.
pub fn connect<T: Read + Write<Error = Error>>(
    transport: T,
    server_name: &str,
    config: &TlsConfig<'_>,
) -> Result<TlsStream<T>, Error> {
    if server_name.is_empty() || server_name.bytes().any(|b| b == 0) {
        return Err(Error::InvalidArgument("TLS server name"));
    }
    let stream = TlsStream {
        ctx: Box::into_raw(Box::new(Contexts {
            ssl: ContextStorage::uninit(),
            conf: ContextStorage::uninit(),
            ca: ContextStorage::uninit(),
            drbg: ContextStorage::uninit(),
            entropy: ContextStorage::uninit(),
        })),
        bio: Box::into_raw(Box::new(Bio { transport, error: None })),
        established: false,
    };
    let c = stream.ctx;
    // SAFETY: `c` is a live, unique allocation; every context is initialised here before any
    // other use, and `TlsStream::drop` frees all five (also on the error paths below, by
    // dropping `stream`). Field addresses are taken without references.
    let (ssl, conf, ca, drbg, entropy) = unsafe {
        let ssl: *mut tls::mbedtls_ssl_context = addr_of_mut!((*c).ssl).cast();
        let conf: *mut tls::mbedtls_ssl_config = addr_of_mut!((*c).conf).cast();
        let ca: *mut tls::mbedtls_x509_crt = addr_of_mut!((*c).ca).cast();
        let drbg: *mut tls::mbedtls_ctr_drbg_context = addr_of_mut!((*c).drbg).cast();
        let entropy: *mut tls::mbedtls_entropy_context = addr_of_mut!((*c).entropy).cast();
        tls::mbedtls_ssl_init(ssl);
        tls::mbedtls_ssl_config_init(conf);
        tls::mbedtls_x509_crt_init(ca);
        tls::mbedtls_ctr_drbg_init(drbg);
        tls::mbedtls_entropy_init(entropy);
        (ssl, conf, ca, drbg, entropy)
    };
    // The CA certificates: PEM must end in a NUL that the length counts. Parsed for each
    // connection, never shared: the chip's RSA driver keeps the hash of a key's first
    // signature check and refuses a later one with another hash.
    let ca_input = pem_with_nul(config.ca);
    // SAFETY: initialised contexts; `ca_input` lives through the call (mbedTLS copies it).
    let skipped = unsafe { tls::mbedtls_x509_crt_parse(ca, ca_input.as_ptr(), ca_input.len()) };
    // A positive count: that many certificates of a bundle could not be parsed, the rest were
    // (a CA bundle may hold kinds this build does not parse); no certificate at all is an error.
    if skipped > 0 {
        log::warn!(target: "tls", "{skipped} CA certificate(s) of the bundle skipped: not parsable here");
    }
    check(skipped.min(0))?;
    drop(ca_input);
    // SAFETY: initialised contexts; the callbacks are the SDK's own with their contexts.
    check(unsafe {
        tls::mbedtls_ctr_drbg_seed(
            drbg,
            Some(tls::mbedtls_entropy_func),
            entropy.cast(),
            DRBG_PERSONAL.as_ptr(),
            DRBG_PERSONAL.len(),
        )
    })?;
    // SAFETY: initialised contexts; the suite and curve lists are static, the CA chain and
    // the generator live in `Contexts` as long as the configuration.
    check(unsafe {
        tls::mbedtls_ssl_config_defaults(
            conf,
            tls::MBEDTLS_SSL_IS_CLIENT as c_int,
            tls::MBEDTLS_SSL_TRANSPORT_STREAM as c_int,
            tls::MBEDTLS_SSL_PRESET_DEFAULT as c_int,
        )
    })?;
    // SAFETY: as above.
    unsafe {
        tls::mbedtls_ssl_conf_authmode(conf, tls::MBEDTLS_SSL_VERIFY_REQUIRED as c_int);
        tls::mbedtls_ssl_conf_ca_chain(conf, ca, core::ptr::null_mut());
        tls::mbedtls_ssl_conf_rng(conf, Some(tls::mbedtls_ctr_drbg_random), drbg.cast());
        tls::mbedtls_ssl_conf_ciphersuites(conf, CIPHERSUITES.as_ptr());
        tls::mbedtls_ssl_conf_curves(conf, CURVES.as_ptr());
        let (major, minor) =
            (tls::MBEDTLS_SSL_MAJOR_VERSION_3 as c_int, tls::MBEDTLS_SSL_MINOR_VERSION_3 as c_int);
        tls::mbedtls_ssl_conf_min_version(conf, major, minor);
        tls::mbedtls_ssl_conf_max_version(conf, major, minor);
    }
    // SAFETY: the configuration is complete and outlives the context.
    check(unsafe { tls::mbedtls_ssl_setup(ssl, conf) })?;
    let mut name = Vec::with_capacity(server_name.len() + 1);
    name.extend_from_slice(server_name.as_bytes());
    name.push(0);
    // SAFETY: a NUL-terminated name, copied by mbedTLS.
    check(unsafe { tls::mbedtls_ssl_set_hostname(ssl, name.as_ptr().cast()) })?;
    // SAFETY: the BIO context is the stream's `Bio<T>`, alive until after `mbedtls_ssl_free`;
    // the callbacks are instantiated for its `T`.
    unsafe {
        tls::mbedtls_ssl_set_bio(
            ssl,
            stream.bio.cast(),
            Some(bio_send::<T>),
            Some(bio_recv::<T>),
            None,
        );
    }
    let mut stream = stream;
    stream.handshake(config.handshake_timeout)?;
    Ok(stream)
}

/// PEM input with its terminating NUL; DER (or PEM already terminated) as it is.
fn pem_with_nul(ca: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(ca.len() + 1);
    v.extend_from_slice(ca);
    if ca.windows(10).any(|w| w == b"-----BEGIN") && ca.last() != Some(&0) {
        v.push(0);
    }
    v
}

impl<T: Read + Write<Error = Error>> TlsStream<T> {
    fn handshake(&mut self, limit: Duration) -> Result<(), Error> {
        let ssl = ssl_of(self.ctx);
        let start = Instant::now();
        loop {
            // SAFETY: a set-up context whose BIO is alive; no reference to the BIO is held.
            let rc = unsafe { tls::mbedtls_ssl_handshake(ssl) };
            match rc {
                0 => {
                    self.established = true;
                    return Ok(());
                }
                tls::MBEDTLS_ERR_SSL_WANT_READ | tls::MBEDTLS_ERR_SSL_WANT_WRITE => {
                    if start.elapsed() >= limit {
                        return Err(Error::TimedOut);
                    }
                }
                tls::MBEDTLS_ERR_X509_CERT_VERIFY_FAILED => {
                    // SAFETY: a set-up context.
                    let flags = unsafe { tls::mbedtls_ssl_get_verify_result(ssl) };
                    return Err(Error::Tls(TlsError { code: rc, flags }));
                }
                _ => return Err(self.failure(rc)),
            }
        }
    }

    /// The error for mbedTLS code `rc`: the transport's own when it caused it.
    fn failure(&mut self, rc: c_int) -> Error {
        // SAFETY: no mbedTLS call is running; the BIO is alive.
        let io = unsafe { (*self.bio).error.take() };
        match (rc, io) {
            (tls::MBEDTLS_ERR_NET_SEND_FAILED | tls::MBEDTLS_ERR_NET_RECV_FAILED, Some(e)) => e,
            _ => Error::Tls(TlsError::new(rc)),
        }
    }

    /// The suite agreed, e.g. `TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256`.
    pub fn ciphersuite(&self) -> &str {
        // SAFETY: an established context; mbedTLS returns a static NUL-terminated name.
        let p = unsafe { tls::mbedtls_ssl_get_ciphersuite(ssl_of(self.ctx)) };
        c_str(p)
    }

    /// The protocol agreed, `TLSv1.2`.
    pub fn protocol(&self) -> &str {
        // SAFETY: as in `ciphersuite`.
        let p = unsafe { tls::mbedtls_ssl_get_version(ssl_of(self.ctx)) };
        c_str(p)
    }

    /// The transport under the session.
    pub fn transport(&self) -> &T {
        // SAFETY: no mbedTLS call is running (`&self`); the BIO is alive.
        unsafe { &(*self.bio).transport }
    }
}

fn c_str(p: *const core::ffi::c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    // SAFETY: mbedTLS's static NUL-terminated names.
    let s = unsafe { core::ffi::CStr::from_ptr(p) };
    s.to_str().unwrap_or("")
}

impl<T: Read + Write<Error = Error>> Drop for TlsStream<T> {
    fn drop(&mut self) {
        let c = self.ctx;
        // SAFETY: the five contexts were initialised in `connect` and are freed once here, the
        // SSL context (which points at the others and at the BIO) first; then the two
        // allocations from `Box::into_raw` are returned.
        unsafe {
            let ssl = ssl_of(c);
            if self.established {
                let _ = tls::mbedtls_ssl_close_notify(ssl);
            }
            tls::mbedtls_ssl_free(ssl);
            tls::mbedtls_ssl_config_free(addr_of_mut!((*c).conf).cast());
            tls::mbedtls_x509_crt_free(addr_of_mut!((*c).ca).cast());
            tls::mbedtls_ctr_drbg_free(addr_of_mut!((*c).drbg).cast());
            tls::mbedtls_entropy_free(addr_of_mut!((*c).entropy).cast());
            drop(Box::from_raw(c));
            drop(Box::from_raw(self.bio));
        }
    }
}

impl<T: Read + Write<Error = Error>> embedded_io::ErrorType for TlsStream<T> {
    type Error = Error;
}

impl<T: Read + Write<Error = Error>> Read for TlsStream<T> {
    /// Reads decrypted data; `Ok(0)` once the server closed the session (close_notify or
    /// end of stream); [`crate::ErrorKind::TimedOut`] when nothing came within the
    /// transport's read timeout.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: an established context; `buf` is writable for its length.
        let rc = unsafe { tls::mbedtls_ssl_read(ssl_of(self.ctx), buf.as_mut_ptr(), buf.len()) };
        match rc {
            n if n > 0 => Ok(n as usize),
            0 | tls::MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY | tls::MBEDTLS_ERR_SSL_CONN_EOF => Ok(0),
            // Nothing within the read timeout, or an alert mbedTLS answers could not be sent
            // within the write timeout: the caller may read again.
            tls::MBEDTLS_ERR_SSL_WANT_READ
            | tls::MBEDTLS_ERR_SSL_WANT_WRITE
            | tls::MBEDTLS_ERR_SSL_TIMEOUT => Err(Error::TimedOut),
            _ => Err(self.failure(rc)),
        }
    }
}

impl<T: Read + Write<Error = Error>> Write for TlsStream<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: an established context; `buf` is readable for its length.
        let rc = unsafe { tls::mbedtls_ssl_write(ssl_of(self.ctx), buf.as_ptr(), buf.len()) };
        match rc {
            n if n > 0 => Ok(n as usize),
            tls::MBEDTLS_ERR_SSL_WANT_WRITE | tls::MBEDTLS_ERR_SSL_WANT_READ => {
                Err(Error::TimedOut)
            }
            _ => Err(self.failure(rc)),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        // SAFETY: no mbedTLS call is running; the BIO is alive.
        unsafe { (*self.bio).transport.flush() }
    }
}

/// A connection that is plain or TLS, as a URL or configuration decides at run time.
pub enum MaybeTls<T: Read + Write<Error = Error>> {
    /// The transport itself.
    Plain(T),
    /// A TLS session over it.
    Tls(TlsStream<T>),
}

impl<T: Read + Write<Error = Error>> embedded_io::ErrorType for MaybeTls<T> {
    type Error = Error;
}

impl<T: Read + Write<Error = Error>> Read for MaybeTls<T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            MaybeTls::Plain(s) => s.read(buf),
            MaybeTls::Tls(s) => s.read(buf),
        }
    }
}

impl<T: Read + Write<Error = Error>> Write for MaybeTls<T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        match self {
            MaybeTls::Plain(s) => s.write(buf),
            MaybeTls::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        match self {
            MaybeTls::Plain(s) => s.flush(),
            MaybeTls::Tls(s) => s.flush(),
        }
    }
}

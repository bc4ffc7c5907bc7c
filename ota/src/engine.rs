//! The download: connect, GET (following redirects), stream the body into the upgrade
//! storage as it arrives, resume with `Range` after a drop, verify, request the upgrade.
//!
//! Memory is one buffer of [`OtaConfig::buffer_size`] bytes plus the first few hundred bytes
//! of the package (kept until the header is checked), whatever the package's size.
//!
//! ```text
//!  connect -> GET [Range: bytes=N-] -> 3xx: follow (at most max_redirects)
//!                                   -> 200: from byte 0 (a resumed download starts over:
//!                                           prepare again, which erases, hash again)
//!                                   -> 206: only if Content-Range starts at N
//!                                   -> else: Http(status), no retry
//!  body -> first 512 bytes checked (not a package: stop before erasing anything)
//!       -> prepare(len) -> write in order -> SHA-256 as it goes
//!  drop / timeout / short body -> wait (backoff) -> reconnect with Range, at most `retries`
//!  every byte -> SHA-256 compared (if given) -> request_upgrade (the SDK verifies)
//! ```

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use embedded_io::{ErrorKind, Read, Write};
use sha2::{Digest, Sha256};

use crate::error::OtaError;
use crate::http::{self, ChunkDecoder, HeadError};
use crate::package::{self, HeaderInfo};
use crate::request::{parse_sha256, OtaRequest, Url};

/// Why a connection could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The name did not resolve.
    Dns(String),
    /// Refused, unreachable, or timed out.
    Unreachable(String),
    /// The TLS session was refused (a certificate, nothing in common with the server) or
    /// cannot be had (no CA certificates, no TLS in the build): trying again will not help.
    Tls(String),
}

/// Makes connections (a TCP stream with an idle read timeout on the device) and waits.
pub trait Connector {
    /// A connection.
    type Conn: Read + Write;
    /// Connects to `host:port`, over TLS (verified, `host` as the server's name) when `tls`.
    ///
    /// # Errors
    /// When no connection could be made.
    fn connect(&mut self, host: &str, port: u16, tls: bool) -> Result<Self::Conn, ConnectError>;
    /// Waits before a retry.
    fn sleep(&mut self, d: Duration);
}

/// Why the upgrade storage refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkError {
    /// Another upgrade holds it.
    Busy,
    /// The package does not fit.
    NoSpace {
        /// Package length.
        len: u32,
        /// Storage size.
        capacity: u32,
    },
    /// Flash failed.
    Flash(String),
    /// No memory (the SDK's buffers could not be allocated).
    NoMemory(String),
    /// The package was rejected when the upgrade was requested.
    Rejected(String),
    /// Anything else.
    Other(String),
}

/// The upgrade storage: prepared for a length, written in order, committed.
pub trait PackageSink {
    /// The most bytes a package may have.
    ///
    /// # Errors
    /// When the storage is unavailable.
    fn capacity(&mut self) -> Result<u32, SinkError>;
    /// Prepares for a package of `len` bytes (erasing what a previous attempt wrote).
    ///
    /// # Errors
    /// As the storage says.
    fn begin(&mut self, len: u32) -> Result<(), SinkError>;
    /// Appends `data`.
    ///
    /// # Errors
    /// As the storage says.
    fn write(&mut self, data: &[u8]) -> Result<(), SinkError>;
    /// Requests the upgrade of the complete package (the device verifies it).
    ///
    /// # Errors
    /// The device's verdict.
    fn commit(&mut self) -> Result<(), SinkError>;
}

/// Where an OTA is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connecting (again, after a drop, with the attempt number from 1).
    Connecting(u32),
    /// Receiving the package.
    Downloading,
    /// Checking the SHA-256.
    Verifying,
    /// Asking the SDK to verify and mark the package.
    Requesting,
    /// Marked for installation: a reboot installs it.
    Ready,
}

/// Receives progress.
pub trait Progress {
    /// A new phase.
    fn phase(&mut self, phase: Phase);
    /// Bytes stored so far of `total`.
    fn bytes(&mut self, written: u32, total: u32);
}

/// Ignores progress.
impl Progress for () {
    fn phase(&mut self, _: Phase) {}
    fn bytes(&mut self, _: u32, _: u32) {}
}

/// Tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtaConfig {
    /// Reconnections allowed after drops that made no progress in between (attempts that
    /// stored new bytes reset the count).
    pub retries: u32,
    /// First wait before a reconnection; it doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest wait before a reconnection.
    pub max_backoff: Duration,
    /// Redirects followed per request.
    pub max_redirects: u8,
    /// The receive buffer (also the limit of a response head).
    pub buffer_size: usize,
}

impl Default for OtaConfig {
    fn default() -> Self {
        Self {
            retries: 5,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_redirects: 5,
            buffer_size: 4096,
        }
    }
}

/// A finished download, marked for installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Package length.
    pub len: u32,
    /// Reconnections it took.
    pub reconnects: u32,
    /// The version in the package's header, if any.
    pub package_version: Option<String>,
}

fn framing_done(framing: &Framing) -> bool {
    match framing {
        Framing::Length(left) => *left == 0,
        Framing::Chunked(d) => d.done(),
        Framing::UntilClose => false,
    }
}

/// What one connection ended with.
enum Attempt {
    /// Every byte is stored.
    Complete,
    /// Dropped, timed out or ended short: try again from `written`.
    Retry(OtaError),
}

/// One OTA.
struct Download<'a, C: Connector, S: PackageSink, P: Progress> {
    req: &'a OtaRequest,
    cfg: OtaConfig,
    conn: &'a mut C,
    sink: &'a mut S,
    progress: &'a mut P,
    buf: Box<[u8]>,
    /// The first bytes of the package, until it is prepared.
    head: Vec<u8>,
    header: Option<HeaderInfo>,
    capacity: u32,
    total: Option<u32>,
    prepared: bool,
    written: u32,
    hasher: Sha256,
    last_percent: Option<u32>,
    package_version: Option<String>,
}

/// Runs one OTA: downloads `req` into `sink`, verifies it, requests the upgrade. The caller
/// reboots when it returns `Ok`.
///
/// # Errors
/// See [`OtaError`]; on every error the upgrade was not requested (but for
/// [`OtaError::Rejected`] from the SDK's own verification, which requested and was refused).
pub fn run<C: Connector, S: PackageSink, P: Progress>(
    req: &OtaRequest,
    cfg: OtaConfig,
    conn: &mut C,
    sink: &mut S,
    progress: &mut P,
) -> Result<Downloaded, OtaError> {
    crate::request::check_version(&req.version)?;
    let url = Url::parse(&req.url)?;
    let want_sha = req.sha256.as_deref().map(parse_sha256).transpose()?;
    if let Some(t) = &req.token {
        if t.bytes().any(|b| b < b' ' || b == 0x7F) {
            return Err(OtaError::BadRequest("token with control characters".into()));
        }
    }
    let capacity = sink.capacity().map_err(sink_error)?;
    if let Some(len) = req.size {
        if len > capacity {
            return Err(OtaError::NoSpace { len, capacity });
        }
    }
    let mut d = Download {
        req,
        cfg,
        conn,
        sink,
        progress,
        buf: vec![0u8; cfg.buffer_size.max(1024)].into_boxed_slice(),
        head: Vec::new(),
        header: None,
        capacity,
        total: req.size,
        prepared: false,
        written: 0,
        hasher: Sha256::new(),
        last_percent: None,
        package_version: None,
    };
    let mut failures = 0u32;
    let mut reconnects = 0u32;
    let mut backoff = cfg.backoff;
    loop {
        let before = d.written;
        d.progress.phase(Phase::Connecting(reconnects + 1));
        match d.attempt(&url)? {
            Attempt::Complete => break,
            Attempt::Retry(why) => {
                if d.written > before {
                    failures = 0;
                    backoff = cfg.backoff;
                } else {
                    failures += 1;
                }
                log::warn!(target: "ota", "attempt {} stopped at {} bytes: {why}", reconnects + 1, d.written);
                if failures > cfg.retries {
                    return Err(why);
                }
                d.conn.sleep(backoff);
                backoff = (backoff * 2).min(cfg.max_backoff);
                reconnects += 1;
            }
        }
    }
    d.progress.phase(Phase::Verifying);
    let total = d.total.unwrap_or(d.written);
    if let Some(want) = want_sha {
        let got: [u8; 32] = d.hasher.clone().finalize().into();
        if got != want {
            return Err(OtaError::HashMismatch);
        }
    }
    d.progress.phase(Phase::Requesting);
    d.sink.commit().map_err(sink_error)?;
    d.progress.phase(Phase::Ready);
    Ok(Downloaded { len: total, reconnects, package_version: d.package_version })
}

fn sink_error(e: SinkError) -> OtaError {
    match e {
        SinkError::Busy => OtaError::Busy,
        SinkError::NoSpace { len, capacity } => OtaError::NoSpace { len, capacity },
        SinkError::Flash(s) => OtaError::Flash(s),
        SinkError::NoMemory(s) => OtaError::OutOfMemory(s),
        SinkError::Rejected(s) => OtaError::Rejected(s),
        SinkError::Other(s) => OtaError::Internal(s),
    }
}

fn retryable(e: &impl embedded_io::Error) -> OtaError {
    match e.kind() {
        ErrorKind::TimedOut => OtaError::DownloadTimeout,
        _ => OtaError::Network(format!("{:?}", e.kind())),
    }
}

/// How the current response's body is framed.
enum Framing {
    Length(u64),
    Chunked(ChunkDecoder),
    UntilClose,
}

impl<C: Connector, S: PackageSink, P: Progress> Download<'_, C, S, P> {
    /// One connection (with its redirects).
    fn attempt(&mut self, start: &Url) -> Result<Attempt, OtaError> {
        let mut url = start.clone();
        let mut redirects = 0u8;
        loop {
            let mut conn = match self.conn.connect(&url.host, url.port, url.tls) {
                Ok(c) => c,
                Err(ConnectError::Dns(s)) => {
                    return Ok(Attempt::Retry(OtaError::Network(format!("DNS: {s}"))))
                }
                Err(ConnectError::Unreachable(s)) => {
                    return Ok(Attempt::Retry(OtaError::Network(s)))
                }
                // The reason names TLS already (the HAL error, or what is missing).
                Err(ConnectError::Tls(s)) => return Err(OtaError::Network(s)),
            };
            if !self.prepared {
                // Nothing is stored yet: the held header bytes of a dropped attempt are
                // fetched again from byte 0.
                self.head.clear();
                self.header = None;
            }
            let offset = self.written;
            let req = http::request(&url, offset, self.req.token.as_deref());
            if let Err(e) = conn.write_all(req.as_bytes()) {
                return Ok(Attempt::Retry(retryable(&e)));
            }
            let (head, head_len, filled) = match self.read_head(&mut conn) {
                Ok(h) => h,
                Err(Ok(retry)) => return Ok(Attempt::Retry(retry)),
                Err(Err(fatal)) => return Err(fatal),
            };
            match head.status {
                301 | 302 | 303 | 307 | 308 => {
                    redirects += 1;
                    if redirects > self.cfg.max_redirects {
                        return Err(OtaError::Protocol("too many redirects"));
                    }
                    let loc =
                        head.location.ok_or(OtaError::Protocol("redirect without Location"))?;
                    url = url.join(&loc)?;
                    continue;
                }
                200 => {
                    if offset > 0 {
                        log::warn!(target: "ota", "server ignored Range: starting over from byte 0");
                        self.restart();
                    }
                    self.learn_total(head.content_length)?;
                }
                206 => {
                    let Some((from, _, total)) = head.content_range else {
                        return Err(OtaError::Protocol("206 without Content-Range"));
                    };
                    if offset == 0 || from != u64::from(offset) {
                        return Err(OtaError::Protocol("206 for a range we did not ask for"));
                    }
                    if let (Some(t), Some(known)) = (total, self.total) {
                        if t != u64::from(known) {
                            return Err(OtaError::Protocol("Content-Range total changed"));
                        }
                    }
                }
                s => return Err(OtaError::Http(s)),
            }
            let mut framing = if head.chunked {
                Framing::Chunked(ChunkDecoder::default())
            } else if let Some(n) = head.content_length {
                Framing::Length(n)
            } else {
                Framing::UntilClose
            };
            if let Framing::Length(n) = framing {
                if let Some(t) = self.total {
                    if u64::from(self.written) + n > u64::from(t) {
                        return Err(OtaError::Protocol("more bytes than the package has"));
                    }
                }
            }
            // Body bytes that came with the head are the first of the body (offset `offset`).
            let buf = core::mem::take(&mut self.buf);
            let r = self.body(&buf[head_len..filled], &mut framing);
            self.buf = buf;
            r?;
            return self.stream(&mut conn, &mut framing);
        }
    }

    /// Reads and parses the response head. `Err(Ok(_))`: retry; `Err(Err(_))`: fatal.
    fn read_head(
        &mut self,
        conn: &mut C::Conn,
    ) -> Result<(http::Head, usize, usize), Result<OtaError, OtaError>> {
        let mut filled = 0;
        loop {
            if filled == self.buf.len() {
                return Err(Err(OtaError::Protocol("response head too long")));
            }
            let n = match conn.read(&mut self.buf[filled..]) {
                Ok(0) => return Err(Ok(OtaError::Network("closed before the response".into()))),
                Ok(n) => n,
                Err(e) => return Err(Ok(retryable(&e))),
            };
            filled += n;
            match http::parse_head(&self.buf[..filled]) {
                Ok(Some((head, len))) => return Ok((head, len, filled)),
                Ok(None) => {}
                Err(HeadError::TooLong) => {
                    return Err(Err(OtaError::Protocol("response head too long")))
                }
                Err(HeadError::Closed) => return Err(Ok(OtaError::Network("closed".into()))),
                Err(HeadError::Malformed(why)) => return Err(Err(OtaError::Protocol(why))),
            }
        }
    }

    /// Reads the rest of the body.
    fn stream(&mut self, conn: &mut C::Conn, framing: &mut Framing) -> Result<Attempt, OtaError> {
        loop {
            if self.finished(framing) {
                return Ok(Attempt::Complete);
            }
            if framing_done(framing) {
                // The response is over but the package is not.
                if !self.prepared {
                    return Err(OtaError::UnsupportedPackage("shorter than a package header"));
                }
                return Ok(Attempt::Retry(OtaError::Network(format!(
                    "response ended at byte {}",
                    self.written
                ))));
            }
            let n = match conn.read(&mut self.buf) {
                Ok(0) => {
                    if matches!(framing, Framing::UntilClose)
                        && self.prepared
                        && self.total == Some(self.written)
                    {
                        return Ok(Attempt::Complete);
                    }
                    if matches!(framing, Framing::UntilClose) && !self.prepared {
                        return Err(OtaError::UnsupportedPackage("shorter than a package header"));
                    }
                    return Ok(Attempt::Retry(OtaError::Network(format!(
                        "connection closed at byte {}",
                        self.written
                    ))));
                }
                Ok(n) => n,
                Err(e) => return Ok(Attempt::Retry(retryable(&e))),
            };
            // Move the bytes out of `buf` only as a slice borrow: split the borrow by taking
            // the buffer for the duration of the call.
            let buf = core::mem::take(&mut self.buf);
            let r = self.body(&buf[..n], framing);
            self.buf = buf;
            r?;
        }
    }

    /// Whether the response body is complete (whatever the package).
    fn finished(&self, framing: &Framing) -> bool {
        let all = self.prepared && self.total == Some(self.written);
        match framing {
            Framing::Length(left) => *left == 0 && all,
            Framing::Chunked(d) => d.done() && all,
            Framing::UntilClose => false,
        }
    }

    /// Takes body bytes through the framing into the package.
    fn body(&mut self, data: &[u8], framing: &mut Framing) -> Result<(), OtaError> {
        match framing {
            Framing::Length(left) => {
                if data.len() as u64 > *left {
                    return Err(OtaError::Protocol("more bytes than Content-Length"));
                }
                *left -= data.len() as u64;
                self.accept(data)
            }
            Framing::UntilClose => self.accept(data),
            Framing::Chunked(dec) => {
                let mut dec2 = core::mem::take(dec);
                let r = dec2.feed(data, &mut |part: &[u8]| self.accept(part));
                *dec = dec2;
                match r {
                    Ok(()) => Ok(()),
                    Err(Ok(e)) => Err(e),
                    Err(Err(why)) => Err(OtaError::Protocol(why)),
                }
            }
        }
    }

    fn learn_total(&mut self, content_length: Option<u64>) -> Result<(), OtaError> {
        let Some(cl) = content_length else { return Ok(()) };
        let cl = u32::try_from(cl)
            .map_err(|_| OtaError::NoSpace { len: u32::MAX, capacity: self.capacity })?;
        if let Some(declared) = self.req.size {
            if declared != cl {
                return Err(OtaError::SizeMismatch { declared, actual: cl });
            }
        }
        if cl > self.capacity {
            return Err(OtaError::NoSpace { len: cl, capacity: self.capacity });
        }
        self.total = Some(cl);
        Ok(())
    }

    /// The server sent the whole package again: forget what was stored.
    fn restart(&mut self) {
        self.written = 0;
        self.prepared = false;
        self.head.clear();
        self.header = None;
        self.hasher = Sha256::new();
        self.total = self.req.size;
        self.last_percent = None;
    }

    /// Package bytes, in order, from offset `self.written`. The first ones are held until
    /// the header is checked and the length known; then the storage is prepared.
    fn accept(&mut self, mut data: &[u8]) -> Result<(), OtaError> {
        while !self.prepared {
            let need = self.header.map_or(package::HEADER_LEN, |h| h.table_end);
            let take = data.len().min(need.saturating_sub(self.head.len()));
            self.head.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.head.len() < need {
                return Ok(());
            }
            let Some(info) = self.header else {
                let info = package::check_header(&self.head)?;
                self.package_version = package::package_version(&self.head).map(str::to_string);
                self.header = Some(info);
                continue;
            };
            let derived = package::package_len(&self.head, &info)
                .ok_or(OtaError::UnsupportedPackage("hash table"))?;
            let total = match self.total {
                Some(t) if derived > t => {
                    return Err(OtaError::SizeMismatch { declared: t, actual: derived })
                }
                Some(t) => t,
                None => derived,
            };
            if total > self.capacity {
                return Err(OtaError::NoSpace { len: total, capacity: self.capacity });
            }
            if (total as usize) < self.head.len() {
                return Err(OtaError::UnsupportedPackage("shorter than its own header"));
            }
            self.total = Some(total);
            self.sink.begin(total).map_err(sink_error)?;
            self.prepared = true;
            self.progress.phase(Phase::Downloading);
            let head = core::mem::take(&mut self.head);
            self.store(&head)?;
        }
        if !data.is_empty() {
            self.store(data)?;
        }
        Ok(())
    }

    fn store(&mut self, data: &[u8]) -> Result<(), OtaError> {
        let total = self.total.unwrap_or(u32::MAX);
        if u64::from(self.written) + data.len() as u64 > u64::from(total) {
            return Err(OtaError::Protocol("more bytes than the package has"));
        }
        self.sink.write(data).map_err(sink_error)?;
        self.hasher.update(data);
        self.written += data.len() as u32;
        let percent = (u64::from(self.written) * 100 / u64::from(total.max(1))) as u32;
        if self.last_percent != Some(percent) {
            self.last_percent = Some(percent);
            self.progress.bytes(self.written, total);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;

    /// A connection that replays scripted reads.
    struct Script(VecDeque<Vec<u8>>);

    impl embedded_io::ErrorType for Script {
        type Error = embedded_io::ErrorKind;
    }
    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            match self.0.pop_front() {
                None => Ok(0),
                Some(mut v) => {
                    let n = v.len().min(buf.len());
                    buf[..n].copy_from_slice(&v[..n]);
                    if n < v.len() {
                        self.0.push_front(v.split_off(n));
                    }
                    Ok(n)
                }
            }
        }
    }
    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    struct Fake(Vec<Vec<Vec<u8>>>);
    impl Connector for Fake {
        type Conn = Script;
        fn connect(&mut self, _: &str, _: u16, _: bool) -> Result<Script, ConnectError> {
            if self.0.is_empty() {
                return Err(ConnectError::Unreachable("no more".into()));
            }
            Ok(Script(self.0.remove(0).into()))
        }
        fn sleep(&mut self, _: Duration) {}
    }

    #[derive(Default)]
    struct Mem {
        begun: Vec<u32>,
        data: Vec<u8>,
        committed: bool,
    }
    impl PackageSink for Mem {
        fn capacity(&mut self) -> Result<u32, SinkError> {
            Ok(1 << 20)
        }
        fn begin(&mut self, len: u32) -> Result<(), SinkError> {
            self.begun.push(len);
            self.data.clear();
            Ok(())
        }
        fn write(&mut self, d: &[u8]) -> Result<(), SinkError> {
            self.data.extend_from_slice(d);
            Ok(())
        }
        fn commit(&mut self) -> Result<(), SinkError> {
            self.committed = true;
            Ok(())
        }
    }

    /// A minimal SHA-256-mode package: header, one hash-table node, one 16-byte image.
    fn tiny_package() -> Vec<u8> {
        let mut p = vec![0u8; 0x200 + 48 + 160 + 16];
        let put =
            |p: &mut Vec<u8>, at: usize, v: u32| p[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(&mut p, 0x000, package::HEADER_IMAGE_ID);
        put(&mut p, 0x00C, 32);
        put(&mut p, 0x100, package::HEADER_IMAGE_ID);
        put(&mut p, 0x10C, 32);
        put(&mut p, 0x120, 0x200);
        put(&mut p, 0x124, 48);
        put(&mut p, 0x148, 1);
        put(&mut p, 0x204, 0x230);
        put(&mut p, 0x208, 160 + 16);
        let len = p.len();
        p[len - 16..].copy_from_slice(b"0123456789abcdef");
        for area in [0x000, 0x100] {
            let d = Sha256::digest(&p[area..area + 0xC0]);
            p[area + 0xC0..area + 0xE0].copy_from_slice(&d);
        }
        p
    }

    fn req() -> OtaRequest {
        OtaRequest {
            version: "1.0.1".into(),
            url: "http://h/p".into(),
            sha256: None,
            size: None,
            token: None,
        }
    }

    #[test]
    fn body_bytes_that_arrive_with_the_head_are_written_at_offset_0() {
        let pkg = tiny_package();
        let mut one_read =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", pkg.len()).into_bytes();
        one_read.extend_from_slice(&pkg);
        let mut sink = Mem::default();
        let d =
            run(&req(), OtaConfig::default(), &mut Fake(vec![vec![one_read]]), &mut sink, &mut ())
                .unwrap();
        assert_eq!(d.len as usize, pkg.len());
        assert_eq!(sink.data, pkg, "every byte, the ones in the head's read first");
        assert_eq!((sink.begun.as_slice(), sink.committed), (&[pkg.len() as u32][..], true));
    }

    #[test]
    fn a_drop_inside_the_header_starts_over_and_a_206_resumes_after_it() {
        let pkg = tiny_package();
        let head = |s: &str| format!("{s}\r\nContent-Length: ").into_bytes();
        let mut first = head("HTTP/1.1 200 OK");
        first.extend_from_slice(format!("{}\r\n\r\n", pkg.len()).as_bytes());
        first.extend_from_slice(&pkg[..100]);
        let mut second = head("HTTP/1.1 200 OK");
        second.extend_from_slice(format!("{}\r\n\r\n", pkg.len()).as_bytes());
        second.extend_from_slice(&pkg[..600]);
        let mut third = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 600-{}/{}\r\nContent-Length: {}\r\n\r\n",
            pkg.len() - 1,
            pkg.len(),
            pkg.len() - 600
        )
        .into_bytes();
        third.extend_from_slice(&pkg[600..]);
        let mut sink = Mem::default();
        let mut fake = Fake(vec![vec![first], vec![second], vec![third]]);
        let d = run(&req(), OtaConfig::default(), &mut fake, &mut sink, &mut ()).unwrap();
        assert_eq!(d.reconnects, 2);
        assert_eq!(sink.data, pkg);
        assert_eq!(sink.begun.len(), 1, "prepared once, after the header was whole");
    }

    #[test]
    fn retries_are_bounded_when_nothing_progresses() {
        let mut sink = Mem::default();
        let cfg = OtaConfig { retries: 3, ..OtaConfig::default() };
        let r = run(
            &req(),
            cfg,
            &mut Fake(vec![vec![], vec![], vec![], vec![], vec![]]),
            &mut sink,
            &mut (),
        );
        assert!(matches!(r, Err(OtaError::Network(_))));
        assert!(sink.begun.is_empty() && !sink.committed);
    }
}

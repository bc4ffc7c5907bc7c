//! The OTA on the device: the engine's connector and storage over `ws63-hal`, and the OTA
//! thread, started like the C original's (normal priority, name "ota"; a 12 KiB stack where
//! the original had 8 KiB: the chip build's worst case needs it, see `cargo stack-check`), one at
//! a time.

use alloc::boxed::Box;
use alloc::string::ToString;
use core::cell::Cell;
use core::time::Duration;

use ws63_hal::net::TcpStream;
use ws63_hal::thread::{self, Builder, PRIORITY_NORMAL};
use ws63_hal::upgrade::{ReadyUpgrade, Upgrade, UpgradeWriter};
use ws63_hal::{Error as HalError, ErrorKind};

use crate::engine::{
    self, ConnectError, Connector, Downloaded, OtaConfig, PackageSink, Progress, SinkError,
};
use crate::error::OtaError;
use crate::request::OtaRequest;

/// Connections over lwIP, with timeouts.
#[derive(Debug, Clone, Copy)]
pub struct HalConnector {
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes (a stalled server).
    pub read_timeout: Duration,
    /// The CA certificates (PEM) `https://` servers must lead to; `None`: no HTTPS.
    pub ca: Option<&'static [u8]>,
}

/// A download connection: TCP, or TLS over it for `https://` (with the `tls` feature).
#[cfg(feature = "tls")]
pub type Conn = ws63_hal::tls::MaybeTls<TcpStream>;
/// A download connection: TCP (this build has no TLS).
#[cfg(not(feature = "tls"))]
pub type Conn = TcpStream;

impl Connector for HalConnector {
    type Conn = Conn;

    fn connect(&mut self, host: &str, port: u16, tls: bool) -> Result<Conn, ConnectError> {
        if tls && self.ca.is_none() {
            return Err(ConnectError::Tls("https:// needs CA certificates ([ota] ca_file)".into()));
        }
        if tls && !cfg!(feature = "tls") {
            return Err(ConnectError::Tls("https:// is not in this build".into()));
        }
        let s =
            TcpStream::connect(host, port, self.connect_timeout).map_err(|e| match e.kind() {
                ErrorKind::Dns => ConnectError::Dns(e.to_string()),
                _ => ConnectError::Unreachable(e.to_string()),
            })?;
        let timeouts = s
            .set_read_timeout(Some(self.read_timeout))
            .and_then(|()| s.set_write_timeout(Some(self.read_timeout)));
        timeouts.map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        #[cfg(feature = "tls")]
        {
            use ws63_hal::tls::{self, MaybeTls, TlsConfig};
            match (tls, self.ca) {
                (true, Some(ca)) => match tls::connect(s, host, &TlsConfig::new(ca)) {
                    Ok(t) => Ok(MaybeTls::Tls(t)),
                    // A refused certificate or a server with nothing in common stays so.
                    Err(e) if matches!(e.kind(), ErrorKind::Certificate | ErrorKind::Protocol) => {
                        Err(ConnectError::Tls(e.to_string()))
                    }
                    Err(e) => Err(ConnectError::Unreachable(e.to_string())),
                },
                _ => Ok(MaybeTls::Plain(s)),
            }
        }
        #[cfg(not(feature = "tls"))]
        Ok(s)
    }

    fn sleep(&mut self, d: Duration) {
        thread::sleep(d);
    }
}

/// The SDK's upgrade storage, through `ws63_hal::upgrade`.
#[derive(Debug, Default)]
pub struct SdkSink {
    state: SinkState,
}

#[derive(Debug, Default)]
enum SinkState {
    #[default]
    Idle,
    Taken(Upgrade),
    Writing(UpgradeWriter),
    Ready(ReadyUpgrade),
}

fn sink_error(e: HalError) -> SinkError {
    match (e, e.kind()) {
        (HalError::Busy, _) => SinkError::Busy,
        (HalError::TooLarge { len, capacity }, _) => SinkError::NoSpace { len, capacity },
        (_, ErrorKind::Flash) => SinkError::Flash(e.to_string()),
        (_, ErrorKind::OutOfResources) => SinkError::NoMemory(e.to_string()),
        (_, ErrorKind::Verification) => SinkError::Rejected(e.to_string()),
        (_, ErrorKind::NoSpace) => SinkError::NoSpace { len: 0, capacity: 0 },
        _ => SinkError::Other(e.to_string()),
    }
}

impl SdkSink {
    fn upgrade(&mut self) -> Result<&Upgrade, SinkError> {
        if !matches!(self.state, SinkState::Taken(_)) {
            // A writer from an earlier attempt gives the upgrade back when dropped.
            self.state = SinkState::Idle;
            self.state = SinkState::Taken(Upgrade::take().map_err(sink_error)?);
        }
        match &self.state {
            SinkState::Taken(u) => Ok(u),
            _ => Err(SinkError::Other("upgrade state".into())),
        }
    }

    /// Reboots into flashboot once the upgrade is requested; `None` if it is not.
    pub fn reboot(self) -> Option<core::convert::Infallible> {
        match self.state {
            SinkState::Ready(r) => r.reboot(),
            _ => None,
        }
    }
}

impl PackageSink for SdkSink {
    fn capacity(&mut self) -> Result<u32, SinkError> {
        Ok(self.upgrade()?.storage_size())
    }

    fn begin(&mut self, len: u32) -> Result<(), SinkError> {
        self.upgrade()?;
        let SinkState::Taken(up) = core::mem::take(&mut self.state) else {
            return Err(SinkError::Other("upgrade state".into()));
        };
        self.state = SinkState::Writing(up.prepare(len).map_err(sink_error)?);
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), SinkError> {
        match &mut self.state {
            SinkState::Writing(w) => w.write(data).map_err(sink_error),
            _ => Err(SinkError::Other("write before prepare".into())),
        }
    }

    fn commit(&mut self) -> Result<(), SinkError> {
        let SinkState::Writing(w) = core::mem::take(&mut self.state) else {
            return Err(SinkError::Other("commit before prepare".into()));
        };
        self.state = SinkState::Ready(w.finish().map_err(sink_error)?);
        Ok(())
    }
}

/// How the OTA thread runs.
#[derive(Debug, Clone, Copy)]
pub struct TaskConfig {
    /// Thread stack: 0x3000 (the C original used 0x2000; `cargo stack-check` finds the worst
    /// case of this thread, with the SDK's frames, at about 8.8 KiB, and the budget keeps 25 %
    /// above it).
    pub stack_size: u32,
    /// Engine tuning.
    pub ota: OtaConfig,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes.
    pub read_timeout: Duration,
    /// The CA certificates (PEM) for `https://` downloads; `None`: `http://` only.
    pub ca: Option<&'static [u8]>,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            stack_size: 0x3000,
            ota: OtaConfig::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(15),
            ca: None,
        }
    }
}

/// Receives the OTA thread's progress and its end (a successful OTA ends in a reboot, after
/// `finished(Ok(..))`).
pub trait Reporter: Progress + Send + 'static {
    /// The OTA ended.
    fn finished(&mut self, result: &Result<Downloaded, OtaError>);
    /// Called after a successful OTA, right before the reboot: a reporter that sends the
    /// result somewhere waits here until it is out (the reboot would cut it off).
    fn before_reboot(&mut self) {}
}

static RUNNING: critical_section::Mutex<Cell<bool>> =
    critical_section::Mutex::new(Cell::new(false));

/// Whether an OTA thread is running.
pub fn running() -> bool {
    critical_section::with(|cs| RUNNING.borrow(cs).get())
}

/// Starts the OTA thread for `req`. It downloads, verifies, requests the upgrade and reboots;
/// on failure it reports and ends. Returns at once.
///
/// # Errors
/// [`OtaError::Busy`] while another OTA runs (no second thread is started);
/// [`OtaError::Internal`] when the kernel refuses the thread.
pub fn start<R: Reporter>(req: OtaRequest, cfg: TaskConfig, reporter: R) -> Result<(), OtaError> {
    let busy = critical_section::with(|cs| RUNNING.borrow(cs).replace(true));
    if busy {
        return Err(OtaError::Busy);
    }
    let job = move || {
        let mut reporter = reporter;
        let mut conn = HalConnector {
            connect_timeout: cfg.connect_timeout,
            read_timeout: cfg.read_timeout,
            ca: cfg.ca,
        };
        let mut sink = SdkSink::default();
        log::info!(target: "ota", "OTA to {} from {}", req.version, req.url);
        let result = engine::run(&req, cfg.ota, &mut conn, &mut sink, &mut reporter);
        reporter.finished(&result);
        match result {
            Ok(d) => {
                log::info!(target: "ota", "{} bytes verified, upgrade requested: rebooting", d.len);
                reporter.before_reboot();
                sink.reboot();
            }
            Err(e) => {
                log::error!(target: "ota", "OTA failed (result {}): {e}", e.result_code());
            }
        }
        critical_section::with(|cs| RUNNING.borrow(cs).set(false));
    };
    let spawned = Builder::new(c"ota")
        .stack_size(cfg.stack_size)
        .priority(PRIORITY_NORMAL)
        .spawn(Box::new(job));
    if let Err(e) = spawned {
        critical_section::with(|cs| RUNNING.borrow(cs).set(false));
        return Err(OtaError::Internal(e.to_string()));
    }
    Ok(())
}

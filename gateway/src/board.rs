//! The gateway on the board: WiFi, sockets and time from `ws63-hal`, the OTA thread from
//! `ota::board`, and its progress through a kernel queue.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use ota::engine::Phase;
use ota::{Downloaded, OtaError, OtaRequest};
use ws63_hal::net::TcpStream;
use ws63_hal::sync::{Queue, Semaphore};
use ws63_hal::wifi::{self, Security, StaConfig};

use crate::app::{Platform, Progress};
use crate::config::Wifi;
use crate::mqtt::Clock;

/// The kernel tick as the session's clock.
#[derive(Debug, Clone, Copy)]
pub struct Ticks;

impl Clock for Ticks {
    fn now_ms(&self) -> u64 {
        ws63_hal::time::uptime().as_millis() as u64
    }
}

/// Sends the OTA thread's progress to the gateway's loop.
struct QueueReporter(&'static Queue<Progress>, &'static Semaphore, Option<u8>);

impl ota::engine::Progress for QueueReporter {
    fn phase(&mut self, _: Phase) {}
    fn bytes(&mut self, written: u32, total: u32) {
        let pc = (u64::from(written) * 100 / u64::from(total.max(1))) as u8;
        // Only every 10 % (the gateway reports no finer), and a full queue drops a report
        // rather than slow the download.
        if self.2 != Some(pc / 10) {
            self.2 = Some(pc / 10);
            let _ = self.0.send(Progress::Percent(pc), Some(Duration::ZERO));
        }
    }
}

impl ota::board::Reporter for QueueReporter {
    fn finished(&mut self, r: &Result<Downloaded, OtaError>) {
        let p = match r {
            Ok(_) => Progress::Done,
            Err(e) => Progress::Failed(e.result_code(), e.to_string()),
        };
        // The end is reported even if the loop is slow.
        let _ = self.0.send(p, Some(Duration::from_secs(5)));
    }

    fn before_reboot(&mut self) {
        // The gateway publishes the final report first (bounded: a lost broker must not
        // keep the board from installing).
        let _ = self.1.acquire(Some(Duration::from_secs(10)));
    }
}

/// The connection to the broker: TCP, or TLS over it when a CA is configured (with the `tls`
/// feature).
#[cfg(feature = "tls")]
pub type Conn = ws63_hal::tls::MaybeTls<TcpStream>;
/// The connection to the broker: TCP (this build has no TLS).
#[cfg(not(feature = "tls"))]
pub type Conn = TcpStream;

/// The board.
pub struct Board {
    version: String,
    progress: &'static Queue<Progress>,
    reported: &'static Semaphore,
    ota: ota::board::TaskConfig,
    /// The CA certificates (PEM) for MQTT over TLS; `None`: plain MQTT.
    mqtt_ca: Option<Vec<u8>>,
}

impl Board {
    /// A board running firmware `version`.
    ///
    /// # Errors
    /// When the kernel has no room for the progress queue.
    pub fn new(version: &str, ota: ota::board::TaskConfig) -> Result<Self, ws63_hal::Error> {
        let q = Box::leak(Box::new(Queue::new(16)?));
        let reported = Box::leak(Box::new(Semaphore::new(1, 0)?));
        Ok(Self { version: version.into(), progress: q, reported, ota, mqtt_ca: None })
    }

    /// Connects to the broker over TLS 1.2, verified against the CA certificates `ca` (PEM).
    ///
    /// # Errors
    /// Without the `tls` feature (a build without TLS).
    pub fn with_mqtt_tls(mut self, ca: Vec<u8>) -> Result<Self, String> {
        if cfg!(feature = "tls") {
            self.mqtt_ca = Some(ca);
            Ok(self)
        } else {
            Err("MQTT over TLS is not in this build".into())
        }
    }
}

impl Platform for Board {
    type Conn = Conn;
    type Clock = Ticks;

    fn join_wifi(&mut self, cfg: &Wifi) -> Result<(), String> {
        if wifi::link_up() {
            return Ok(());
        }
        let security = match cfg.security.as_str() {
            "open" => Security::Open,
            "wpa2-wpa3" => Security::Wpa3Wpa2Mix,
            "wpa3" => Security::Wpa3Sae,
            _ => Security::Wpa2Psk,
        };
        let sta = StaConfig { ssid: &cfg.ssid, passphrase: &cfg.passphrase, security };
        wifi::connect(&sta, Duration::from_secs(20)).map(|_| ()).map_err(|e| e.to_string())
    }

    fn connect(&mut self, host: &str, port: u16) -> Result<Conn, String> {
        let s =
            TcpStream::connect(host, port, Duration::from_secs(10)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        // Each MQTT packet is one write; without this a command's response waits behind the
        // PUBACK sent just before it for the broker's delayed ACK (~40 ms, measured).
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        #[cfg(feature = "tls")]
        {
            use ws63_hal::tls::{self, MaybeTls, TlsConfig};
            match &self.mqtt_ca {
                None => Ok(MaybeTls::Plain(s)),
                Some(ca) => {
                    let t =
                        tls::connect(s, host, &TlsConfig::new(ca)).map_err(|e| e.to_string())?;
                    log::info!(target: "gateway", "TLS to {host}: {} {}", t.protocol(), t.ciphersuite());
                    Ok(MaybeTls::Tls(t))
                }
            }
        }
        #[cfg(not(feature = "tls"))]
        match self.mqtt_ca {
            None => Ok(s),
            Some(_) => Err("MQTT over TLS is not in this build".into()),
        }
    }

    fn clock(&self) -> Ticks {
        Ticks
    }

    fn sleep_ms(&mut self, ms: u64) {
        ws63_hal::thread::sleep(Duration::from_millis(ms));
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn start_ota(&mut self, req: OtaRequest) -> Result<(), OtaError> {
        ota::board::start(req, self.ota, QueueReporter(self.progress, self.reported, None))
    }

    fn progress(&mut self) -> Option<Progress> {
        self.progress.recv(Some(Duration::ZERO)).ok()
    }

    fn ota_reported(&mut self) {
        let _ = self.reported.release();
    }
}

//! The gateway's main loop: WiFi, MQTT session (login, subscriptions, a `version_report` on
//! every connection), commands through one dispatch table, `$ota` events, and the OTA's
//! progress reported from a queue, so the receive loop never waits for an OTA.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};

use embedded_io::{Read, Write};
use mqtt_cmd::command::{self, OtaUpgrade, Response};
use mqtt_cmd::dispatch::Dispatcher;
use mqtt_cmd::event::{self, Event};
use mqtt_cmd::topic::{Inbound, Topics};
use ota::{OtaError, OtaRequest};

use crate::config::Config;
use crate::login;
use crate::mqtt::{Clock, MqttError, Session};

/// Publish at QoS 1: only the last progress report before the reboot, which the gateway waits
/// to see acknowledged. The session is clean and never retransmits, so QoS 1 elsewhere would
/// only bring the broker's PUBACK, a 4-byte segment the board acknowledges late (a delayed
/// ACK: up to 100 ms on lwIP here, 40 ms on Linux); a broker running Nagle's algorithm
/// (mosquitto's default, rumqttd) holds its next packet, typically the command the cloud sends
/// as soon as it sees the board's `version_report`, until that ACK (docs/benchmarks.md).
const ACKED: bool = true;
/// Publish at QoS 0: every other publication (see [`ACKED`]).
const UNACKED: bool = false;

/// What the OTA thread reports to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Percent of the package stored.
    Percent(u8),
    /// The upgrade is requested; the board reboots next.
    Done,
    /// The OTA failed: IoTDA result code and description.
    Failed(u8, String),
}

/// What the gateway needs from the board.
pub trait Platform {
    /// A connection to the broker (reads time out quickly, so the loop keeps turning).
    type Conn: Read + Write;
    /// The clock.
    type Clock: Clock;
    /// Joins the WiFi network.
    ///
    /// # Errors
    /// Why it did not work.
    fn join_wifi(&mut self, cfg: &crate::config::Wifi) -> Result<(), String>;
    /// Connects to the broker.
    ///
    /// # Errors
    /// Why it did not work.
    fn connect(&mut self, host: &str, port: u16) -> Result<Self::Conn, String>;
    /// A clock for the session.
    fn clock(&self) -> Self::Clock;
    /// Waits.
    fn sleep_ms(&mut self, ms: u64);
    /// The running firmware's version.
    fn version(&self) -> String;
    /// Starts the OTA thread, which reports through [`Platform::progress`].
    ///
    /// # Errors
    /// [`OtaError::Busy`] while one runs, or why it could not start.
    fn start_ota(&mut self, req: OtaRequest) -> Result<(), OtaError>;
    /// The next progress report of the OTA thread, if any (never waits).
    fn progress(&mut self) -> Option<Progress>;
    /// The final report of a successful OTA is out: the OTA thread may reboot.
    fn ota_reported(&mut self);
}

/// What a command handler needs: the board, the configuration, and the version the OTA in
/// progress (or last started) targets, for its reports (kept across reconnections: an OTA
/// goes on while the gateway rejoins the network).
struct Ctx<'p, P: Platform> {
    platform: &'p mut P,
    cfg: &'p Config,
    ota_version: &'p mut Option<String>,
}

fn start(ctx: &mut Ctx<'_, impl Platform>, req: OtaRequest) -> Result<(), (String, String)> {
    // Everything that can be checked without the network is checked before answering.
    let bad = |e: OtaError| ("bad_request".to_string(), e.to_string());
    ota::request::check_version(&req.version).map_err(bad)?;
    ota::request::Url::parse(&req.url).map_err(bad)?;
    if let Some(h) = &req.sha256 {
        ota::request::parse_sha256(h).map_err(bad)?;
    }
    if req.version == ctx.platform.version() {
        return Err(("same_version".into(), format!("{} is running already", req.version)));
    }
    let version = req.version.clone();
    match ctx.platform.start_ota(req) {
        Ok(()) => {
            *ctx.ota_version = Some(version);
            Ok(())
        }
        Err(OtaError::Busy) => Err(("busy".into(), "an OTA is running".into())),
        Err(OtaError::BadRequest(why)) => Err(("bad_request".into(), why)),
        Err(e) => Err(("internal".into(), e.to_string())),
    }
}

fn ota_command<P: Platform>(
    paras: &serde_json::Map<String, serde_json::Value>,
    ctx: &mut Ctx<'_, P>,
) -> Response {
    let o = match OtaUpgrade::from_paras(paras) {
        Ok(o) => o,
        Err(why) => return OtaUpgrade::rejected("bad_request", Some(why)),
    };
    let url = match o.url {
        Some(u) => u,
        None => match ota::request::expand_url(&ctx.cfg.ota.url, &o.version) {
            Ok(u) => u,
            Err(e) => return OtaUpgrade::rejected("bad_request", Some(e.to_string())),
        },
    };
    let req = OtaRequest { version: o.version, url, sha256: o.sha256, size: o.size, token: None };
    match start(ctx, req) {
        Ok(()) => OtaUpgrade::started(),
        Err((reason, detail)) => OtaUpgrade::rejected(&reason, Some(detail)),
    }
}

/// The command table.
fn dispatcher<'h, P: Platform + 'h>() -> Dispatcher<'h, Ctx<'h, P>> {
    let mut d = Dispatcher::new();
    d.register(command::OTA_UPGRADE, Box::new(|p, ctx: &mut Ctx<'h, P>| ota_command(p, ctx)));
    d
}

/// When to try the broker again: 1 s after the first failure, doubling up to 30 s while
/// connections fail or end quickly; back to 1 s only after a session that stayed up for
/// [`Reconnect::STABLE_MS`]. A broker that accepts the login and then breaks the protocol
/// (or a man in the middle that does) is retried ever more slowly, not once a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnect {
    next_ms: u64,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect { next_ms: Reconnect::FIRST_MS }
    }
}

impl Reconnect {
    /// The first delay.
    pub const FIRST_MS: u64 = 1000;
    /// The longest delay.
    pub const MAX_MS: u64 = 30_000;
    /// How long a session must have been up for the delay to start again from
    /// [`Reconnect::FIRST_MS`].
    pub const STABLE_MS: u64 = 60_000;

    /// The delay before the next connection, after one that ended; `up_ms` is how long its
    /// session was up (`None`: it never came up).
    pub fn after(&mut self, up_ms: Option<u64>) -> u64 {
        if up_ms.is_some_and(|ms| ms >= Self::STABLE_MS) {
            self.next_ms = Self::FIRST_MS;
        }
        let delay = self.next_ms;
        self.next_ms = (self.next_ms * 2).min(Self::MAX_MS);
        delay
    }
}

/// The gateway's state across connections: the reconnection delay, and the version of the
/// OTA in progress (an OTA goes on while the gateway rejoins the network).
#[derive(Debug, Default)]
pub struct Runner {
    reconnect: Reconnect,
    ota_version: Option<String>,
}

impl Runner {
    /// Serves one connection until it ends, then waits before the next as [`Reconnect`]
    /// says; returns why it ended and how long it waited.
    pub fn once<P: Platform>(&mut self, cfg: &Config, platform: &mut P) -> (String, u64) {
        let mut up_since = None;
        let Err(why) = serve(cfg, platform, &mut up_since, &mut self.ota_version);
        let up_ms = up_since.map(|t| platform.clock().now_ms().saturating_sub(t));
        let delay = self.reconnect.after(up_ms);
        log::warn!(target: "gateway", "{why}; reconnecting in {delay} ms");
        platform.sleep_ms(delay);
        (why, delay)
    }
}

/// Runs the gateway for ever: [`Runner::once`] after [`Runner::once`].
pub fn run<P: Platform>(cfg: &Config, platform: &mut P) -> ! {
    let mut runner = Runner::default();
    loop {
        runner.once(cfg, platform);
    }
}

/// Joins WiFi (with retries) and serves one MQTT connection until it ends; `up_since` is set
/// to the clock's time when the session came up; `ota_version` is the version the running
/// OTA targets (it outlives the connection).
///
/// # Errors
/// Why the connection ended.
pub fn serve<P: Platform>(
    cfg: &Config,
    platform: &mut P,
    up_since: &mut Option<u64>,
    ota_version: &mut Option<String>,
) -> Result<core::convert::Infallible, String> {
    let mut backoff = 500u64;
    while let Err(e) = platform.join_wifi(&cfg.wifi) {
        log::warn!(target: "gateway", "WiFi: {e}; retrying in {backoff} ms");
        platform.sleep_ms(backoff);
        backoff = (backoff * 2).min(30_000);
    }
    let topics = Topics::with_root(&cfg.mqtt.topic_root, &cfg.mqtt.device_id);
    let conn = platform
        .connect(&cfg.mqtt.host, cfg.mqtt.port)
        .map_err(|e| format!("broker {}:{}: {e}", cfg.mqtt.host, cfg.mqtt.port))?;
    let clock = platform.clock();
    let mut s = Session::connect(conn, clock, &login::options(&cfg.mqtt), 10_000)
        .map_err(|e| e.to_string())?;
    let e = |e: MqttError| e.to_string();
    s.subscribe(&topics.commands_filter(), 10_000).map_err(e)?;
    s.subscribe(&topics.events_down(), 10_000).map_err(e)?;
    let device = cfg.mqtt.device_id.as_str();
    s.publish(
        &topics.events_up(),
        event::version_report(device, &platform.version()).as_bytes(),
        UNACKED,
    )
    .map_err(e)?;
    log::info!(target: "gateway", "connected to {}:{} as {device}", cfg.mqtt.host, cfg.mqtt.port);
    *up_since = Some(platform.clock().now_ms());
    let mut ctx = Ctx { platform, cfg, ota_version };
    let mut table = dispatcher::<P>();
    let mut last_percent: Option<u8> = None;
    loop {
        while let Some(p) = ctx.platform.progress() {
            let version = ctx.ota_version.clone().unwrap_or_default();
            let report = match p {
                Progress::Percent(pc) => {
                    // One report per 10 %, and the first.
                    if last_percent.is_some_and(|l| l / 10 == pc / 10) {
                        continue;
                    }
                    last_percent = Some(pc);
                    event::upgrade_progress_report(device, 0, pc, &version, "downloading")
                }
                Progress::Done => {
                    let r = event::upgrade_progress_report(
                        device,
                        0,
                        100,
                        &version,
                        "verified, installing after reboot",
                    );
                    s.publish(&topics.events_up(), r.as_bytes(), ACKED).map_err(e)?;
                    // Let the report reach the broker before the reboot cuts the connection.
                    let t = ctx.platform.clock().now_ms();
                    while s.unacked() > 0 && ctx.platform.clock().now_ms() < t + 3000 {
                        if let Some(m) = s.poll().map_err(e)? {
                            log::info!(target: "gateway", "while rebooting, ignored {}", m.topic);
                        }
                    }
                    // Leave the broker cleanly: the board's next boot logs in with the same id.
                    let _ = s.disconnect();
                    ctx.platform.ota_reported();
                    return Err("rebooting into the new firmware".into());
                }
                Progress::Failed(code, why) => {
                    let at = last_percent.take().unwrap_or(0);
                    event::upgrade_progress_report(device, code, at, &version, &why)
                }
            };
            s.publish(&topics.events_up(), report.as_bytes(), UNACKED).map_err(e)?;
        }
        let Some(msg) = s.poll().map_err(e)? else { continue };
        match topics.parse(&msg.topic) {
            Ok(Inbound::Command { request_id }) => {
                let resp = table.handle(&msg.payload, &mut ctx);
                if resp.result_code != 0 {
                    log::warn!(target: "gateway", "command {request_id}: {}", resp.to_json());
                }
                s.publish(&topics.command_response(request_id), resp.to_json().as_bytes(), UNACKED)
                    .map_err(e)?;
            }
            Ok(Inbound::EventsDown) => match event::parse(&msg.payload) {
                Ok(events) => {
                    for ev in events {
                        match ev {
                            Event::VersionQuery => {
                                let r = event::version_report(device, &ctx.platform.version());
                                s.publish(&topics.events_up(), r.as_bytes(), UNACKED).map_err(e)?;
                            }
                            Event::FirmwareUpgrade(f) => {
                                let req = OtaRequest {
                                    version: f.version.clone(),
                                    url: f.url,
                                    sha256: f.sign,
                                    size: f.file_size,
                                    token: f.access_token,
                                };
                                if let Err((reason, why)) = start(&mut ctx, req) {
                                    let code = match reason.as_str() {
                                        "busy" => ota::error::result_code::BUSY,
                                        "same_version" => ota::error::result_code::LATEST_VERSION,
                                        _ => ota::error::result_code::INTERNAL,
                                    };
                                    let r = event::upgrade_progress_report(
                                        device, code, 0, &f.version, &why,
                                    );
                                    s.publish(&topics.events_up(), r.as_bytes(), UNACKED)
                                        .map_err(e)?;
                                }
                            }
                            Event::BadFirmwareUpgrade(why) => {
                                log::warn!(target: "gateway", "firmware_upgrade: {why}");
                                let r = event::upgrade_progress_report(
                                    device,
                                    ota::error::result_code::INTERNAL,
                                    0,
                                    "",
                                    &why,
                                );
                                s.publish(&topics.events_up(), r.as_bytes(), UNACKED).map_err(e)?;
                            }
                            Event::Other { service_id, event_type } => {
                                log::info!(target: "gateway", "ignored event {service_id}/{event_type}");
                            }
                        }
                    }
                }
                Err(err) => log::warn!(target: "gateway", "events/down: {}", err.reason()),
            },
            // Our own responses come back through the commands/# subscription on brokers that
            // echo; nothing else is expected.
            Err(err) => {
                log::debug!(target: "gateway", "ignored message on {} ({err:?})", msg.topic)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reconnect;

    #[test]
    fn the_delay_doubles_up_to_30_s_and_restarts_after_a_stable_session() {
        let mut r = Reconnect::default();
        // The broker cannot be reached, then sessions that end within seconds.
        let delays: alloc::vec::Vec<u64> =
            [None, None, Some(10), Some(5_000), None, Some(59_999), None, None]
                .into_iter()
                .map(|up| r.after(up))
                .collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
        // A session that stayed up a minute: the next try comes after 1 s again.
        assert_eq!(r.after(Some(60_000)), 1000);
        assert_eq!(r.after(None), 2000);
    }
}

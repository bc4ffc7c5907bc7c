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

/// Runs the gateway for ever, reconnecting with backoff: 1 s after a session that worked,
/// doubling up to 30 s while the broker cannot be reached or refuses us.
pub fn run<P: Platform>(cfg: &Config, platform: &mut P) -> ! {
    let mut backoff = 1000u64;
    let mut ota_version = None;
    loop {
        let mut connected = false;
        if let Err(e) = serve(cfg, platform, &mut connected, &mut ota_version) {
            if connected {
                backoff = 1000;
            }
            log::warn!(target: "gateway", "{e}; reconnecting in {backoff} ms");
            platform.sleep_ms(backoff);
            if !connected {
                backoff = (backoff * 2).min(30_000);
            }
        }
    }
}

/// Joins WiFi (with retries) and serves one MQTT connection until it ends; `connected` says
/// whether the session came up; `ota_version` is the version the running OTA targets (it
/// outlives the connection).
///
/// # Errors
/// Why the connection ended.
pub fn serve<P: Platform>(
    cfg: &Config,
    platform: &mut P,
    connected: &mut bool,
    ota_version: &mut Option<String>,
) -> Result<(), String> {
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
        true,
    )
    .map_err(e)?;
    log::info!(target: "gateway", "connected to {}:{} as {device}", cfg.mqtt.host, cfg.mqtt.port);
    *connected = true;
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
                    s.publish(&topics.events_up(), r.as_bytes(), true).map_err(e)?;
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
            s.publish(&topics.events_up(), report.as_bytes(), true).map_err(e)?;
        }
        let Some(msg) = s.poll().map_err(e)? else { continue };
        match topics.parse(&msg.topic) {
            Ok(Inbound::Command { request_id }) => {
                let resp = table.handle(&msg.payload, &mut ctx);
                if resp.result_code != 0 {
                    log::warn!(target: "gateway", "command {request_id}: {}", resp.to_json());
                }
                s.publish(&topics.command_response(request_id), resp.to_json().as_bytes(), true)
                    .map_err(e)?;
            }
            Ok(Inbound::EventsDown) => match event::parse(&msg.payload) {
                Ok(events) => {
                    for ev in events {
                        match ev {
                            Event::VersionQuery => {
                                let r = event::version_report(device, &ctx.platform.version());
                                s.publish(&topics.events_up(), r.as_bytes(), true).map_err(e)?;
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
                                    s.publish(&topics.events_up(), r.as_bytes(), true)
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
                                s.publish(&topics.events_up(), r.as_bytes(), true).map_err(e)?;
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

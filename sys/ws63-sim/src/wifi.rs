//! The WiFi station API, with one simulated access point, as the SDK's WiFi service and driver
//! behave (`soc_wifi_service_api.c`; the host driver's behaviour from the WS63 host sources).
//!
//! - **Start-up.** WiFi initialises in its own task after the SDK's `main()`:
//!   `wifi_is_wifi_inited` is 0 for [`INIT_DELAY`] after power-on, and `wifi_sta_enable`
//!   fails (`ERRCODE_FAIL`) until then, as it does when the station is already enabled.
//! - **Connecting.** `wifi_sta_connect` checks the configuration at once (`ERRCODE_FAIL`, the
//!   service's `ERROR_WIFI_INVALID_ARGS`, for a NULL config, an empty or over-long SSID, an
//!   invalid security type, or an empty or over-long key where the type needs one), fails
//!   with `0xFFFFFFFD` (`ERROR_WIFI_IFACE_INVALID`) when the station is not enabled, then
//!   connects in the background. The security type of the configuration is ignored: as the
//!   service does, the board takes it from the access point found by the scan (WPA2 when it
//!   has a passphrase, open otherwise) and checks the key against that: an open
//!   configuration (no key) to a WPA2 access point fails with a MIC-failure event (reason
//!   14), a wrong key with a handshake failure (15), an access point out of reach with
//!   "network not found" (5300). After [`CONNECT_DELAY`] the connection-changed callbacks
//!   run. DHCP binds [`DHCP_DELAY`] after `netifapi_dhcp_start` on a connected link.
//! - **Losing the link** ([`drop_link`], or the `--wifi-drop-*` faults): the access point
//!   goes away; for [`LINK_LOSS_DETECT`] the driver has not noticed (no frame comes in or
//!   goes out: socket calls wait, see [`crate::net`]), then it reports the link down: the
//!   interface's address becomes 0.0.0.0, lwIP aborts every TCP connection
//!   ([`crate::net::abort_all`]), the callbacks report "not available", and the station
//!   stays enabled. DHCP is not stopped: it binds again after a new connection.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sdk::{errcode_t, wifi_event_stru, wifi_linked_info_stru, wifi_sta_config_stru};
use ws63_sdk_sys as sdk;

use crate::faults;
use crate::rtos::gate;

/// Time from power-on until the WiFi task has initialised the driver.
pub const INIT_DELAY: Duration = Duration::from_millis(200);
/// Time from `wifi_sta_connect` to the connection-changed callback.
pub const CONNECT_DELAY: Duration = Duration::from_millis(30);
/// Time from `netifapi_dhcp_start` (on a connected link) to a bound lease.
pub const DHCP_DELAY: Duration = Duration::from_millis(20);
/// Time from the access point going away to the driver reporting the link down (beacon
/// loss; the driver's threshold is not in the SDK's sources, this is a typical figure).
pub const LINK_LOSS_DETECT: Duration = Duration::from_secs(3);

/// WiFi connection-changed states reported to the callback (`WIFI_STATE_*` in the SDK).
pub const WIFI_STATE_NOT_AVAILABLE: i32 = 0;
/// The station is connected.
pub const WIFI_STATE_AVAILABLE: i32 = 1;

/// `ERROR_WIFI_IFACE_INVALID`: the station interface is not enabled.
pub const ERROR_WIFI_IFACE_INVALID: errcode_t = 0xFFFF_FFFD;
/// Disconnection reasons the board reports.
pub mod reason {
    /// The access point's beacons stopped (the link was lost).
    pub const BEACON_LOSS: i32 = 4;
    /// The key does not fit the access point's security (`WLAN_REASON_MIC_FAILURE`).
    pub const MIC_FAILURE: i32 = 14;
    /// The 4-way handshake failed: a wrong key.
    pub const HANDSHAKE_TIMEOUT: i32 = 15;
    /// No access point with that SSID (`WIFI_NETWORK_NOT_FOUND_ERROR`).
    pub const NETWORK_NOT_FOUND: i32 = 5300;
}

#[derive(Default)]
struct State {
    ap: Option<(Vec<u8>, Vec<u8>)>,
    powered_at: Option<Instant>,
    /// The access point is out of reach until then.
    ap_away_until: Option<Instant>,
    /// The link is lost but the driver has not noticed yet (since then).
    silent_since: Option<Instant>,
    enabled: bool,
    connected: Option<Vec<u8>>,
    connecting: bool,
    dhcp_started: bool,
    dhcp_bound_at: Option<Instant>,
    callbacks: Vec<wifi_event_stru>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<State>> {
    let mut g = STATE.lock().unwrap_or_else(|p| p.into_inner());
    if g.is_none() {
        *g = Some(State { powered_at: Some(Instant::now()), ..State::default() });
    }
    g
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(state().as_mut().expect("initialised"))
}

/// Sets the access point the board can see (WPA2 with this passphrase; open when it is
/// empty).
pub fn set_access_point(ssid: &str, passphrase: &str) {
    with(|s| s.ap = Some((ssid.as_bytes().to_vec(), passphrase.as_bytes().to_vec())));
}

/// Puts the radio back to its power-on state (the access point stays); the driver
/// initialises [`INIT_DELAY`] from now.
pub fn reset() {
    with(|s| {
        let ap = s.ap.take();
        *s = State { ap, powered_at: Some(Instant::now()), ..State::default() };
    });
}

/// For tests that only need a network: the driver is initialised, the station enabled,
/// connected, and has its lease.
pub fn bring_up() {
    with(|s| {
        s.powered_at = Some(Instant::now() - INIT_DELAY);
        s.enabled = true;
        s.connected = Some(b"sim".to_vec());
        s.dhcp_started = true;
        s.dhcp_bound_at = Some(Instant::now());
        s.ap_away_until = None;
        s.silent_since = None;
    });
}

/// Whether the station is enabled.
pub fn sta_enabled() -> bool {
    with(|s| s.enabled)
}

/// Whether the station is connected to the access point (as the driver knows it).
pub fn link_up() -> bool {
    with(|s| s.connected.is_some())
}

/// Whether the link is lost and the driver has not noticed yet: frames neither come in nor
/// go out.
pub fn radio_silent() -> bool {
    with(|s| s.silent_since.is_some())
}

fn ap_in_reach(s: &State) -> bool {
    s.ap.is_some() && s.ap_away_until.is_none_or(|t| Instant::now() >= t)
}

/// The access point goes out of reach for `away`: the link is lost; [`LINK_LOSS_DETECT`]
/// later the driver reports it down (see the module). Nothing happens when the station is
/// not connected.
pub fn drop_link(away: Duration) {
    let dropped = with(|s| {
        if s.connected.is_none() || s.silent_since.is_some() {
            return false;
        }
        s.ap_away_until = Some(Instant::now() + away);
        s.silent_since = Some(Instant::now());
        true
    });
    if !dropped {
        return;
    }
    eprintln!("[ws63-sim] WiFi: the access point is out of reach for {} ms", away.as_millis());
    std::thread::spawn(|| {
        std::thread::sleep(LINK_LOSS_DETECT);
        link_down(reason::BEACON_LOSS);
    });
}

/// The driver reports the link down: address gone, TCP connections aborted, callbacks run.
fn link_down(why: i32) {
    let callbacks = with(|s| {
        s.silent_since = None;
        s.connected = None;
        s.dhcp_bound_at = None;
        s.callbacks.clone()
    });
    eprintln!("[ws63-sim] WiFi: link down (reason {why}); TCP connections aborted");
    crate::net::abort_all();
    report(&callbacks, WIFI_STATE_NOT_AVAILABLE, why);
}

fn report(callbacks: &[wifi_event_stru], state: i32, why: i32) {
    let info = linked_info();
    for cb in callbacks {
        if let Some(f) = cb.wifi_event_connection_changed {
            // SAFETY: a registered callback is a valid function (the API's contract); `info`
            // lives across the call.
            unsafe { f(state, &info, why) };
        }
    }
}

pub(crate) fn dhcp_start() {
    with(|s| {
        s.dhcp_started = true;
        if s.connected.is_some() && s.dhcp_bound_at.is_none() {
            s.dhcp_bound_at = Some(Instant::now() + DHCP_DELAY);
        }
    });
}

pub(crate) fn dhcp_stop() {
    with(|s| {
        s.dhcp_started = false;
        s.dhcp_bound_at = None;
    });
}

pub(crate) fn dhcp_started() -> bool {
    with(|s| s.dhcp_started)
}

/// Whether the station has its address (connected, DHCP bound).
pub(crate) fn dhcp_bound() -> bool {
    with(|s| s.connected.is_some() && s.dhcp_bound_at.is_some_and(|t| Instant::now() >= t))
}

fn cstr_field(field: &[i8]) -> Option<Vec<u8>> {
    let bytes: Vec<u8> = field.iter().map(|b| *b as u8).collect();
    let end = bytes.iter().position(|b| *b == 0)?;
    Some(bytes[..end].to_vec())
}

fn inited(s: &State) -> bool {
    s.powered_at.is_some_and(|t| t.elapsed() >= INIT_DELAY)
}

/// `wifi_is_wifi_inited`: 1 once the WiFi task has initialised the driver ([`INIT_DELAY`]
/// after power-on).
#[export_name = "ws63sim_wifi_is_wifi_inited"]
pub extern "C" fn wifi_is_wifi_inited() -> i32 {
    gate();
    i32::from(with(|s| inited(s)))
}

/// `wifi_sta_enable`: `ERRCODE_FAIL` when the station is already enabled, or while WiFi is
/// still initialising.
#[export_name = "ws63sim_wifi_sta_enable"]
pub extern "C" fn wifi_sta_enable() -> errcode_t {
    gate();
    with(|s| {
        if s.enabled || !inited(s) {
            return sdk::ERRCODE_FAIL;
        }
        s.enabled = true;
        sdk::ERRCODE_SUCC
    })
}

/// `wifi_sta_disable`: drops the connection and stops DHCP; `ERRCODE_FAIL` when the station
/// is not enabled.
#[export_name = "ws63sim_wifi_sta_disable"]
pub extern "C" fn wifi_sta_disable() -> errcode_t {
    gate();
    with(|s| {
        if !s.enabled {
            return sdk::ERRCODE_FAIL;
        }
        s.enabled = false;
        s.connected = None;
        s.dhcp_started = false;
        s.dhcp_bound_at = None;
        sdk::ERRCODE_SUCC
    })
}

/// `wifi_is_sta_enabled`.
#[export_name = "ws63sim_wifi_is_sta_enabled"]
pub extern "C" fn wifi_is_sta_enabled() -> i32 {
    gate();
    i32::from(with(|s| inited(s) && s.enabled))
}

/// `wifi_sta_connect`: see the module.
#[export_name = "ws63sim_wifi_sta_connect"]
pub extern "C" fn wifi_sta_connect(config: *const wifi_sta_config_stru) -> errcode_t {
    gate();
    if !with(|s| s.enabled) {
        return ERROR_WIFI_IFACE_INVALID;
    }
    // SAFETY: a non-null config points to a wifi_sta_config_stru (the API's contract).
    let Some(cfg) = (unsafe { config.as_ref() }) else { return sdk::ERRCODE_FAIL };
    if cfg.ip_type >= sdk::UNKNOWN {
        return sdk::ERRCODE_FAIL;
    }
    let Some(ssid) = cstr_field(&cfg.ssid).filter(|s| !s.is_empty() && s.len() <= 32) else {
        return sdk::ERRCODE_FAIL;
    };
    let Some(psk) = cstr_field(&cfg.pre_shared_key) else { return sdk::ERRCODE_FAIL };
    let sec = cfg.security_type;
    if !(sdk::WIFI_SEC_TYPE_OPEN..sdk::WIFI_SEC_TYPE_UNKNOWN).contains(&sec)
        || sec == sdk::WIFI_SEC_TYPE_OWE
        || sec == sdk::WIFI_SEC_TYPE_WAPI_CERT
    {
        return sdk::ERRCODE_FAIL;
    }
    if sec != sdk::WIFI_SEC_TYPE_OPEN && (psk.is_empty() || psk.len() > 64) {
        return sdk::ERRCODE_FAIL;
    }
    with(|s| s.connecting = true);
    std::thread::spawn(move || {
        std::thread::sleep(CONNECT_DELAY);
        let fault = faults::take_wifi_connect_failure();
        let (why, callbacks) = with(|s| {
            // The scan: the access point's security decides, not the configuration's.
            let why = match &s.ap {
                Some((a, _)) if *a != ssid || !ap_in_reach(s) => Some(reason::NETWORK_NOT_FOUND),
                None => Some(reason::NETWORK_NOT_FOUND),
                Some((_, p)) if p.is_empty() => None,
                Some(_) if !(8..=64).contains(&psk.len()) => Some(reason::MIC_FAILURE),
                Some((_, p)) if *p != psk => Some(reason::HANDSHAKE_TIMEOUT),
                Some(_) => None,
            };
            let why = if fault { Some(reason::HANDSHAKE_TIMEOUT) } else { why };
            let why = if s.enabled { why } else { Some(reason::NETWORK_NOT_FOUND) };
            s.connecting = false;
            s.connected = why.is_none().then(|| ssid.clone());
            if why.is_some() {
                s.dhcp_bound_at = None;
            } else if s.dhcp_started {
                s.dhcp_bound_at = Some(Instant::now() + DHCP_DELAY);
            }
            (why, s.callbacks.clone())
        });
        match why {
            None => report(&callbacks, WIFI_STATE_AVAILABLE, 0),
            Some(r) => report(&callbacks, WIFI_STATE_NOT_AVAILABLE, r),
        }
    });
    sdk::ERRCODE_SUCC
}

/// `wifi_sta_disconnect`.
#[export_name = "ws63sim_wifi_sta_disconnect"]
pub extern "C" fn wifi_sta_disconnect() -> errcode_t {
    gate();
    with(|s| {
        s.connected = None;
        s.dhcp_bound_at = None;
    });
    crate::net::abort_all();
    sdk::ERRCODE_SUCC
}

fn linked_info() -> wifi_linked_info_stru {
    let mut info = wifi_linked_info_stru::default();
    with(|s| {
        if let Some(ssid) = &s.connected {
            for (d, b) in info.ssid.iter_mut().zip(ssid.iter().take(32)) {
                *d = *b as i8;
            }
            info.conn_state = sdk::WIFI_CONNECTED;
            info.rssi = -45;
            info.channel_num = 6;
        } else if s.connecting {
            info.conn_state = sdk::WIFI_CONNECTING;
        } else {
            info.conn_state = sdk::WIFI_DISCONNECTED;
        }
    });
    info
}

/// `wifi_sta_get_ap_info`: the link state as the driver knows it (`conn_state` 1 when
/// connected); `0xFFFFFFFD` when the station is not enabled.
#[export_name = "ws63sim_wifi_sta_get_ap_info"]
pub extern "C" fn wifi_sta_get_ap_info(result: *mut wifi_linked_info_stru) -> errcode_t {
    gate();
    if !with(|s| s.enabled) {
        return ERROR_WIFI_IFACE_INVALID;
    }
    // SAFETY: a non-null result is writable (the API's contract).
    match unsafe { result.as_mut() } {
        Some(r) => {
            *r = linked_info();
            sdk::ERRCODE_SUCC
        }
        None => sdk::ERRCODE_FAIL,
    }
}

/// `wifi_register_event_cb`: the SDK keeps a copy of the callback table.
#[export_name = "ws63sim_wifi_register_event_cb"]
pub extern "C" fn wifi_register_event_cb(event: *const wifi_event_stru) -> errcode_t {
    gate();
    // SAFETY: a non-null event table is readable (the API's contract).
    match unsafe { event.as_ref() } {
        Some(e) => {
            with(|s| s.callbacks.push(*e));
            sdk::ERRCODE_SUCC
        }
        None => sdk::ERRCODE_INVALID_PARAM,
    }
}

/// `wifi_unregister_event_cb`: removes a table registered with the same callbacks.
#[export_name = "ws63sim_wifi_unregister_event_cb"]
pub extern "C" fn wifi_unregister_event_cb(event: *const wifi_event_stru) -> errcode_t {
    gate();
    // SAFETY: a non-null event table is readable (the API's contract).
    let Some(e) = (unsafe { event.as_ref() }) else { return sdk::ERRCODE_INVALID_PARAM };
    let key = |x: &wifi_event_stru| x.wifi_event_connection_changed.map(|f| f as usize);
    with(|s| {
        let before = s.callbacks.len();
        s.callbacks.retain(|c| key(c) != key(e));
        if s.callbacks.len() < before {
            sdk::ERRCODE_SUCC
        } else {
            sdk::ERRCODE_FAIL
        }
    })
}

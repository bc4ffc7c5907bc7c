//! The WiFi station API, with one simulated access point.
//!
//! The board knows one AP ([`set_access_point`]: SSID and passphrase, from its configuration).
//! `wifi_sta_connect` checks its arguments at once, as the SDK does, and connects in the
//! background: after [`CONNECT_DELAY`] the connection-changed callback reports success (the
//! SSID and passphrase match and no failure is injected) or failure. DHCP binds
//! [`DHCP_DELAY`] after `netifapi_dhcp_start` on a connected link. Sockets refuse to connect
//! (`ENETUNREACH`) and DNS fails while the link is down.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sdk::{errcode_t, wifi_event_stru, wifi_linked_info_stru, wifi_sta_config_stru};
use ws63_sdk_sys as sdk;

use crate::faults;

/// Time from `wifi_sta_connect` to the connection-changed callback.
pub const CONNECT_DELAY: Duration = Duration::from_millis(30);
/// Time from `netifapi_dhcp_start` (on a connected link) to a bound lease.
pub const DHCP_DELAY: Duration = Duration::from_millis(20);

/// WiFi connection-changed states reported to the callback (`WIFI_STATE_*` in the SDK).
pub const WIFI_STATE_NOT_AVAILABLE: i32 = 0;
/// The station is connected.
pub const WIFI_STATE_AVAILABLE: i32 = 1;

#[derive(Default)]
struct State {
    ap: Option<(Vec<u8>, Vec<u8>)>,
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
        *g = Some(State::default());
    }
    g
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(state().as_mut().expect("initialised"))
}

/// Sets the access point the board can see.
pub fn set_access_point(ssid: &str, passphrase: &str) {
    with(|s| s.ap = Some((ssid.as_bytes().to_vec(), passphrase.as_bytes().to_vec())));
}

/// Puts the radio back to its power-on state (the AP stays).
pub fn reset() {
    with(|s| {
        let ap = s.ap.take();
        *s = State { ap, ..State::default() };
    });
}

/// For tests that only need a network: the station is enabled, connected and has its lease.
pub fn bring_up() {
    with(|s| {
        s.enabled = true;
        s.connected = Some(b"sim".to_vec());
        s.dhcp_started = true;
        s.dhcp_bound_at = Some(Instant::now());
    });
}

/// Whether the station is enabled.
pub fn sta_enabled() -> bool {
    with(|s| s.enabled)
}

/// Whether the station is connected to the AP.
pub fn link_up() -> bool {
    with(|s| s.connected.is_some())
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

pub(crate) fn dhcp_bound() -> bool {
    with(|s| s.connected.is_some() && s.dhcp_bound_at.is_some_and(|t| Instant::now() >= t))
}

fn cstr_field(field: &[i8]) -> Option<Vec<u8>> {
    let bytes: Vec<u8> = field.iter().map(|b| *b as u8).collect();
    let end = bytes.iter().position(|b| *b == 0)?;
    Some(bytes[..end].to_vec())
}

/// `wifi_is_wifi_inited`: the SDK's `main()` has initialised WiFi before the app runs.
#[export_name = "ws63sim_wifi_is_wifi_inited"]
pub extern "C" fn wifi_is_wifi_inited() -> i32 {
    1
}

/// `wifi_sta_enable`.
#[export_name = "ws63sim_wifi_sta_enable"]
pub extern "C" fn wifi_sta_enable() -> errcode_t {
    with(|s| s.enabled = true);
    sdk::ERRCODE_SUCC
}

/// `wifi_sta_disable`: also drops the connection.
#[export_name = "ws63sim_wifi_sta_disable"]
pub extern "C" fn wifi_sta_disable() -> errcode_t {
    with(|s| {
        s.enabled = false;
        s.connected = None;
        s.dhcp_bound_at = None;
    });
    sdk::ERRCODE_SUCC
}

/// `wifi_is_sta_enabled`.
#[export_name = "ws63sim_wifi_is_sta_enabled"]
pub extern "C" fn wifi_is_sta_enabled() -> i32 {
    i32::from(sta_enabled())
}

/// `wifi_sta_connect`: `ERRCODE_INVALID_PARAM` for a NULL config, an empty or unterminated
/// SSID, an unknown security type, or a WPA passphrase outside 8..=63 characters; `ERRCODE_FAIL`
/// when the station is not enabled. Otherwise connects in the background (see the module).
#[export_name = "ws63sim_wifi_sta_connect"]
pub extern "C" fn wifi_sta_connect(config: *const wifi_sta_config_stru) -> errcode_t {
    // SAFETY: a non-null config points to a wifi_sta_config_stru (the API's contract).
    let Some(cfg) = (unsafe { config.as_ref() }) else { return sdk::ERRCODE_INVALID_PARAM };
    let Some(ssid) = cstr_field(&cfg.ssid).filter(|s| !s.is_empty()) else {
        return sdk::ERRCODE_INVALID_PARAM;
    };
    let Some(psk) = cstr_field(&cfg.pre_shared_key) else { return sdk::ERRCODE_INVALID_PARAM };
    let sec = cfg.security_type;
    if !(sdk::WIFI_SEC_TYPE_OPEN..sdk::WIFI_SEC_TYPE_UNKNOWN).contains(&sec) {
        return sdk::ERRCODE_INVALID_PARAM;
    }
    if sec != sdk::WIFI_SEC_TYPE_OPEN && !(8..=63).contains(&psk.len()) {
        return sdk::ERRCODE_INVALID_PARAM;
    }
    let ok = with(|s| {
        if !s.enabled {
            return false;
        }
        s.connecting = true;
        true
    });
    if !ok {
        return sdk::ERRCODE_FAIL;
    }
    std::thread::spawn(move || {
        std::thread::sleep(CONNECT_DELAY);
        let fault = faults::take_wifi_connect_failure();
        let (success, callbacks) = with(|s| {
            let matches = s
                .ap
                .as_ref()
                .is_some_and(|(a, p)| *a == ssid && (sec == sdk::WIFI_SEC_TYPE_OPEN || *p == psk));
            let success = matches && !fault && s.enabled;
            s.connecting = false;
            s.connected = success.then(|| ssid.clone());
            if !success {
                s.dhcp_bound_at = None;
            } else if s.dhcp_started {
                s.dhcp_bound_at = Some(Instant::now() + DHCP_DELAY);
            }
            (success, s.callbacks.clone())
        });
        let info = linked_info();
        let state = if success { WIFI_STATE_AVAILABLE } else { WIFI_STATE_NOT_AVAILABLE };
        for cb in callbacks {
            if let Some(f) = cb.wifi_event_connection_changed {
                // SAFETY: a registered callback is a valid function (the API's contract);
                // `info` lives across the call.
                unsafe { f(state, &info, if success { 0 } else { 15 }) };
            }
        }
    });
    sdk::ERRCODE_SUCC
}

/// `wifi_sta_disconnect`.
#[export_name = "ws63sim_wifi_sta_disconnect"]
pub extern "C" fn wifi_sta_disconnect() -> errcode_t {
    with(|s| {
        s.connected = None;
        s.dhcp_bound_at = None;
    });
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

/// `wifi_sta_get_ap_info`: the link state (`conn_state` 1 when connected).
#[export_name = "ws63sim_wifi_sta_get_ap_info"]
pub extern "C" fn wifi_sta_get_ap_info(result: *mut wifi_linked_info_stru) -> errcode_t {
    // SAFETY: a non-null result is writable (the API's contract).
    match unsafe { result.as_mut() } {
        Some(r) => {
            *r = linked_info();
            sdk::ERRCODE_SUCC
        }
        None => sdk::ERRCODE_INVALID_PARAM,
    }
}

/// `wifi_register_event_cb`: the SDK keeps a copy of the callback table.
#[export_name = "ws63sim_wifi_register_event_cb"]
pub extern "C" fn wifi_register_event_cb(event: *const wifi_event_stru) -> errcode_t {
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

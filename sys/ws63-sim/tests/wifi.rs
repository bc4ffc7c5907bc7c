//! The WiFi station API and DHCP on the simulated board, through `ws63-sdk-sys` and `lwip-sys`.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use cmsis_rtos2_sys as _;
use lwip_sys as lw;
use ws63_sdk_sys as sdk;
use ws63_sim as _;

static EVENTS: Mutex<Option<mpsc::Sender<(i32, i32)>>> = Mutex::new(None);

extern "C" fn on_change(state: i32, _info: *const sdk::wifi_linked_info_stru, reason: i32) {
    if let Some(tx) = EVENTS.lock().unwrap().as_ref() {
        let _ = tx.send((state, reason));
    }
}

fn config(ssid: &str, psk: &str, security: sdk::wifi_security_enum) -> sdk::wifi_sta_config_stru {
    let mut c = sdk::wifi_sta_config_stru::default();
    for (d, s) in c.ssid.iter_mut().zip(ssid.bytes()) {
        *d = s as i8;
    }
    for (d, s) in c.pre_shared_key.iter_mut().zip(psk.bytes()) {
        *d = s as i8;
    }
    c.security_type = security;
    c.ip_type = sdk::DHCP;
    c
}

const WPA2: sdk::wifi_security_enum = sdk::WIFI_SEC_TYPE_WPA2PSK;
const OPEN: sdk::wifi_security_enum = sdk::WIFI_SEC_TYPE_OPEN;

fn dhcp_bound(wlan0: *mut lw::netif) {
    let mut waited = 0;
    // SAFETY: plain netif calls with the handle the API returned.
    unsafe {
        while lw::netifapi_dhcp_is_bound(wlan0) == lw::ERR_INPROGRESS {
            assert!(waited < 500, "DHCP never bound");
            cmsis_rtos2_sys::osDelay(1);
            waited += 1;
        }
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_OK);
    }
}

#[test]
fn connecting_is_as_the_sdks_service_and_driver_do_it() {
    use ws63_sim::wifi::{reason, ERROR_WIFI_IFACE_INVALID, INIT_DELAY};
    let _g = ws63_sim::test_lock();
    ws63_sim::faults::Faults { wifi_connect_failures: 1, ..Default::default() }.install();
    ws63_sim::wifi::reset();
    ws63_sim::wifi::set_access_point("bms-lab", "correct horse");
    let (tx, rx) = mpsc::channel();
    *EVENTS.lock().unwrap() = Some(tx);
    let events = sdk::wifi_event_stru {
        wifi_event_connection_changed: Some(on_change),
        ..Default::default()
    };
    let next = || rx.recv_timeout(Duration::from_secs(5)).unwrap();
    // SAFETY: valid pointers to locals for the duration of each call.
    unsafe {
        // WiFi initialises in its own task after power-on: until then the station cannot be
        // enabled.
        assert_eq!(sdk::wifi_is_wifi_inited(), 0);
        assert_eq!(sdk::wifi_sta_enable(), sdk::ERRCODE_FAIL, "still initialising");
        std::thread::sleep(INIT_DELAY);
        assert_eq!(sdk::wifi_is_wifi_inited(), 1);
        assert_eq!(sdk::wifi_register_event_cb(&events), sdk::ERRCODE_SUCC);
        let good = config("bms-lab", "correct horse", WPA2);
        assert_eq!(sdk::wifi_sta_connect(&good), ERROR_WIFI_IFACE_INVALID, "not enabled");
        let mut info = sdk::wifi_linked_info_stru::default();
        assert_eq!(sdk::wifi_sta_get_ap_info(&mut info), ERROR_WIFI_IFACE_INVALID);
        assert_eq!(sdk::wifi_sta_enable(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_sta_enable(), sdk::ERRCODE_FAIL, "already enabled");
        assert_eq!(sdk::wifi_is_sta_enabled(), 1);
        assert_eq!(sdk::wifi_sta_connect(std::ptr::null()), sdk::ERRCODE_FAIL);
        assert_eq!(sdk::wifi_sta_connect(&config("", "correct horse", WPA2)), sdk::ERRCODE_FAIL);
        assert_eq!(sdk::wifi_sta_connect(&config("bms-lab", "", WPA2)), sdk::ERRCODE_FAIL);

        // The injected failure; an open configuration (no key) against the WPA2 access
        // point (the SDK takes the security from its scan); a wrong key; no such network.
        let cases = [
            (good, reason::HANDSHAKE_TIMEOUT),
            (config("bms-lab", "", OPEN), reason::MIC_FAILURE),
            (config("bms-lab", "wrong horse!", WPA2), reason::HANDSHAKE_TIMEOUT),
            (config("other-net", "correct horse", WPA2), reason::NETWORK_NOT_FOUND),
        ];
        for (c, why) in cases {
            assert_eq!(sdk::wifi_sta_connect(&c), sdk::ERRCODE_SUCC);
            assert_eq!(next(), (ws63_sim::wifi::WIFI_STATE_NOT_AVAILABLE, why));
        }
        // The configuration's security type does not matter, the key does: "open" with the
        // right key joins the WPA2 network.
        assert_eq!(sdk::wifi_sta_connect(&config("bms-lab", "correct horse", OPEN)), 0);
        assert_eq!(next(), (ws63_sim::wifi::WIFI_STATE_AVAILABLE, 0));
        assert_eq!(sdk::wifi_sta_get_ap_info(&mut info), sdk::ERRCODE_SUCC);
        assert_eq!(info.conn_state, sdk::WIFI_CONNECTED);

        let wlan0 = lw::netifapi_netif_find_by_name(c"wlan0".as_ptr());
        assert!(!wlan0.is_null());
        assert!(lw::netifapi_netif_find_by_name(c"eth0".as_ptr()).is_null());
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_ARG, "DHCP not started");
        assert_eq!(lw::netifapi_dhcp_start(wlan0), lw::ERR_OK);
        dhcp_bound(wlan0);
        let mut ip = lw::ip4_addr_t::default();
        assert_eq!(
            lw::netifapi_netif_get_addr(wlan0, &mut ip, std::ptr::null_mut(), std::ptr::null_mut()),
            lw::ERR_OK
        );
        assert_eq!(ip.addr.to_ne_bytes(), [127, 0, 0, 1]);

        assert_eq!(sdk::wifi_sta_disconnect(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_sta_get_ap_info(&mut info), sdk::ERRCODE_SUCC);
        assert_eq!(info.conn_state, sdk::WIFI_DISCONNECTED);
        assert_eq!(sdk::wifi_unregister_event_cb(&events), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_unregister_event_cb(&events), sdk::ERRCODE_FAIL);
        assert_eq!(sdk::wifi_sta_disable(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_sta_disable(), sdk::ERRCODE_FAIL, "not enabled");
    }
    ws63_sim::faults::clear();
}

#[test]
fn a_lost_link_is_noticed_late_then_aborts_every_connection() {
    use std::io::{Read as _, Write as _};
    use std::time::Instant;
    use ws63_sim::wifi::{reason, LINK_LOSS_DETECT};
    let _g = ws63_sim::test_lock();
    ws63_sim::faults::clear();
    ws63_sim::wifi::reset();
    ws63_sim::wifi::set_access_point("bms-lab", "correct horse");
    ws63_sim::wifi::bring_up();
    let (tx, rx) = mpsc::channel();
    *EVENTS.lock().unwrap() = Some(tx);
    let events = sdk::wifi_event_stru {
        wifi_event_connection_changed: Some(on_change),
        ..Default::default()
    };
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = lw::sockaddr_in {
        sin_family: lw::AF_INET as _,
        sin_port: l.local_addr().unwrap().port().to_be(),
        sin_addr: lw::in_addr { s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<lw::sockaddr_in>() as lw::socklen_t;
    // SAFETY: plain socket and SDK calls with valid pointers to locals.
    unsafe {
        assert_eq!(sdk::wifi_register_event_cb(&events), sdk::ERRCODE_SUCC);
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        assert_eq!(lw::connect(s, (&a as *const lw::sockaddr_in).cast(), len), 0);
        let (mut peer, _) = l.accept().unwrap();
        peer.write_all(b"ping").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 16, 0), 4);

        let t0 = Instant::now();
        ws63_sim::wifi::drop_link(Duration::from_millis(500));
        // Until the driver notices, the connection is not broken: a receive waits (the
        // peer's bytes do not come through) until the link is reported down, then fails.
        peer.write_all(b"lost").unwrap();
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 16, 0), -1);
        assert_eq!(*lw::__errno_location(), lw::ECONNABORTED as i32);
        assert!(t0.elapsed() >= LINK_LOSS_DETECT, "noticed after {:?}", t0.elapsed());
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(1)).unwrap(),
            (ws63_sim::wifi::WIFI_STATE_NOT_AVAILABLE, reason::BEACON_LOSS)
        );
        assert_eq!(lw::send(s, b"x".as_ptr().cast(), 1, 0), -1);
        assert_eq!(*lw::__errno_location(), lw::ECONNABORTED as i32);
        // lwIP's abort resets the peer's connection.
        assert!(matches!(peer.read(&mut buf), Ok(0) | Err(_)));
        assert_eq!(lw::closesocket(s), 0);
        // No address: no route.
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        assert_eq!(lw::connect(s, (&a as *const lw::sockaddr_in).cast(), len), -1);
        assert_eq!(*lw::__errno_location(), lw::EHOSTUNREACH as i32);
        assert_eq!(lw::closesocket(s), 0);
        // The station stays enabled; once the access point is back, a connect joins again
        // and DHCP (never stopped) binds again.
        assert_eq!(sdk::wifi_is_sta_enabled(), 1);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sdk::wifi_sta_connect(&config("bms-lab", "correct horse", WPA2)), 0);
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            (ws63_sim::wifi::WIFI_STATE_AVAILABLE, 0)
        );
        dhcp_bound(lw::netifapi_netif_find_by_name(c"wlan0".as_ptr()));
        assert_eq!(sdk::wifi_unregister_event_cb(&events), sdk::ERRCODE_SUCC);
    }
    ws63_sim::wifi::reset();
}

//! The WiFi station API and DHCP on the simulated board, through `ws63-sdk-sys` and `lwip-sys`.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use cmsis_rtos2_sys as _;
use lwip_sys as lw;
use ws63_sdk_sys as sdk;
use ws63_sim as _;

static EVENTS: Mutex<Option<mpsc::Sender<i32>>> = Mutex::new(None);

extern "C" fn on_change(state: i32, _info: *const sdk::wifi_linked_info_stru, _reason: i32) {
    if let Some(tx) = EVENTS.lock().unwrap().as_ref() {
        let _ = tx.send(state);
    }
}

fn config(ssid: &str, psk: &str) -> sdk::wifi_sta_config_stru {
    let mut c = sdk::wifi_sta_config_stru::default();
    for (d, s) in c.ssid.iter_mut().zip(ssid.bytes()) {
        *d = s as i8;
    }
    for (d, s) in c.pre_shared_key.iter_mut().zip(psk.bytes()) {
        *d = s as i8;
    }
    c.security_type = sdk::WIFI_SEC_TYPE_WPA2PSK;
    c.ip_type = sdk::DHCP;
    c
}

#[test]
fn connect_reports_through_the_callback_then_dhcp_binds() {
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
    // SAFETY: valid pointers to locals for the duration of each call.
    unsafe {
        assert_eq!(sdk::wifi_register_event_cb(&events), sdk::ERRCODE_SUCC);
        assert_eq!(
            sdk::wifi_sta_connect(&config("bms-lab", "correct horse")),
            sdk::ERRCODE_FAIL,
            "not enabled"
        );
        assert_eq!(sdk::wifi_sta_enable(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_is_sta_enabled(), 1);
        assert_eq!(sdk::wifi_sta_connect(std::ptr::null()), sdk::ERRCODE_INVALID_PARAM);
        assert_eq!(sdk::wifi_sta_connect(&config("", "correct horse")), sdk::ERRCODE_INVALID_PARAM);
        assert_eq!(sdk::wifi_sta_connect(&config("bms-lab", "short")), sdk::ERRCODE_INVALID_PARAM);

        // The injected failure, then a wrong passphrase, then success.
        for (psk, want) in [("correct horse", 0), ("wrong horse!", 0), ("correct horse", 1)] {
            assert_eq!(sdk::wifi_sta_connect(&config("bms-lab", psk)), sdk::ERRCODE_SUCC);
            assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), want, "psk {psk}");
        }
        let mut info = sdk::wifi_linked_info_stru::default();
        assert_eq!(sdk::wifi_sta_get_ap_info(&mut info), sdk::ERRCODE_SUCC);
        assert_eq!(info.conn_state, sdk::WIFI_CONNECTED);

        let wlan0 = lw::netifapi_netif_find_by_name(c"wlan0".as_ptr());
        assert!(!wlan0.is_null());
        assert!(lw::netifapi_netif_find_by_name(c"eth0".as_ptr()).is_null());
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_ARG, "DHCP not started");
        assert_eq!(lw::netifapi_dhcp_start(wlan0), lw::ERR_OK);
        let mut waited = 0;
        while lw::netifapi_dhcp_is_bound(wlan0) == lw::ERR_INPROGRESS {
            assert!(waited < 500, "DHCP never bound");
            cmsis_rtos2_sys::osDelay(1);
            waited += 1;
        }
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_OK);
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
    }
    ws63_sim::faults::clear();
}

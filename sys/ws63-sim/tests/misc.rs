//! The remaining SDK symbols' normal and error paths: shutdown, ioctl, connect without a link,
//! DHCP stop, WiFi disable, the watchdog.

use std::ffi::{c_int, c_void};
use std::io::Read;
use std::mem::size_of;
use std::net::TcpListener;

use lwip_sys as lw;
use ws63_sdk_sys as sdk;
use ws63_sim as _;

mod common;
use common::{errno, sockaddr};

#[test]
fn shutdown_ioctl_and_connect_check_their_arguments() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = sockaddr(l.local_addr().unwrap().port());
    let len = size_of::<lw::sockaddr_in>() as lw::socklen_t;
    // SAFETY: valid descriptors, addresses and buffers.
    unsafe {
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        assert_eq!(lw::connect(s, (&a as *const lw::sockaddr_in).cast(), 4), -1, "short address");
        assert_eq!(errno(), lw::EINVAL as c_int);
        assert_eq!(lw::connect(99, (&a as *const lw::sockaddr_in).cast(), len), -1);
        assert_eq!(errno(), lw::EBADF as c_int);
        assert_eq!(lw::connect(s, (&a as *const lw::sockaddr_in).cast(), len), 0);
        let (mut peer, _) = l.accept().unwrap();
        assert_eq!(lw::shutdown(s, 7), -1);
        assert_eq!(errno(), lw::EINVAL as c_int);
        assert_eq!(lw::shutdown(s, lw::SHUT_WR as _), 0);
        let mut buf = [0u8; 4];
        assert_eq!(peer.read(&mut buf).unwrap(), 0, "the peer sees our end of stream");
        let mut on: c_int = 1;
        assert_eq!(
            lw::ioctlsocket(s, 0x541B, (&mut on as *mut c_int).cast::<c_void>()),
            -1,
            "FIONREAD is not simulated"
        );
        assert_eq!(errno(), lw::EINVAL as c_int);
        assert_eq!(lw::ioctlsocket(s, lw::FIONBIO as _, std::ptr::null_mut()), -1);
        assert_eq!(lw::closesocket(s), 0);

        // No WiFi link: no connection and no DNS.
        assert_eq!(sdk::wifi_sta_disable(), sdk::ERRCODE_SUCC);
        assert_eq!(sdk::wifi_is_sta_enabled(), 0);
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        assert_eq!(lw::connect(s, (&a as *const lw::sockaddr_in).cast(), len), -1);
        assert_eq!(errno(), lw::EHOSTUNREACH as c_int, "lwIP's ERR_RTE: no route");
        let mut res = std::ptr::null_mut();
        assert_eq!(
            lw::getaddrinfo(c"localhost".as_ptr(), std::ptr::null(), std::ptr::null(), &mut res),
            lw::EAI_FAIL
        );
        lw::closesocket(s);
    }
    ws63_sim::wifi::reset();
}

#[test]
fn dhcp_stop_unbinds_and_the_netif_api_refuses_other_interfaces() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    // SAFETY: plain netif calls with the handle the API returned.
    unsafe {
        assert_eq!(sdk::wifi_is_wifi_inited(), 1);
        let wlan0 = lw::netifapi_netif_find_by_name(c"wlan0".as_ptr());
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_OK);
        assert_eq!(lw::netifapi_dhcp_stop(wlan0), lw::ERR_OK);
        assert_eq!(lw::netifapi_dhcp_is_bound(wlan0), lw::ERR_ARG);
        let mut ip = lw::ip4_addr_t { addr: 1 };
        assert_eq!(
            lw::netifapi_netif_get_addr(wlan0, &mut ip, std::ptr::null_mut(), std::ptr::null_mut()),
            lw::ERR_OK
        );
        assert_eq!(ip.addr, 0, "no lease, no address");
        let other = 8usize as *mut lw::netif;
        assert_eq!(lw::netifapi_dhcp_start(other), lw::ERR_ARG);
        assert_eq!(lw::netifapi_dhcp_stop(other), lw::ERR_ARG);
        assert_eq!(
            lw::netifapi_netif_get_addr(other, &mut ip, std::ptr::null_mut(), std::ptr::null_mut()),
            lw::ERR_ARG
        );
        assert!(lw::netifapi_netif_find_by_name(std::ptr::null()).is_null());
    }
    ws63_sim::wifi::reset();
    // SAFETY: as above.
    unsafe {
        assert!(lw::netifapi_netif_find_by_name(c"wlan0".as_ptr()).is_null(), "no station yet");
    }
}

#[test]
fn the_watchdog_kick_is_counted() {
    let before = ws63_sim::board::watchdog_kicks();
    // SAFETY: a plain call.
    unsafe { sdk::upg_watchdog_kick() };
    assert!(ws63_sim::board::watchdog_kicks() > before);
}

#[test]
fn wifi_api_rejects_null_pointers() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    // SAFETY: deliberately null pointers, which the API must refuse.
    unsafe {
        assert_eq!(sdk::wifi_sta_get_ap_info(std::ptr::null_mut()), sdk::ERRCODE_FAIL);
        assert_eq!(sdk::wifi_register_event_cb(std::ptr::null()), sdk::ERRCODE_INVALID_PARAM);
        assert_eq!(sdk::wifi_unregister_event_cb(std::ptr::null()), sdk::ERRCODE_INVALID_PARAM);
    }
}

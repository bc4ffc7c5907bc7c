//! Joining a WiFi network as a station, then getting an address by DHCP (the SDK's sta_sample
//! flow: wait for the WiFi task to have initialised the driver, enable the station, connect,
//! start DHCP). The SDK takes the network's security type from its own scan, not from the
//! configuration; the configured type decides only whether a passphrase is sent (an open
//! configuration sends none, and a secured network then refuses it).

use core::net::Ipv4Addr;
use core::time::Duration;

use lwip_sys as lw;
use ws63_sdk_sys as sdk;

use crate::error::Error;
#[cfg(not(feature = "emulator-net"))]
use crate::error::SdkError;
use crate::thread::sleep;
use crate::time::Instant;

/// The station's network interface.
#[cfg(not(feature = "emulator-net"))]
const STA_IFNAME: &core::ffi::CStr = c"wlan0";

/// How the network is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No passphrase.
    Open,
    /// WPA2-PSK.
    Wpa2Psk,
    /// WPA2/WPA3 mixed.
    Wpa3Wpa2Mix,
    /// WPA3-SAE.
    Wpa3Sae,
}

#[cfg(not(feature = "emulator-net"))]
impl Security {
    fn raw(self) -> sdk::wifi_security_enum {
        match self {
            Security::Open => sdk::WIFI_SEC_TYPE_OPEN,
            Security::Wpa2Psk => sdk::WIFI_SEC_TYPE_WPA2PSK,
            Security::Wpa3Wpa2Mix => sdk::WIFI_SEC_TYPE_WPA3_WPA2_PSK_MIX,
            Security::Wpa3Sae => sdk::WIFI_SEC_TYPE_SAE,
        }
    }
}

/// A network to join.
#[derive(Debug, Clone, Copy)]
pub struct StaConfig<'a> {
    /// 1 to 32 bytes.
    pub ssid: &'a str,
    /// 8 to 63 characters unless the network is open.
    pub passphrase: &'a str,
    /// How the network is secured.
    pub security: Security,
}

#[cfg(not(feature = "emulator-net"))]
fn copy_field(dst: &mut [i8], src: &str) {
    for (d, s) in dst.iter_mut().zip(src.bytes()) {
        *d = s as i8;
    }
}

#[cfg(not(feature = "emulator-net"))]
fn link_state() -> Option<sdk::wifi_conn_state_enum> {
    let mut info = sdk::wifi_linked_info_stru::default();
    // SAFETY: `info` is valid and writable.
    let rc = unsafe { sdk::wifi_sta_get_ap_info(&mut info) };
    (rc == sdk::ERRCODE_SUCC).then_some(info.conn_state)
}

/// Whether the station is connected to a network.
pub fn link_up() -> bool {
    #[cfg(feature = "emulator-net")]
    {
        emulator::link_up()
    }
    #[cfg(not(feature = "emulator-net"))]
    {
        link_state() == Some(sdk::WIFI_CONNECTED)
    }
}

/// Connects to `cfg`'s network and waits (at most `timeout` in all) for the link and a DHCP
/// lease; returns the station's address.
///
/// # Errors
/// `InvalidArgument` for an SSID or passphrase of the wrong length (before the radio is
/// touched); [`Error::WifiRejected`] when the network refuses us; [`Error::TimedOut`];
/// the SDK's code.
pub fn connect(cfg: &StaConfig<'_>, timeout: Duration) -> Result<Ipv4Addr, Error> {
    if cfg.ssid.is_empty() || cfg.ssid.len() >= sdk::WIFI_MAX_SSID_LEN as usize {
        return Err(Error::InvalidArgument("SSID must be 1 to 32 bytes"));
    }
    let open = cfg.security == Security::Open;
    if !open && !(8..=63).contains(&cfg.passphrase.len()) {
        return Err(Error::InvalidArgument("passphrase must be 8 to 63 characters"));
    }
    if cfg.ssid.contains('\0') || cfg.passphrase.contains('\0') {
        return Err(Error::InvalidArgument("SSID or passphrase with a NUL"));
    }
    join(cfg, Instant::now(), timeout)
}

/// The emulator's part of [`connect`]: its NIC up, then DHCP on it.
#[cfg(feature = "emulator-net")]
fn join(_cfg: &StaConfig<'_>, start: Instant, timeout: Duration) -> Result<Ipv4Addr, Error> {
    let ip = dhcp(emulator::net_up()?, start, timeout)?;
    emulator::UP.store(true, core::sync::atomic::Ordering::Relaxed);
    Ok(ip)
}

/// The radio's part of [`connect`]: the station joins the network, then DHCP on `wlan0`.
#[cfg(not(feature = "emulator-net"))]
fn join(cfg: &StaConfig<'_>, start: Instant, timeout: Duration) -> Result<Ipv4Addr, Error> {
    let open = cfg.security == Security::Open;
    // WiFi initialises in its own task after boot; until then enabling the station fails.
    // SAFETY: a plain SDK call.
    while unsafe { sdk::wifi_is_wifi_inited() } == 0 {
        if start.elapsed() >= timeout {
            return Err(Error::TimedOut);
        }
        sleep(Duration::from_millis(10));
    }
    // SAFETY: plain SDK calls (enabling an enabled station fails, hence the check).
    unsafe {
        if sdk::wifi_is_sta_enabled() == 0 {
            SdkError::check(sdk::wifi_sta_enable())?;
        }
    }
    let mut c = sdk::wifi_sta_config_stru::default();
    copy_field(&mut c.ssid, cfg.ssid);
    if !open {
        copy_field(&mut c.pre_shared_key, cfg.passphrase);
    }
    c.security_type = cfg.security.raw();
    c.ip_type = sdk::DHCP;
    // SAFETY: `c` is a valid, NUL-terminated (zero-filled beyond the copied bytes) config.
    SdkError::check(unsafe { sdk::wifi_sta_connect(&c) })?;

    let mut seen_connecting = false;
    loop {
        match link_state() {
            Some(sdk::WIFI_CONNECTED) => break,
            Some(sdk::WIFI_CONNECTING) => seen_connecting = true,
            Some(_) if seen_connecting => return Err(Error::WifiRejected),
            _ => {}
        }
        if start.elapsed() >= timeout {
            return Err(Error::TimedOut);
        }
        sleep(Duration::from_millis(10));
    }

    // SAFETY: a valid NUL-terminated interface name.
    let netif = unsafe { lw::netifapi_netif_find_by_name(STA_IFNAME.as_ptr()) };
    if netif.is_null() {
        return Err(Error::InvalidArgument("no wlan0 interface"));
    }
    dhcp(netif, start, timeout)
}

/// Starts DHCP on `netif` and waits for a lease until `timeout` after `start`; returns the
/// address.
fn dhcp(netif: *mut lw::netif, start: Instant, timeout: Duration) -> Result<Ipv4Addr, Error> {
    // SAFETY: `netif` is an interface the stack returned (non-null, registered for good).
    let rc = unsafe { lw::netifapi_dhcp_start(netif) };
    if rc != lw::ERR_OK {
        return Err(Error::InvalidArgument("DHCP would not start"));
    }
    loop {
        // SAFETY: as above.
        if unsafe { lw::netifapi_dhcp_is_bound(netif) } == lw::ERR_OK {
            break;
        }
        if start.elapsed() >= timeout {
            return Err(Error::TimedOut);
        }
        sleep(Duration::from_millis(10));
    }
    let mut ip = lw::ip4_addr_t::default();
    // SAFETY: `ip` is writable; the other outputs are optional.
    unsafe {
        lw::netifapi_netif_get_addr(netif, &mut ip, core::ptr::null_mut(), core::ptr::null_mut())
    };
    // lwIP keeps addresses in network byte order.
    Ok(Ipv4Addr::from(u32::from_be(ip.addr)))
}

/// The emulator lane's board mode (feature `emulator-net`, chip builds for `.ci/emulate`
/// only): there is no radio in the WS63 emulator, so "joining WiFi" brings up the emulator's
/// Ethernet NIC instead, through the lane's C driver (`.ci/emulator/ws63_test_caller/
/// netmac_netif.c`, linked into the emulator's images only), and DHCP runs on it as on `wlan0`.
#[cfg(feature = "emulator-net")]
mod emulator {
    use core::sync::atomic::{AtomicBool, Ordering};

    use lwip_sys as lw;

    use crate::error::Error;

    /// Set once the interface has an address.
    pub(super) static UP: AtomicBool = AtomicBool::new(false);

    extern "C" {
        /// The lane's driver: registers the NIC's interface with lwIP, brings it up and
        /// starts its receive thread; the same interface on later calls; NULL on failure.
        fn ws63_emu_net_up() -> *mut lw::netif;
    }

    /// The NIC's interface, up.
    pub(super) fn net_up() -> Result<*mut lw::netif, Error> {
        // SAFETY: the driver takes no arguments, is called from a thread (it creates one and
        // calls netifapi, which waits for the tcpip thread), and returns a pointer to its
        // static interface or NULL.
        let netif = unsafe { ws63_emu_net_up() };
        if netif.is_null() {
            return Err(Error::InvalidArgument("the emulator's NIC would not come up"));
        }
        Ok(netif)
    }

    /// The emulator's link never drops once up.
    pub(super) fn link_up() -> bool {
        UP.load(Ordering::Relaxed)
    }
}

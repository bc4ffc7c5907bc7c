//! How the gateway logs in to the broker.
//!
//! Huawei Cloud IoTDA (a device secret is configured): client id
//! `{device_id}_0_0_{YYYYMMDDHH}`, user name the device id, password the hex HMAC-SHA256 of the
//! secret keyed with the same timestamp. The `0` sign type tells IoTDA not to check the
//! timestamp against its clock, which the gateway (no RTC) needs; the fixed
//! [`IOTDA_TIMESTAMP`] is used. Other brokers: the configured user name and password, client
//! id the device id.

use alloc::format;
use alloc::string::String;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Mqtt;
use crate::mqtt::Options;

/// The timestamp of IoTDA logins (`YYYYMMDDHH`; not checked with sign type 0).
pub const IOTDA_TIMESTAMP: &str = "1970010100";

/// Hex HMAC-SHA256 of `message` with `key`.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The MQTT login for `cfg`.
pub fn options(cfg: &Mqtt) -> Options {
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    if cfg.device_secret.is_empty() {
        Options {
            client_id: cfg.device_id.clone(),
            username: opt(&cfg.username),
            password: opt(&cfg.password),
            keep_alive: cfg.keep_alive,
        }
    } else {
        Options {
            client_id: format!("{}_0_0_{IOTDA_TIMESTAMP}", cfg.device_id),
            username: Some(cfg.device_id.clone()),
            password: Some(hmac_sha256_hex(
                IOTDA_TIMESTAMP.as_bytes(),
                cfg.device_secret.as_bytes(),
            )),
            keep_alive: cfg.keep_alive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn iotda_and_plain_logins() {
        let mut c = Config::default().mqtt;
        c.device_id = "bms_gw_01".into();
        c.username = "u".into();
        c.password = "p".into();
        let plain = options(&c);
        assert_eq!(
            (plain.client_id.as_str(), plain.username.as_deref(), plain.password.as_deref()),
            ("bms_gw_01", Some("u"), Some("p"))
        );
        c.device_secret = "s3cret".into();
        let iot = options(&c);
        assert_eq!(iot.client_id, "bms_gw_01_0_0_1970010100");
        assert_eq!(iot.username.as_deref(), Some("bms_gw_01"));
        assert_eq!(iot.password.as_deref().map(str::len), Some(64));
        assert_eq!(iot.password.unwrap(), hmac_sha256_hex(b"1970010100", b"s3cret"));
    }
}

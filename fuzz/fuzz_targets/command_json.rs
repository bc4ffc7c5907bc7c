//! Command payloads from the network: parsing, the OTA's parameters, the events, and the
//! responses built from whatever came in must never panic, and responses must be JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mqtt_cmd::command::{self, OtaUpgrade};

fuzz_target!(|data: &[u8]| {
    let resp = match command::parse(data) {
        Ok(c) => match OtaUpgrade::from_paras(&c.paras) {
            Ok(o) => OtaUpgrade::rejected("busy", Some(o.version)),
            Err(e) => OtaUpgrade::rejected("bad_request", Some(e)),
        },
        Err(e) => e.response(),
    };
    let json = resp.to_json();
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok(), "{json}");
    let _ = mqtt_cmd::event::parse(data);
});

//! Topics from the broker: classification never panics, and an accepted request id can never
//! change the response topic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mqtt_cmd::topic::{Inbound, Topics};

fuzz_target!(|data: &[u8]| {
    let Ok(topic) = std::str::from_utf8(data) else { return };
    let t = Topics::iotda("bms_gw_01");
    if let Ok(Inbound::Command { request_id }) = t.parse(topic) {
        let resp = t.command_response(request_id);
        assert!(resp.starts_with("$oc/devices/bms_gw_01/sys/commands/response/request_id="));
        assert!(!request_id.contains(['/', '+', '#', '\0']));
    }
});

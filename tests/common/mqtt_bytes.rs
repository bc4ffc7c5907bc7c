//! MQTT 3.1.1 packets as raw bytes, for tests that play a hostile broker or a man in the
//! middle: they must write what no validating builder would (packet id 0, lengths the
//! receiver refuses). Shared by the root end-to-end tests and the gateway's tests.
#![allow(dead_code)]

/// The Remaining Length field for `n` (1 to 4 bytes).
pub fn remaining_length(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut d = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            d |= 0x80;
        }
        out.push(d);
        if n == 0 {
            return out;
        }
    }
}

/// A PUBLISH up to its payload: fixed header, topic and, for QoS 1, the packet id. The
/// payload (`payload_len` bytes) is the caller's to write after it.
pub fn publish_head(topic: &str, qos1_id: Option<u16>, payload_len: usize) -> Vec<u8> {
    let id_len = if qos1_id.is_some() { 2 } else { 0 };
    let mut p = vec![if qos1_id.is_some() { 0x32 } else { 0x30 }];
    p.extend(remaining_length(2 + topic.len() + id_len + payload_len));
    p.extend((topic.len() as u16).to_be_bytes());
    p.extend(topic.as_bytes());
    if let Some(id) = qos1_id {
        p.extend(id.to_be_bytes());
    }
    p
}

/// A whole PUBLISH.
pub fn publish(topic: &str, qos1_id: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut p = publish_head(topic, qos1_id, payload.len());
    p.extend(payload);
    p
}

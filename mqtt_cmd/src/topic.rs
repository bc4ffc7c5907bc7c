//! Huawei Cloud IoTDA topics.
//!
//! ```text
//! commands in   $oc/devices/{device_id}/sys/commands/request_id={rid}
//! responses out $oc/devices/{device_id}/sys/commands/response/request_id={rid}
//! events in     $oc/devices/{device_id}/sys/events/down
//! events out    $oc/devices/{device_id}/sys/events/up
//! ```

use alloc::format;
use alloc::string::String;

/// Longest request id accepted.
pub const MAX_REQUEST_ID: usize = 64;

/// A topic the gateway receives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// A command, with the request id to answer.
    Command {
        /// The request id from the topic.
        request_id: &'a str,
    },
    /// Platform events (`$ota` and others).
    EventsDown,
}

/// Why a topic is not one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// Another device's, or not an IoTDA device topic.
    NotOurs,
    /// A command topic whose request id is empty, too long, or has characters that could
    /// change the response topic.
    BadRequestId,
    /// One of ours that the gateway does not handle.
    Unhandled,
}

/// The request ids we answer: letters, digits, `-`, `_`, `.`; nothing that could alter the
/// response topic (`/`, `+`, `#`, NUL).
pub fn valid_request_id(rid: &str) -> bool {
    !rid.is_empty()
        && rid.len() <= MAX_REQUEST_ID
        && rid.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Classifies a received topic.
///
/// # Errors
/// See [`TopicError`].
pub fn parse<'a>(device_id: &str, topic: &'a str) -> Result<Inbound<'a>, TopicError> {
    let rest = topic
        .strip_prefix("$oc/devices/")
        .and_then(|r| r.strip_prefix(device_id))
        .and_then(|r| r.strip_prefix("/sys/"))
        .ok_or(TopicError::NotOurs)?;
    if rest == "events/down" {
        return Ok(Inbound::EventsDown);
    }
    if let Some(rid) = rest.strip_prefix("commands/request_id=") {
        return if valid_request_id(rid) {
            Ok(Inbound::Command { request_id: rid })
        } else {
            Err(TopicError::BadRequestId)
        };
    }
    Err(TopicError::Unhandled)
}

/// The subscription for commands.
pub fn commands_filter(device_id: &str) -> String {
    format!("$oc/devices/{device_id}/sys/commands/#")
}

/// The topic platform events arrive on.
pub fn events_down(device_id: &str) -> String {
    format!("$oc/devices/{device_id}/sys/events/down")
}

/// The topic device events go to.
pub fn events_up(device_id: &str) -> String {
    format!("$oc/devices/{device_id}/sys/events/up")
}

/// The topic a command's response goes to.
pub fn command_response(device_id: &str, request_id: &str) -> String {
    format!("$oc/devices/{device_id}/sys/commands/response/request_id={request_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_classified_and_request_ids_cannot_escape() {
        let id = "bms_gw_01";
        assert_eq!(
            parse(id, "$oc/devices/bms_gw_01/sys/commands/request_id=a1-b2_c3.4"),
            Ok(Inbound::Command { request_id: "a1-b2_c3.4" })
        );
        assert_eq!(parse(id, "$oc/devices/bms_gw_01/sys/events/down"), Ok(Inbound::EventsDown));
        assert_eq!(parse(id, "$oc/devices/other/sys/events/down"), Err(TopicError::NotOurs));
        assert_eq!(parse(id, "$oc/devices/bms_gw_010/sys/events/down"), Err(TopicError::NotOurs));
        assert_eq!(parse(id, "x"), Err(TopicError::NotOurs));
        for bad in ["", "a/b", "a+b", "a#", &"x".repeat(65), "a b", "a\0"] {
            let t = format!("$oc/devices/bms_gw_01/sys/commands/request_id={bad}");
            assert_eq!(parse(id, &t), Err(TopicError::BadRequestId), "{bad:?}");
        }
        assert_eq!(
            parse(id, "$oc/devices/bms_gw_01/sys/properties/report"),
            Err(TopicError::Unhandled)
        );
        assert_eq!(
            command_response(id, "r1"),
            "$oc/devices/bms_gw_01/sys/commands/response/request_id=r1"
        );
        assert_eq!(commands_filter(id), "$oc/devices/bms_gw_01/sys/commands/#");
        assert_eq!(events_up(id), "$oc/devices/bms_gw_01/sys/events/up");
    }
}

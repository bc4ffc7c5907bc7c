//! The gateway's topics. By default Huawei Cloud IoTDA's:
//!
//! ```text
//! commands in   $oc/devices/{device_id}/sys/commands/request_id={rid}
//! responses out $oc/devices/{device_id}/sys/commands/response/request_id={rid}
//! events in     $oc/devices/{device_id}/sys/events/down
//! events out    $oc/devices/{device_id}/sys/events/up
//! ```
//!
//! The root (`$oc/devices/{device_id}/sys`) is configurable: MQTT reserves topics starting
//! with `$` for the broker's own use, and brokers other than IoTDA (rumqttd, for one) refuse
//! subscriptions to them, so for those the gateway runs under a root such as
//! `oc/devices/{device_id}/sys` with everything else unchanged.

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
    /// Another device's, or not under our root.
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

/// The topics of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    root: String,
}

impl Topics {
    /// IoTDA's topics for `device_id`.
    pub fn iotda(device_id: &str) -> Self {
        Self { root: format!("$oc/devices/{device_id}/sys") }
    }

    /// Topics under `root` (`{device_id}` in it is replaced).
    pub fn with_root(root: &str, device_id: &str) -> Self {
        Self { root: root.replace("{device_id}", device_id).trim_end_matches('/').into() }
    }

    /// The root.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Classifies a received topic.
    ///
    /// # Errors
    /// See [`TopicError`].
    pub fn parse<'a>(&self, topic: &'a str) -> Result<Inbound<'a>, TopicError> {
        let rest = topic
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
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
    pub fn commands_filter(&self) -> String {
        format!("{}/commands/#", self.root)
    }

    /// The topic platform events arrive on.
    pub fn events_down(&self) -> String {
        format!("{}/events/down", self.root)
    }

    /// The topic device events go to.
    pub fn events_up(&self) -> String {
        format!("{}/events/up", self.root)
    }

    /// The topic a command's response goes to.
    pub fn command_response(&self, request_id: &str) -> String {
        format!("{}/commands/response/request_id={request_id}", self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_classified_and_request_ids_cannot_escape() {
        let t = Topics::iotda("bms_gw_01");
        assert_eq!(
            t.parse("$oc/devices/bms_gw_01/sys/commands/request_id=a1-b2_c3.4"),
            Ok(Inbound::Command { request_id: "a1-b2_c3.4" })
        );
        assert_eq!(t.parse("$oc/devices/bms_gw_01/sys/events/down"), Ok(Inbound::EventsDown));
        assert_eq!(t.parse("$oc/devices/other/sys/events/down"), Err(TopicError::NotOurs));
        assert_eq!(t.parse("$oc/devices/bms_gw_010/sys/events/down"), Err(TopicError::NotOurs));
        assert_eq!(t.parse("x"), Err(TopicError::NotOurs));
        for bad in ["", "a/b", "a+b", "a#", &"x".repeat(65), "a b", "a\0"] {
            let topic = format!("$oc/devices/bms_gw_01/sys/commands/request_id={bad}");
            assert_eq!(t.parse(&topic), Err(TopicError::BadRequestId), "{bad:?}");
        }
        assert_eq!(
            t.parse("$oc/devices/bms_gw_01/sys/properties/report"),
            Err(TopicError::Unhandled)
        );
        assert_eq!(
            t.command_response("r1"),
            "$oc/devices/bms_gw_01/sys/commands/response/request_id=r1"
        );
        assert_eq!(t.commands_filter(), "$oc/devices/bms_gw_01/sys/commands/#");
        assert_eq!(t.events_up(), "$oc/devices/bms_gw_01/sys/events/up");
        let o = Topics::with_root("oc/devices/{device_id}/sys/", "d");
        assert_eq!(o.events_down(), "oc/devices/d/sys/events/down");
        assert_eq!(
            o.parse("oc/devices/d/sys/commands/request_id=1"),
            Ok(Inbound::Command { request_id: "1" })
        );
    }
}

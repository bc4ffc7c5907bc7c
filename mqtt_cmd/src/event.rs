//! IoTDA `$ota` events: what the platform sends down (`version_query`, `firmware_upgrade` for a
//! package stored in IoTDA, `firmware_upgrade_v2` for one in OBS, whose URL needs no token) and
//! what the gateway reports up (`version_report`, `upgrade_progress_report`).
//!
//! ```text
//! down {"object_device_id":"d","services":[{"service_id":"$ota","event_type":"version_query",
//!       "paras":{}}]}
//!      {"services":[{"service_id":"$ota","event_type":"firmware_upgrade","paras":{
//!       "version":"1.0.1","url":"http://...","file_size":123,"access_token":"...",
//!       "expires":86400,"sign":"<sha256 hex>","task_id":"..."}}]}
//! up   {"object_device_id":"d","services":[{"service_id":"$ota","event_type":"version_report",
//!       "paras":{"sw_version":"1.0.1","fw_version":"1.0.1"}}]}
//!      {"object_device_id":"d","services":[{"service_id":"$ota",
//!       "event_type":"upgrade_progress_report","paras":{"result_code":0,"progress":40,
//!       "version":"1.0.1","description":"downloading"}}]}
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use crate::command::{ParseError, MAX_PAYLOAD};
use crate::json;

/// The OTA service's id.
pub const OTA_SERVICE: &str = "$ota";

/// A `firmware_upgrade` (or `firmware_upgrade_v2`) event's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareUpgrade {
    /// Target version.
    pub version: String,
    /// Package URL.
    pub url: String,
    /// Package size.
    pub file_size: Option<u32>,
    /// Bearer token for the download.
    pub access_token: Option<String>,
    /// Token lifetime in seconds.
    pub expires: Option<u32>,
    /// The package's SHA-256 (hex).
    pub sign: Option<String>,
    /// The platform's task id.
    pub task_id: Option<String>,
}

/// One event the gateway understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Report the version.
    VersionQuery,
    /// Upgrade.
    FirmwareUpgrade(FirmwareUpgrade),
    /// An `$ota` event with bad parameters: the text says what.
    BadFirmwareUpgrade(String),
    /// Another service's or type's event (ignored).
    Other {
        /// Its service id.
        service_id: String,
        /// Its event type.
        event_type: String,
    },
}

/// Parses an events/down payload into its events.
///
/// # Errors
/// Oversized, not JSON, or without a `services` array.
pub fn parse(payload: &[u8]) -> Result<Vec<Event>, ParseError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(ParseError::TooLarge(payload.len()));
    }
    if crate::json::too_deep(payload) {
        return Err(ParseError::TooDeep);
    }
    let v: Value = serde_json::from_slice(payload).map_err(|_| ParseError::Malformed)?;
    let services = v
        .get("services")
        .and_then(Value::as_array)
        .ok_or(ParseError::BadShape(None, "services must be an array"))?;
    let mut out = Vec::new();
    for s in services {
        let service_id = s.get("service_id").and_then(Value::as_str).unwrap_or_default();
        let event_type = s.get("event_type").and_then(Value::as_str).unwrap_or_default();
        let empty = serde_json::Map::new();
        let paras = s.get("paras").and_then(Value::as_object).unwrap_or(&empty);
        out.push(match (service_id, event_type) {
            (OTA_SERVICE, "version_query") => Event::VersionQuery,
            (OTA_SERVICE, "firmware_upgrade" | "firmware_upgrade_v2") => {
                match firmware_upgrade(paras) {
                    Ok(f) => Event::FirmwareUpgrade(f),
                    Err(e) => Event::BadFirmwareUpgrade(e),
                }
            }
            _ => Event::Other { service_id: service_id.into(), event_type: event_type.into() },
        });
    }
    Ok(out)
}

fn firmware_upgrade(p: &serde_json::Map<String, Value>) -> Result<FirmwareUpgrade, String> {
    Ok(FirmwareUpgrade {
        version: json::opt_str(p, "version")?.ok_or("version is missing")?.into(),
        url: json::opt_str(p, "url")?.ok_or("url is missing")?.into(),
        file_size: json::opt_u32(p, "file_size")?,
        access_token: json::opt_str(p, "access_token")?.map(Into::into),
        expires: json::opt_u32(p, "expires")?,
        sign: json::opt_str(p, "sign")?.map(Into::into),
        task_id: json::opt_str(p, "task_id")?.map(Into::into),
    })
}

fn ota_event(device_id: &str, event_type: &str, paras: String) -> String {
    let service = json::object(&[
        ("service_id", json::string(OTA_SERVICE)),
        ("event_type", json::string(event_type)),
        ("paras", paras),
    ]);
    json::object(&[
        ("object_device_id", json::string(device_id)),
        ("services", alloc::format!("[{service}]")),
    ])
}

/// The `version_report` event.
pub fn version_report(device_id: &str, version: &str) -> String {
    ota_event(
        device_id,
        "version_report",
        json::object(&[
            ("sw_version", json::string(version)),
            ("fw_version", json::string(version)),
        ]),
    )
}

/// The `upgrade_progress_report` event: an IoTDA result code, progress 0 to 100, the target
/// version, and a description.
pub fn upgrade_progress_report(
    device_id: &str,
    result_code: u8,
    progress: u8,
    version: &str,
    description: &str,
) -> String {
    ota_event(
        device_id,
        "upgrade_progress_report",
        json::object(&[
            ("result_code", result_code.to_string()),
            ("progress", progress.min(100).to_string()),
            ("version", json::string(version)),
            ("description", json::string(description)),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ota_events_are_recognised_and_others_kept_apart() {
        let down = br#"{"object_device_id":"d","services":[
            {"service_id":"$ota","event_type":"version_query","paras":{}},
            {"service_id":"$ota","event_type":"firmware_upgrade","paras":{"version":"1.0.1","url":"http://h/u","file_size":1024,"access_token":"t","expires":86400,"sign":"AB","task_id":"k"}},
            {"service_id":"$ota","event_type":"firmware_upgrade","paras":{"version":"1.0.1"}},
            {"service_id":"$time_sync","event_type":"time_sync_response","paras":{}},
            {"service_id":"$ota","event_type":"firmware_upgrade_v2","paras":{"version":"1.0.2","url":"https://obs/p?s=1","file_size":2048,"file_name":"p.fwpkg","sign":"CD"}},
            {"service_id":"$ota","event_type":"software_upgrade","paras":{"version":"1.0.3","url":"https://h/u"}}]}"#;
        let ev = parse(down).unwrap();
        assert_eq!(ev[0], Event::VersionQuery);
        let Event::FirmwareUpgrade(f) = &ev[1] else { panic!("{:?}", ev[1]) };
        assert_eq!(
            (f.file_size, f.sign.as_deref(), f.access_token.as_deref()),
            (Some(1024), Some("AB"), Some("t"))
        );
        assert_eq!(ev[2], Event::BadFirmwareUpgrade("url is missing".into()));
        assert!(matches!(&ev[3], Event::Other { service_id, .. } if service_id == "$time_sync"));
        // OBS's variant: the same parameters without a token.
        let Event::FirmwareUpgrade(v2) = &ev[4] else { panic!("{:?}", ev[4]) };
        assert_eq!(
            (v2.version.as_str(), v2.url.as_str(), v2.sign.as_deref(), v2.access_token.as_deref()),
            ("1.0.2", "https://obs/p?s=1", Some("CD"), None)
        );
        assert!(
            matches!(&ev[5], Event::Other { event_type, .. } if event_type == "software_upgrade")
        );
        assert_eq!(parse(b"{}").unwrap_err().reason(), "bad_request");
        assert_eq!(parse(b"nope").unwrap_err(), ParseError::Malformed);
    }

    #[test]
    fn reports_have_iotdas_shape() {
        assert_eq!(
            version_report("d1", "1.0.1"),
            r#"{"object_device_id":"d1","services":[{"service_id":"$ota","event_type":"version_report","paras":{"sw_version":"1.0.1","fw_version":"1.0.1"}}]}"#
        );
        let r = upgrade_progress_report("d1", 6, 140, "2.0", "download timed out");
        let v: Value = serde_json::from_str(&r).unwrap();
        let p = &v["services"][0]["paras"];
        assert_eq!((p["result_code"].as_u64(), p["progress"].as_u64()), (Some(6), Some(100)));
        assert_eq!(v["services"][0]["event_type"], "upgrade_progress_report");
    }
}

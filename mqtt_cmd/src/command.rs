//! Commands and their responses, in the C original's JSON.
//!
//! ```text
//! in   {"command_name":"ota_upgrade","paras":{"version":"1.0.1"}}
//!      (paras may also carry "url", "sha256", "size")
//! out  {"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}
//!      {"result_code":1,"response_name":"ota_upgrade","paras":{"result":"ota_start_failed",
//!       "reason":"busy"}}
//!      {"result_code":1,"response_name":"reboot","paras":{"result":"unsupported_command"}}
//!      {"result_code":1,"response_name":"unknown","paras":{"result":"bad_request",
//!       "reason":"malformed_json"}}
//! ```
//!
//! Failures carry a machine-readable `reason` (`busy`, `bad_request`, `same_version`,
//! `internal`, ...) and, where it helps, a human `detail`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::json;

/// The largest command payload accepted.
pub const MAX_PAYLOAD: usize = 4096;

/// The command name of the OTA.
pub const OTA_UPGRADE: &str = "ota_upgrade";

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `command_name`.
    pub name: String,
    /// `paras` (an empty object when absent).
    pub paras: Map<String, Value>,
}

/// Why a payload is no command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Longer than [`MAX_PAYLOAD`].
    TooLarge(usize),
    /// Not JSON (or not UTF-8).
    Malformed,
    /// Arrays and objects nested deeper than [`crate::json::MAX_DEPTH`].
    TooDeep,
    /// JSON, but not an object with a string `command_name` and an object `paras`; the
    /// command's name when it had one.
    BadShape(Option<String>, &'static str),
}

impl ParseError {
    /// The `reason` to answer with.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::TooLarge(_) => "payload_too_large",
            ParseError::Malformed => "malformed_json",
            ParseError::TooDeep => "nesting_too_deep",
            ParseError::BadShape(..) => "bad_request",
        }
    }

    /// The response to a payload that failed to parse.
    pub fn response(&self) -> Response {
        let (name, detail) = match self {
            ParseError::TooLarge(n) => {
                ("unknown".to_string(), Some(format!("{n} bytes, at most {MAX_PAYLOAD}")))
            }
            ParseError::Malformed => ("unknown".to_string(), None),
            ParseError::TooDeep => (
                "unknown".to_string(),
                Some(format!("more than {} levels of nesting", crate::json::MAX_DEPTH)),
            ),
            ParseError::BadShape(name, why) => {
                (name.clone().unwrap_or_else(|| "unknown".into()), Some((*why).to_string()))
            }
        };
        Response::failed(&name, "bad_request", self.reason(), detail)
    }
}

/// Parses a command payload.
///
/// # Errors
/// See [`ParseError`].
pub fn parse(payload: &[u8]) -> Result<Command, ParseError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(ParseError::TooLarge(payload.len()));
    }
    if crate::json::too_deep(payload) {
        return Err(ParseError::TooDeep);
    }
    let v: Value = serde_json::from_slice(payload).map_err(|_| ParseError::Malformed)?;
    let Value::Object(mut obj) = v else {
        return Err(ParseError::BadShape(None, "the command must be a JSON object"));
    };
    let name = match obj.remove("command_name") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => s,
        Some(Value::String(_)) => {
            return Err(ParseError::BadShape(None, "command_name must be 1 to 64 characters"))
        }
        Some(_) => return Err(ParseError::BadShape(None, "command_name must be a string")),
        None => return Err(ParseError::BadShape(None, "command_name is missing")),
    };
    let paras = match obj.remove("paras") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ParseError::BadShape(Some(name), "paras must be an object")),
    };
    Ok(Command { name, paras })
}

/// A command's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0 for success, 1 for failure (as the original).
    pub result_code: u8,
    /// The command it answers.
    pub response_name: String,
    /// `paras.result`.
    pub result: String,
    /// `paras.reason`, for failures.
    pub reason: Option<String>,
    /// `paras.detail`, a human explanation.
    pub detail: Option<String>,
}

impl Response {
    /// A success.
    pub fn ok(name: &str, result: &str) -> Self {
        Self {
            result_code: 0,
            response_name: name.into(),
            result: result.into(),
            reason: None,
            detail: None,
        }
    }

    /// A failure.
    pub fn failed(name: &str, result: &str, reason: &str, detail: Option<String>) -> Self {
        Self {
            result_code: 1,
            response_name: name.into(),
            result: result.into(),
            reason: Some(reason.into()),
            detail,
        }
    }

    /// The answer to a command no handler knows.
    pub fn unsupported(name: &str) -> Self {
        Self {
            result_code: 1,
            response_name: name.into(),
            result: "unsupported_command".into(),
            reason: None,
            detail: None,
        }
    }

    /// The JSON, keys in the original's order.
    pub fn to_json(&self) -> String {
        let mut paras: Vec<(&str, String)> = Vec::from([("result", json::string(&self.result))]);
        if let Some(r) = &self.reason {
            paras.push(("reason", json::string(r)));
        }
        if let Some(d) = &self.detail {
            paras.push(("detail", json::string(d)));
        }
        json::object(&[
            ("result_code", self.result_code.to_string()),
            ("response_name", json::string(&self.response_name)),
            ("paras", json::object(&paras)),
        ])
    }
}

/// The OTA command's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaUpgrade {
    /// The version to install.
    pub version: String,
    /// Where the package is (else the configured URL template).
    pub url: Option<String>,
    /// The package's SHA-256, hex.
    pub sha256: Option<String>,
    /// The package's size.
    pub size: Option<u32>,
}

impl OtaUpgrade {
    /// Reads `paras` of an `ota_upgrade` command.
    ///
    /// # Errors
    /// A text naming the missing or mistyped field.
    pub fn from_paras(p: &Map<String, Value>) -> Result<Self, String> {
        let version = json::opt_str(p, "version")?.ok_or("version is missing")?;
        Ok(Self {
            version: version.into(),
            url: json::opt_str(p, "url")?.map(Into::into),
            sha256: json::opt_str(p, "sha256")?.map(Into::into),
            size: json::opt_u32(p, "size")?,
        })
    }

    /// The failure response for a bad `ota_upgrade`.
    pub fn rejected(reason: &str, detail: Option<String>) -> Response {
        Response::failed(OTA_UPGRADE, "ota_start_failed", reason, detail)
    }

    /// The success response.
    pub fn started() -> Response {
        Response::ok(OTA_UPGRADE, "ota_started")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_command_and_responses_exactly() {
        let c = parse(br#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1"}}"#).unwrap();
        assert_eq!(c.name, "ota_upgrade");
        let o = OtaUpgrade::from_paras(&c.paras).unwrap();
        assert_eq!(o, OtaUpgrade { version: "1.0.1".into(), url: None, sha256: None, size: None });
        assert_eq!(
            OtaUpgrade::started().to_json(),
            r#"{"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}"#
        );
        assert_eq!(
            OtaUpgrade::rejected("busy", None).to_json(),
            r#"{"result_code":1,"response_name":"ota_upgrade","paras":{"result":"ota_start_failed","reason":"busy"}}"#
        );
        assert_eq!(
            Response::unsupported("reboot").to_json(),
            r#"{"result_code":1,"response_name":"reboot","paras":{"result":"unsupported_command"}}"#
        );
    }

    #[test]
    fn optional_fields_and_their_types() {
        let c = parse(br#"{"command_name":"ota_upgrade","paras":{"version":"2","url":"http://h/x","sha256":"ab","size":123}}"#).unwrap();
        let o = OtaUpgrade::from_paras(&c.paras).unwrap();
        assert_eq!(
            (o.url.as_deref(), o.sha256.as_deref(), o.size),
            (Some("http://h/x"), Some("ab"), Some(123))
        );
        for (paras, err) in [
            (r#"{}"#, "version is missing"),
            (r#"{"version":1}"#, "version must be a string"),
            (r#"{"version":"1","size":-1}"#, "size must be an integer from 0 to 4294967295"),
            (r#"{"version":"1","size":1.5}"#, "size must be an integer from 0 to 4294967295"),
            (r#"{"version":"1","size":"12"}"#, "size must be an integer from 0 to 4294967295"),
            (r#"{"version":"1","url":["x"]}"#, "url must be a string"),
        ] {
            let c =
                parse(format!(r#"{{"command_name":"ota_upgrade","paras":{paras}}}"#).as_bytes())
                    .unwrap();
            assert_eq!(OtaUpgrade::from_paras(&c.paras).unwrap_err(), err);
        }
    }

    #[test]
    fn bad_payloads_are_errors_with_responses_never_panics() {
        assert_eq!(parse(b"{not json").unwrap_err(), ParseError::Malformed);
        assert_eq!(parse(&[0xFF, 0xFE]).unwrap_err(), ParseError::Malformed);
        assert_eq!(parse(b"[1,2]").unwrap_err().reason(), "bad_request");
        assert_eq!(
            parse(br#"{"paras":{}}"#).unwrap_err(),
            ParseError::BadShape(None, "command_name is missing")
        );
        assert_eq!(parse(br#"{"command_name":7}"#).unwrap_err().reason(), "bad_request");
        let e = parse(br#"{"command_name":"ota_upgrade","paras":"x"}"#).unwrap_err();
        assert_eq!(
            e.response().to_json(),
            r#"{"result_code":1,"response_name":"ota_upgrade","paras":{"result":"bad_request","reason":"bad_request","detail":"paras must be an object"}}"#
        );
        let big = alloc::vec![b' '; MAX_PAYLOAD + 1];
        assert_eq!(parse(&big).unwrap_err(), ParseError::TooLarge(MAX_PAYLOAD + 1));
        assert_eq!(
            ParseError::Malformed.response().to_json(),
            r#"{"result_code":1,"response_name":"unknown","paras":{"result":"bad_request","reason":"malformed_json"}}"#
        );
        // Deep nesting is refused before serde_json recurses into it (its own limit, 128
        // levels, is more than a chip thread's stack holds).
        let deep = "[".repeat(5000);
        assert_eq!(parse(deep.as_bytes()).unwrap_err(), ParseError::TooLarge(5000));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(parse(deep.as_bytes()).unwrap_err(), ParseError::TooDeep);
        assert_eq!(ParseError::TooDeep.reason(), "nesting_too_deep");
        // Strings with quotes and control characters are escaped in responses.
        let r = Response::failed("a\"b", "x", "y", Some("line\nbreak".into())).to_json();
        assert!(serde_json::from_str::<Value>(&r).is_ok(), "{r}");
    }
}

//! Writing JSON with the key order the protocol shows (serde_json's map sorts keys), and
//! reading typed fields with clear errors.

use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value};

/// A JSON string literal (quoted and escaped).
pub fn string(s: &str) -> String {
    // Serialising a string into memory cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

/// An object written in the given key order; values are raw JSON.
pub fn object(fields: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&string(k));
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// A field that must be a string, if present.
///
/// # Errors
/// `"<key> must be a string"`.
pub fn opt_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

/// A field that must be a non-negative integer fitting u32, if present.
///
/// # Errors
/// `"<key> must be an integer from 0 to 4294967295"`.
pub fn opt_u32(m: &Map<String, Value>, key: &str) -> Result<Option<u32>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| format!("{key} must be an integer from 0 to 4294967295")),
        Some(_) => Err(format!("{key} must be an integer from 0 to 4294967295")),
    }
}

//! Writing JSON with the key order the protocol shows (serde_json's map sorts keys), and
//! reading typed fields with clear errors.

use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value};

/// The deepest nesting of arrays and objects a payload may have. serde_json parses nesting
/// by recursion (up to 128 levels), which a few KiB of thread stack on the chip cannot hold;
/// the protocol's own payloads need four (`services` / event / `paras` / value).
pub const MAX_DEPTH: usize = 8;

/// Whether `payload` nests arrays and objects deeper than [`MAX_DEPTH`] (brackets inside
/// strings do not count). Checked before serde_json sees the bytes, so parsing and dropping
/// the value never recurse deeper than that.
pub fn too_deep(payload: &[u8]) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for &b in payload {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(!too_deep(br#"{"services":[{"paras":{"a":[1]}}]}"#));
        assert!(!too_deep("[".repeat(MAX_DEPTH).as_bytes()));
        assert!(too_deep("[".repeat(MAX_DEPTH + 1).as_bytes()));
        assert!(too_deep("{\"a\":".repeat(MAX_DEPTH + 1).as_bytes()));
        // Brackets in strings, escaped quotes included, are text.
        let s = format!(r#"{{"v":"{}\"{}"}}"#, "[".repeat(50), "{".repeat(50));
        assert!(!too_deep(s.as_bytes()));
        // Closing brackets bring the depth down.
        assert!(!too_deep("[[]]".repeat(100).as_bytes()));
    }
}

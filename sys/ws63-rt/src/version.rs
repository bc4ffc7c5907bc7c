//! The firmware's version record: the one place a firmware image says which version it is.
//!
//! ```text
//! +0   "WS63-FW-VERSION\0"   16-byte marker
//! +16  version                1 to 16 bytes of A-Z a-z 0-9 . _ -, NUL-padded to 16
//! ```
//!
//! The chip library embeds one record, made at build time from the configuration's
//! `[firmware] version` (the value the SDK packager gets as `--ver`), and reports the
//! version it holds; the simulated board's app images carry the same record, and
//! `ws63-sim version FILE` reads it back out of a library, an image or a package.

/// The marker that starts a record.
pub const MARKER: [u8; 16] = *b"WS63-FW-VERSION\0";
/// The longest version (the SDK packager's `--ver` limit).
pub const MAX_LEN: usize = 16;
/// A record's size.
pub const RECORD_LEN: usize = 32;

/// Whether `v` is a valid version: 1 to [`MAX_LEN`] bytes of `A-Z a-z 0-9 . _ -`.
pub const fn is_valid(v: &str) -> bool {
    let b = v.as_bytes();
    if b.is_empty() || b.len() > MAX_LEN {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

/// A version record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Record([u8; RECORD_LEN]);

impl Record {
    /// The record of `v`.
    ///
    /// # Panics
    /// If `v` is not [`is_valid`] (at compile time, for a `const`).
    pub const fn new(v: &str) -> Self {
        assert!(is_valid(v), "a version is 1 to 16 of A-Z a-z 0-9 . _ -");
        let mut r = [0u8; RECORD_LEN];
        let mut i = 0;
        while i < MARKER.len() {
            r[i] = MARKER[i];
            i += 1;
        }
        let b = v.as_bytes();
        let mut j = 0;
        while j < b.len() {
            r[MARKER.len() + j] = b[j];
            j += 1;
        }
        Self(r)
    }

    /// The record's bytes.
    pub const fn as_bytes(&self) -> &[u8; RECORD_LEN] {
        &self.0
    }

    /// The version it holds. The bytes are read at run time (not folded by the compiler),
    /// so the record a firmware reports from is the one its image carries.
    pub fn version(&'static self) -> &'static str {
        let bytes: &'static [u8; RECORD_LEN] = core::hint::black_box(&self.0);
        parse(bytes).unwrap_or("?")
    }
}

/// The version in `bytes` if they start with a well-formed record.
pub fn parse(bytes: &[u8]) -> Option<&str> {
    let rec = bytes.get(..RECORD_LEN)?;
    if rec[..MARKER.len()] != MARKER {
        return None;
    }
    let field = &rec[MARKER.len()..];
    let len = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    if field[len..].iter().any(|b| *b != 0) {
        return None;
    }
    let v = core::str::from_utf8(&field[..len]).ok()?;
    is_valid(v).then_some(v)
}

/// Every well-formed record in `bytes` (a library, an image, a flash dump), in order.
pub fn find_all(bytes: &[u8]) -> impl Iterator<Item = &str> {
    (0..bytes.len().saturating_sub(RECORD_LEN - 1)).filter_map(move |i| {
        if bytes[i] == MARKER[0] {
            parse(&bytes[i..])
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn records_round_trip_and_are_found_inside_other_bytes() {
        static R: Record = Record::new("2.0.1-rc_3");
        assert_eq!(R.version(), "2.0.1-rc_3");
        let mut blob = std::vec![0xAB; 100];
        blob.extend_from_slice(R.as_bytes());
        blob.extend_from_slice(&[1, 2, 3]);
        assert_eq!(find_all(&blob).collect::<Vec<_>>(), ["2.0.1-rc_3"]);
        // The marker alone, or followed by junk, is no record.
        let mut junk = MARKER.to_vec();
        junk.extend_from_slice(b"1.0\0x\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(find_all(&junk).count(), 0);
        assert!(parse(&R.as_bytes()[..31]).is_none());
    }

    #[test]
    fn versions_are_checked() {
        assert!(is_valid("1.0.0") && is_valid("abcdefghijklmnop"));
        for bad in ["", "abcdefghijklmnopq", "1.0 0", "1/0", "é"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}

//! What an OTA is asked to do, validated before any network traffic.

use alloc::format;
use alloc::string::{String, ToString};

use crate::error::OtaError;

/// Longest version string (the SDK packager's limit).
pub const MAX_VERSION_LEN: usize = ws63_rt::version::MAX_LEN;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 512;

/// An OTA request, as the gateway received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaRequest {
    /// The version to install (1 to 16 of `A-Z a-z 0-9 . _ -`).
    pub version: String,
    /// Where the package is: `http://host[:port]/path`.
    pub url: String,
    /// The package's SHA-256, if the server gave one (64 hex digits, either case).
    pub sha256: Option<String>,
    /// The package's size, if the server gave one.
    pub size: Option<u32>,
    /// A bearer token for the download, if any.
    pub token: Option<String>,
}

/// Checks a version string.
///
/// # Errors
/// [`OtaError::BadRequest`] for an empty, over-long or odd-character version.
pub fn check_version(v: &str) -> Result<(), OtaError> {
    if ws63_rt::version::is_valid(v) {
        Ok(())
    } else {
        Err(OtaError::BadRequest(format!(
            "version must be 1 to {MAX_VERSION_LEN} of A-Z a-z 0-9 . _ -"
        )))
    }
}

/// The URL of `version` from a template with a `{version}` placeholder.
///
/// # Errors
/// A bad version (checked first, so nothing odd reaches the URL).
pub fn expand_url(template: &str, version: &str) -> Result<String, OtaError> {
    check_version(version)?;
    Ok(template.replace("{version}", version))
}

/// Parses a SHA-256 given as 64 hex digits, either case.
///
/// # Errors
/// [`OtaError::BadRequest`] for anything else: a malformed hash is never taken as "no hash".
pub fn parse_sha256(hex: &str) -> Result<[u8; 32], OtaError> {
    let bad = || OtaError::BadRequest("sha256 must be 64 hex digits".to_string());
    let b = hex.as_bytes();
    if b.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let d = |c: u8| (c as char).to_digit(16).ok_or_else(bad);
        out[i] = (d(pair[0])? * 16 + d(pair[1])?) as u8;
    }
    Ok(out)
}

/// An `http://` or `https://` URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://`: over TLS, verified against the configured CA certificates.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port (80 by default, 443 with TLS).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path]` or `https://host[:port][/path]`.
    ///
    /// # Errors
    /// [`OtaError::BadRequest`] for other schemes, an empty host, a bad port, control
    /// characters or spaces, credentials, or an over-long URL.
    pub fn parse(url: &str) -> Result<Url, OtaError> {
        let bad = |why: &str| OtaError::BadRequest(format!("url: {why}"));
        if url.len() > MAX_URL_LEN {
            return Err(bad("too long"));
        }
        if url.bytes().any(|b| b <= b' ' || b == 0x7F) {
            return Err(bad("control characters or spaces"));
        }
        let (tls, rest) = match url.split_once("://") {
            Some((s, r)) if s.eq_ignore_ascii_case("http") => (false, r),
            Some((s, r)) if s.eq_ignore_ascii_case("https") => (true, r),
            _ => return Err(bad("must start with http:// or https://")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => {
                (h, p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("bad port"))?)
            }
            None => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Url { tls, host: host.to_string(), port, path: path.to_string() })
    }

    /// Where a redirect's `Location` points: absolute URLs, or a path on this host. An
    /// `https://` download never continues over plain `http://`.
    ///
    /// # Errors
    /// As [`Url::parse`]; a redirect from `https://` to `http://`.
    pub fn join(&self, location: &str) -> Result<Url, OtaError> {
        if location.starts_with('/') && !location.starts_with("//") {
            let mut u = self.clone();
            if location.bytes().any(|b| b <= b' ' || b == 0x7F) || location.len() > MAX_URL_LEN {
                return Err(OtaError::BadRequest("redirect location".to_string()));
            }
            u.path = location.to_string();
            Ok(u)
        } else {
            let u = Url::parse(location)?;
            if self.tls && !u.tls {
                return Err(OtaError::BadRequest("redirect from https:// to http://".to_string()));
            }
            Ok(u)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_refuse_what_we_cannot_fetch() {
        let u = Url::parse("http://ota.example:8080/fw/1.0.1/update.fwpkg?t=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("ota.example", 8080, "/fw/1.0.1/update.fwpkg?t=1")
        );
        let u = Url::parse("HTTP://10.0.0.1").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        for bad in [
            "ftp://x/y",
            "ftp://x",
            "http://",
            "http://:80/x",
            "http://x:0/",
            "http://x:99999/",
            "http://x/a b",
            "http://x/\r\nHost: evil",
            "http://user:pw@x/",
            "x/y",
        ] {
            assert!(matches!(Url::parse(bad), Err(OtaError::BadRequest(_))), "{bad}");
        }
        let s = Url::parse("https://obs.example/fw.bin?sig=1").unwrap();
        assert_eq!(
            (s.tls, s.host.as_str(), s.port, s.path.as_str()),
            (true, "obs.example", 443, "/fw.bin?sig=1")
        );
        assert_eq!(Url::parse("HTTPS://h:8943/p").unwrap().port, 8943);
        assert!(s.join("https://cdn.example/x").unwrap().tls);
        assert!(s.join("/y").unwrap().tls, "a path stays on the TLS host");
        assert!(s.join("http://cdn.example/x").is_err(), "no downgrade");
        let base = Url::parse("http://a:81/x").unwrap();
        assert_eq!(
            base.join("/y").unwrap(),
            Url { tls: false, host: "a".into(), port: 81, path: "/y".into() }
        );
        assert_eq!(base.join("http://b/z").unwrap().host, "b");
        assert!(base.join("//evil/x").is_err());
    }

    #[test]
    fn sha256_hex_either_case_and_nothing_else() {
        let h = "00ff10AB".repeat(8);
        let b = parse_sha256(&h).unwrap();
        assert_eq!(&b[..4], &[0x00, 0xFF, 0x10, 0xAB]);
        assert_eq!(parse_sha256(&h.to_lowercase()).unwrap(), b);
        for bad in ["", "abc", &"g".repeat(64), &"0".repeat(63), &"0".repeat(65), &"é".repeat(32)]
        {
            assert!(parse_sha256(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_are_checked_before_they_reach_a_url() {
        assert_eq!(
            expand_url("http://h/{version}/u.fwpkg", "1.0.1").unwrap(),
            "http://h/1.0.1/u.fwpkg"
        );
        for bad in ["", "1.0.1/../x", "a b", "12345678901234567", "v\r\n"] {
            assert!(expand_url("http://h/{version}", bad).is_err(), "{bad:?}");
        }
    }
}

//! The gateway's configuration: one file format, one parser, used by the chip build (which
//! embeds the file and checks it at build time, through this same module) and by the
//! simulated board (which reads the file and applies command-line overrides).
//!
//! The format is the subset of TOML the file needs: `[section]` headers, `key = "string"`,
//! `key = 123`, and `#` comments. See `config/gateway.example.toml`.

use alloc::format;
use alloc::string::{String, ToString};

/// Where to connect and how to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mqtt {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// The device id (IoTDA's, or any name for other brokers).
    pub device_id: String,
    /// IoTDA device secret: when set, the login is IoTDA's (client id and HMAC password).
    pub device_secret: String,
    /// Plain user name, for other brokers.
    pub username: String,
    /// Plain password, for other brokers.
    pub password: String,
    /// Keep-alive in seconds.
    pub keep_alive: u16,
    /// Topic root; `{device_id}` is replaced.
    pub topic_root: String,
    /// The CA certificates (a PEM file) the broker's certificate must lead to; set, the
    /// connection is MQTT over TLS 1.2 (IoTDA: port 8883 and the region's CA), verified and
    /// with the host as SNI; empty, plain MQTT. Never TLS without verification.
    pub ca_file: String,
}

/// The WiFi network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wifi {
    /// SSID.
    pub ssid: String,
    /// Passphrase.
    pub passphrase: String,
    /// `open`, `wpa2`, `wpa2-wpa3` or `wpa3`.
    pub security: String,
}

/// Where update packages are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ota {
    /// An `http://` or `https://` URL template with `{version}`.
    pub url: String,
    /// The CA certificates (a PEM file) `https://` servers must lead to (IoTDA's and OBS's
    /// download URLs are `https://`); empty: `http://` only.
    pub ca_file: String,
    /// The version `ota_task_start()` asks for.
    pub default_version: String,
}

/// The firmware itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    /// The firmware's version: embedded in the chip library (its version record), reported to
    /// the cloud, and the `--ver` of the SDK packager for the update package made from this
    /// build. 1 to 16 of `A-Z a-z 0-9 . _ -`.
    pub version: String,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The firmware.
    pub firmware: Firmware,
    /// WiFi.
    pub wifi: Wifi,
    /// MQTT.
    pub mqtt: Mqtt,
    /// OTA.
    pub ota: Ota,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            firmware: Firmware { version: String::new() },
            wifi: Wifi { ssid: String::new(), passphrase: String::new(), security: "wpa2".into() },
            mqtt: Mqtt {
                host: String::new(),
                port: 1883,
                device_id: String::new(),
                device_secret: String::new(),
                username: String::new(),
                password: String::new(),
                keep_alive: 60,
                topic_root: "$oc/devices/{device_id}/sys".into(),
                ca_file: String::new(),
            },
            ota: Ota {
                url: String::new(),
                ca_file: String::new(),
                default_version: "latest".into(),
            },
        }
    }
}

/// A configuration error, with the line it is on (0 when not from a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line, or 0.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

fn err(line: usize, message: String) -> ConfigError {
    ConfigError { line, message }
}

impl Config {
    /// Parses the file's text (keys it does not set keep their defaults), then checks it.
    ///
    /// # Errors
    /// A syntax error, an unknown key, a value of the wrong type, or a failed check.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let mut section = String::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(s) = line.strip_prefix('[') {
                let s = s
                    .strip_suffix(']')
                    .ok_or_else(|| err(n, "unterminated section header".into()))?;
                section = s.trim().to_string();
                continue;
            }
            let (k, v) =
                line.split_once('=').ok_or_else(|| err(n, "expected key = value".into()))?;
            let value = parse_value(v.trim()).map_err(|m| err(n, m))?;
            c.set(&format!("{section}.{}", k.trim()), &value).map_err(|m| err(n, m))?;
        }
        c.check()?;
        Ok(c)
    }

    /// Sets `section.key` from its text (strings as is, numbers parsed), as a command-line
    /// override does.
    ///
    /// # Errors
    /// An unknown key or a value of the wrong type.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = |v: &str| -> Result<u16, String> {
            v.parse::<u16>().map_err(|_| format!("{key} must be a number from 0 to 65535"))
        };
        match key {
            "firmware.version" => self.firmware.version = value.into(),
            "wifi.ssid" => self.wifi.ssid = value.into(),
            "wifi.passphrase" => self.wifi.passphrase = value.into(),
            "wifi.security" => self.wifi.security = value.into(),
            "mqtt.host" => self.mqtt.host = value.into(),
            "mqtt.port" => self.mqtt.port = num(value)?,
            "mqtt.device_id" => self.mqtt.device_id = value.into(),
            "mqtt.device_secret" => self.mqtt.device_secret = value.into(),
            "mqtt.username" => self.mqtt.username = value.into(),
            "mqtt.password" => self.mqtt.password = value.into(),
            "mqtt.keep_alive" => self.mqtt.keep_alive = num(value)?,
            "mqtt.topic_root" => self.mqtt.topic_root = value.into(),
            "mqtt.ca_file" => self.mqtt.ca_file = value.into(),
            "ota.url" => self.ota.url = value.into(),
            "ota.default_version" => self.ota.default_version = value.into(),
            "ota.ca_file" => self.ota.ca_file = value.into(),
            _ => return Err(format!("unknown key {key}")),
        }
        Ok(())
    }

    /// Checks what the parser cannot: required values and their forms.
    ///
    /// # Errors
    /// The first problem found.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(err(0, m.into()));
        if !super::version::is_valid(&self.firmware.version) {
            return bad("firmware.version must be 1 to 16 of A-Z a-z 0-9 . _ - (it is the SDK \
                        packager's --ver)");
        }
        let https = self.ota.url.starts_with("https://");
        if !(self.ota.url.starts_with("http://") || https) || !self.ota.url.contains("{version}") {
            return bad("ota.url must be an http:// or https:// URL with a {version} placeholder");
        }
        if https && self.ota.ca_file.is_empty() {
            return bad(
                "ota.url is https://: ota.ca_file must name the CA certificates its server's \
                        certificate leads to",
            );
        }
        if !matches!(self.wifi.security.as_str(), "open" | "wpa2" | "wpa2-wpa3" | "wpa3") {
            return bad("wifi.security must be open, wpa2, wpa2-wpa3 or wpa3");
        }
        let id_ok = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !id_ok(&self.mqtt.device_id) {
            return bad("mqtt.device_id may only have letters, digits, - and _");
        }
        if self.mqtt.topic_root.contains(['+', '#']) {
            return bad("mqtt.topic_root may not contain + or #");
        }
        Ok(())
    }
}

fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_value(v: &str) -> Result<String, String> {
    if let Some(s) = v.strip_prefix('"') {
        let s = s.strip_suffix('"').ok_or("unterminated string")?;
        if s.contains(['"', '\\']) {
            return Err("quotes and backslashes in strings are not supported".into());
        }
        return Ok(s.into());
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(v.into());
    }
    Err(format!("expected a \"string\" or a number, found `{v}`"))
}

/// Whether `bytes` hold a PEM certificate: what a `ca_file` must name (the chip build embeds
/// it, the simulated board reads it at each boot; both refuse a file without one).
pub fn holds_pem_certificate(bytes: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    bytes.windows(BEGIN.len()).any(|w| w == BEGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../config/gateway.example.toml");

    #[test]
    fn the_committed_example_parses() {
        let c = Config::parse(EXAMPLE).unwrap();
        assert_eq!(c.firmware.version, "1.0.0");
        assert!(c.ota.url.contains("{version}"));
        assert_eq!(c.mqtt.topic_root, "$oc/devices/{device_id}/sys");
    }

    #[test]
    fn values_overrides_and_errors() {
        let mut c = Config::parse(
            "# c\n[firmware]\nversion = \"1.2.3\"\n[mqtt]\nhost = \"h # not a comment\" # a comment\nport = 8883\n\
             [ota]\nurl = \"http://x/{version}\"\n",
        )
        .unwrap();
        assert_eq!((c.mqtt.host.as_str(), c.mqtt.port), ("h # not a comment", 8883));
        c.set("mqtt.device_id", "d1").unwrap();
        assert_eq!(c.mqtt.device_id, "d1");
        assert!(c.set("mqtt.port", "99999").is_err());
        assert!(c.set("mqtt.nope", "1").unwrap_err().contains("unknown key"));
        let url = "[firmware]\nversion = \"1\"\n[ota]\nurl = \"http://x/{version}\"\n";
        for (text, line, says) in [
            ("[mqtt]\nhost = h\n", 2, "expected a"),
            ("[firmware]\nversion = \"1.0.0-and-far-too-long\"\n", 0, "firmware.version"),
            ("[mqtt\n", 1, "unterminated"),
            ("[mqtt]\nhost\n", 2, "key = value"),
            ("[mqtt]\ncolour = \"red\"\n", 2, "unknown key mqtt.colour"),
            ("[firmware]\nversion = \"1\"\n[ota]\nurl = \"https://x\"\n", 0, "ota.url"),
        ] {
            let e = Config::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text}");
            assert!(e.message.contains(says), "{text}: {e}");
        }
        let e = Config::parse(&format!("{url}[mqtt]\ndevice_id = \"a/b\"\n")).unwrap_err();
        assert!(e.message.contains("device_id"));
    }
}

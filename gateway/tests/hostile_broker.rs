//! The gateway against a hostile broker (or a man in the middle on plain MQTT): packets with
//! impossible lengths, reserved types, a PUBLISH of 1 MiB, a flood while it waits for an
//! acknowledgement, a packet id 0 (which made the MQTT engine's automatic PUBACK panic), a
//! CONNACK that never comes. Each connection ends with a clear reason,
//! nothing panics, the heap stays bounded, and the next connection waits longer; a good
//! session afterwards works.
//!
//! The gateway runs its real loop ([`gateway::app::Runner`]) over the simulated board's
//! sockets; the broker is a script speaking raw bytes on 127.0.0.1. The platform's clock runs
//! 50 times faster than the wall clock, and its sleeps only move that clock, so the 10 s
//! login timeout and the reconnection delays take no real time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream as StdStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::app::{Platform, Progress, Reconnect, Runner};
use gateway::config::Config;
use gateway::mqtt::{Clock, MAX_PACKET};
use ota::{OtaError, OtaRequest};
use ws63_hal::net::TcpStream;

#[path = "../../tests/common/mqtt_bytes.rs"]
mod mqtt_bytes;
use mqtt_bytes::{publish, publish_head};

const SPEED: u64 = 50;

#[derive(Clone)]
struct FastClock {
    start: Instant,
    slept: Arc<AtomicU64>,
}

impl Clock for FastClock {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 * SPEED + self.slept.load(Ordering::Relaxed)
    }
}

struct Bench {
    clock: FastClock,
    sleeps: Vec<u64>,
}

impl Platform for Bench {
    type Conn = TcpStream;
    type Clock = FastClock;
    fn join_wifi(&mut self, _: &gateway::config::Wifi) -> Result<(), String> {
        Ok(())
    }
    fn connect(&mut self, host: &str, port: u16) -> Result<TcpStream, String> {
        let s =
            TcpStream::connect(host, port, Duration::from_secs(2)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_millis(20))).map_err(|e| e.to_string())?;
        Ok(s)
    }
    fn clock(&self) -> FastClock {
        self.clock.clone()
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.sleeps.push(ms);
        self.clock.slept.fetch_add(ms, Ordering::Relaxed);
    }
    fn version(&self) -> String {
        "1.0.0".into()
    }
    fn start_ota(&mut self, _: OtaRequest) -> Result<(), OtaError> {
        Err(OtaError::Busy)
    }
    fn progress(&mut self) -> Option<Progress> {
        None
    }
    fn ota_reported(&mut self) {}
}

// ---- the broker's side, in raw bytes ---------------------------------------------------

/// One MQTT packet off the stream: (first byte, body). Test-side only: the gateway's
/// packets are well formed.
fn packet(c: &mut StdStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut b = [0u8; 1];
    c.read_exact(&mut b)?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let mut d = [0u8; 1];
        c.read_exact(&mut d)?;
        len |= ((d[0] & 0x7f) as usize) << shift;
        shift += 7;
        if d[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; len];
    c.read_exact(&mut body)?;
    Ok((b[0], body))
}

const ROOT: &str = "oc/devices/gw1/sys";

/// CONNECT in, CONNACK out.
fn login(c: &mut StdStream) {
    let (kind, _) = packet(c).unwrap();
    assert_eq!(kind, 0x10, "CONNECT first");
    c.write_all(&[0x20, 0x02, 0x00, 0x00]).unwrap();
}

/// Login, both SUBACKs, the version report: the session is up.
fn session(c: &mut StdStream) {
    login(c);
    for _ in 0..2 {
        let (kind, body) = packet(c).unwrap();
        assert_eq!(kind, 0x82, "SUBSCRIBE");
        c.write_all(&[0x90, 0x03, body[0], body[1], 0x01]).unwrap();
    }
    let (kind, _) = packet(c).unwrap();
    // At QoS 0: nothing to acknowledge (see `gateway::app`).
    assert_eq!(kind, 0x30, "the version report, at QoS 0");
}

/// Reads until the gateway closes its side.
fn until_closed(c: &mut StdStream) {
    let mut buf = [0u8; 4096];
    while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
}

type Script = fn(&mut StdStream);

fn scripts() -> Vec<(&'static str, Script, &'static str)> {
    vec![
        (
            "a remaining length of five bytes",
            |c| {
                login_only_read(c);
                c.write_all(&[0x20, 0xff, 0xff, 0xff, 0xff, 0x01]).unwrap();
                until_closed(c);
            },
            "protocol error: MalformedPacket",
        ),
        (
            "packet type 0 (reserved)",
            |c| {
                session(c);
                c.write_all(&[0x00, 0x00]).unwrap();
                until_closed(c);
            },
            "protocol error",
        ),
        (
            "packet type 15 (reserved in 3.1.1)",
            |c| {
                session(c);
                c.write_all(&[0xf0, 0x00]).unwrap();
                until_closed(c);
            },
            "protocol error",
        ),
        (
            "a PUBLISH of 1 MiB",
            |c| {
                session(c);
                let topic = format!("{ROOT}/commands/request_id=big");
                c.write_all(&publish_head(&topic, None, 1 << 20)).unwrap();
                let chunk = [b'x'; 16 * 1024];
                for _ in 0..64 {
                    if c.write_all(&chunk).is_err() {
                        break; // the gateway hung up, as it should
                    }
                }
                until_closed(c);
            },
            "protocol error: PacketTooLarge",
        ),
        (
            "a flood of messages while the gateway waits for its SUBACK",
            |c| {
                login(c);
                let topic = format!("{ROOT}/events/down");
                let m = publish(&topic, None, &[b'{'; 1000]);
                for _ in 0..(2 * MAX_PACKET / 1000 + 4) {
                    if c.write_all(&m).is_err() {
                        break;
                    }
                }
                until_closed(c);
            },
            "bytes of messages unread",
        ),
        (
            "a QoS 1 PUBLISH with packet id 0",
            |c| {
                session(c);
                c.write_all(&publish(&format!("{ROOT}/events/down"), Some(0), b"{}")).unwrap();
                until_closed(c);
            },
            "packet id Some(0)",
        ),
        (
            "a CONNACK that never comes",
            |c| {
                login_only_read(c);
                until_closed(c);
            },
            "did not answer in time",
        ),
        (
            "a good session, then the broker closes",
            |c| {
                session(c);
                let cmd = br#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#;
                // At QoS 1, packet id 5: the gateway acknowledges it, then answers.
                let topic = format!("{ROOT}/commands/request_id=r1");
                c.write_all(&publish(&topic, Some(5), cmd)).unwrap();
                assert_eq!(packet(c).unwrap(), (0x40, vec![0, 5]), "PUBACK of packet 5");
                let (kind, body) = packet(c).unwrap();
                assert_eq!(kind, 0x30, "the response, at QoS 0");
                let text = String::from_utf8_lossy(&body);
                assert!(text.contains("commands/response/request_id=r1"), "{text}");
                assert!(text.contains("same_version"), "{text}");
                // Then the broker goes away.
            },
            "closed by the broker",
        ),
    ]
}

/// Reads the CONNECT and answers nothing.
fn login_only_read(c: &mut StdStream) {
    let (kind, _) = packet(c).unwrap();
    assert_eq!(kind, 0x10, "CONNECT first");
}

#[test]
fn a_hostile_broker_gets_dropped_and_retried_ever_more_slowly() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let list = scripts();
    let names: Vec<&str> = list.iter().map(|s| s.0).collect();
    let server = std::thread::spawn(move || {
        for (_, script, _) in scripts() {
            let (mut c, _) = l.accept().unwrap();
            script(&mut c);
        }
    });

    let mut cfg = Config::parse(include_str!("../../config/gateway.example.toml")).unwrap();
    cfg.mqtt.host = "127.0.0.1".into();
    cfg.mqtt.port = port;
    cfg.mqtt.device_id = "gw1".into();
    cfg.mqtt.topic_root = "oc/devices/{device_id}/sys".into();
    let clock = FastClock { start: Instant::now(), slept: Arc::new(AtomicU64::new(0)) };
    let mut board = Bench { clock, sleeps: Vec::new() };
    let mut runner = Runner::default();
    let mut delays = Vec::new();
    for (name, _, want) in &list {
        let ((why, delay), peak) = ws63_sim::heap::thread_peak(|| runner.once(&cfg, &mut board));
        eprintln!("{name}: {why} ({peak} B)");
        assert!(why.contains(want), "{name}: ended with {why:?}, expected {want:?}");
        // The session's buffers, one packet of at most MAX_PACKET and the unread messages:
        // never the 1 MiB the broker announced.
        assert!(peak < 64 * 1024, "{name}: {peak} bytes of heap at the peak");
        delays.push(delay);
    }
    server.join().unwrap();
    assert_eq!(board.sleeps, delays);
    let mut expected = Reconnect::default();
    let want: Vec<u64> = names.iter().map(|_| expected.after(Some(1))).collect();
    assert_eq!(delays, want);
    assert_eq!(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
}

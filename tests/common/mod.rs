//! Shared by the end-to-end tests: the broker with its in-process client (the cloud), the
//! board (`ws63-sim run`, a process per boot), and the firmware server fixture.
#![allow(dead_code)]

#[allow(unused_imports)]
#[path = "../../ota/tests/common/mod.rs"]
pub mod fixture;
pub mod mqtt_bytes;
pub mod tls;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttd::local::{LinkRx, LinkTx};
use rumqttd::Notification;
use serde_json::Value;

pub const ROOT: &str = "oc/devices/gw1/sys";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Cloud {
    pub port: u16,
    pub tx: LinkTx,
    pub rx: LinkRx,
}

impl Cloud {
    pub fn start() -> Self {
        let ws63_sim::broker::Broker { port, mut tx, rx } = ws63_sim::broker::start(100).unwrap();
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10));
            std::thread::yield_now();
        }
        tx.subscribe(format!("{ROOT}/events/up")).unwrap();
        tx.subscribe(format!("{ROOT}/commands/response/#")).unwrap();
        Cloud { port, tx, rx }
    }

    pub fn command(&mut self, rid: &str, json: &str) {
        self.tx
            .publish(format!("{ROOT}/commands/request_id={rid}"), json.as_bytes().to_vec())
            .unwrap();
    }

    pub fn event(&mut self, json: &str) {
        self.tx.publish(format!("{ROOT}/events/down"), json.as_bytes().to_vec()).unwrap();
    }

    /// The next message the gateway sent, within `secs`.
    pub fn next(&mut self, secs: u64) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            assert!(Instant::now() < deadline, "nothing from the gateway within {secs} s");
            if let Ok(Some(Notification::Forward(f))) = self.rx.recv_deadline(deadline) {
                return (
                    String::from_utf8_lossy(&f.publish.topic).into_owned(),
                    String::from_utf8_lossy(&f.publish.payload).into_owned(),
                );
            }
        }
    }

    /// The raw response to command `rid` (other messages are skipped).
    pub fn response(&mut self, rid: &str, secs: u64) -> String {
        let want = format!("{ROOT}/commands/response/request_id={rid}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now()).as_secs().max(1);
            let (topic, payload) = self.next(left);
            if topic == want {
                return payload;
            }
        }
    }

    /// Skips messages until one satisfies `want`.
    pub fn until(
        &mut self,
        secs: u64,
        mut want: impl FnMut(&str, &Value) -> bool,
    ) -> (String, Value) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now()).as_secs().max(1);
            let (topic, payload) = self.next(left);
            let v: Value = serde_json::from_str(&payload).unwrap();
            if want(&topic, &v) {
                return (topic, v);
            }
        }
    }
}

pub fn event_type(v: &Value) -> &str {
    v["services"][0]["event_type"].as_str().unwrap_or("")
}

pub fn version_report(v: &Value) -> Option<&str> {
    (event_type(v) == "version_report")
        .then(|| v["services"][0]["paras"]["fw_version"].as_str())
        .flatten()
}

/// The tests' root public key in PEM, for `ws63-sim run --root-key` (one file per test
/// process).
pub fn root_key_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ws63-tests-root-{}.pem", std::process::id()));
    if !path.exists() {
        let pem = ws63_sim::keys::verifying_key_pem(fixture::root_key().verifying_key());
        // Written whole under a temporary name, so no board reads half of it.
        let tmp = path.with_extension(format!("{:?}.tmp", std::thread::current().id()));
        std::fs::write(&tmp, pem).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// The board, killed when dropped.
pub struct Board(Child, std::path::PathBuf);

impl Board {
    pub fn start(broker_port: u16, ota_url: &str, name: &str) -> Board {
        Board::start_with(broker_port, ota_url, name, &[])
    }

    /// A board with more `ws63-sim run` options (faults, ...).
    pub fn start_with(broker_port: u16, ota_url: &str, name: &str, extra: &[&str]) -> Board {
        Board::start_at(&format!("127.0.0.1:{broker_port}"), ota_url, name, extra)
    }

    /// A board whose `--broker` is `broker` (`HOST:PORT`, `mqtts://HOST:PORT`, ...).
    pub fn start_at(broker: &str, ota_url: &str, name: &str, extra: &[&str]) -> Board {
        let log =
            if std::env::var_os("E2E_LOG").is_some() { Stdio::inherit() } else { Stdio::null() };
        Board::spawn(broker, ota_url, name, extra, log)
    }

    /// [`Board::start_at`] with the simulator's log (stderr) written to `log`.
    pub fn start_logged(
        broker: &str,
        ota_url: &str,
        name: &str,
        extra: &[&str],
        log: &std::path::Path,
    ) -> Board {
        Board::spawn(broker, ota_url, name, extra, std::fs::File::create(log).unwrap().into())
    }

    fn spawn(broker: &str, ota_url: &str, name: &str, extra: &[&str], log: Stdio) -> Board {
        let flash = std::env::temp_dir().join(format!("e2e-{name}-{}.flash", std::process::id()));
        let _ = std::fs::remove_file(&flash);
        let child = Command::new(env!("CARGO_BIN_EXE_ws63-sim"))
            .args(["run", "--broker", broker, "--device-id", "gw1"])
            .args(["--topic-root", "oc/devices/{device_id}/sys", "--ota-url", ota_url])
            .args(["--flash", flash.to_str().unwrap(), "--fw-version", "1.0.0"])
            .args(["--root-key", root_key_file().to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Board(child, flash)
    }
}

impl Board {
    /// Whether the board's process still runs (with `--max-boots 1`: the first boot has not
    /// ended, so the firmware neither panicked nor rebooted).
    pub fn running(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

/// The broker's address as the board knows it: a TCP relay to whichever broker instance is
/// current. [`Relay::restart`] is a broker restart as the board sees it: every connection is
/// dropped, new ones are refused, and then they reach a fresh broker with empty state.
/// [`Relay::inject`] is a man in the middle: bytes of its own in the broker's stream.
pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    target: Arc<AtomicU16>,
    generation: Arc<AtomicU32>,
    live: Arc<AtomicUsize>,
    inject: Arc<Mutex<Vec<u8>>>,
    accepted: Arc<AtomicUsize>,
}

impl Relay {
    pub fn start(target: u16) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let r = Relay {
            port,
            up: Arc::new(AtomicBool::new(true)),
            target: Arc::new(AtomicU16::new(target)),
            generation: Arc::new(AtomicU32::new(0)),
            live: Arc::new(AtomicUsize::new(0)),
            inject: Arc::new(Mutex::new(Vec::new())),
            accepted: Arc::new(AtomicUsize::new(0)),
        };
        let (up, tgt, generation, live, inject, accepted) = (
            r.up.clone(),
            r.target.clone(),
            r.generation.clone(),
            r.live.clone(),
            r.inject.clone(),
            r.accepted.clone(),
        );
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                if !up.load(Ordering::SeqCst) {
                    continue; // refused: dropped at once
                }
                let Ok(b) = TcpStream::connect(("127.0.0.1", tgt.load(Ordering::SeqCst))) else {
                    continue;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let mine = generation.load(Ordering::SeqCst);
                let pairs = [
                    (c.try_clone().unwrap(), b.try_clone().unwrap(), None),
                    (b, c, Some(inject.clone())),
                ];
                for (mut from, mut to, inject) in pairs {
                    let (generation, live) = (generation.clone(), live.clone());
                    live.fetch_add(1, Ordering::SeqCst);
                    std::thread::spawn(move || {
                        let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
                        let mut buf = [0u8; 4096];
                        while generation.load(Ordering::SeqCst) == mine {
                            match from.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) =>
                                {
                                    // The broker's side is quiet (between packets): the
                                    // man in the middle's bytes go now.
                                    let bytes = inject
                                        .as_ref()
                                        .map(|i| std::mem::take(&mut *i.lock().unwrap()));
                                    if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
                                        // The board may hang up half-way: so be it.
                                        let _ = to.write_all(&bytes);
                                    }
                                }
                                Err(_) => break,
                            }
                        }
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                        live.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            }
        });
        r
    }

    /// Drops every connection, refuses new ones until `new_broker` is up, then relays to it.
    pub fn restart(&self, new_broker: impl FnOnce() -> u16) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        while self.live.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
        self.target.store(new_broker(), Ordering::SeqCst);
        self.up.store(true, Ordering::SeqCst);
    }

    /// Sends `bytes` to the board on its current connection, as if from the broker, at the
    /// next moment the broker's side is quiet.
    pub fn inject(&self, bytes: Vec<u8>) {
        *self.inject.lock().unwrap() = bytes;
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

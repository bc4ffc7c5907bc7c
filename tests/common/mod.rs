//! Shared by the end-to-end tests: the broker with its in-process client (the cloud), the
//! board (`ws63-sim run`, a process per boot), and the firmware server fixture.
#![allow(dead_code)]

#[path = "../../ota/tests/common/mod.rs"]
pub mod fixture;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
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

/// The board, killed when dropped.
pub struct Board(Child, std::path::PathBuf);

impl Board {
    pub fn start(broker_port: u16, ota_url: &str, name: &str) -> Board {
        Board::start_with(broker_port, ota_url, name, &[])
    }

    /// A board with more `ws63-sim run` options (faults, ...).
    pub fn start_with(broker_port: u16, ota_url: &str, name: &str, extra: &[&str]) -> Board {
        let flash = std::env::temp_dir().join(format!("e2e-{name}-{}.flash", std::process::id()));
        let _ = std::fs::remove_file(&flash);
        let child = Command::new(env!("CARGO_BIN_EXE_ws63-sim"))
            .args(["run", "--broker", &format!("127.0.0.1:{broker_port}"), "--device-id", "gw1"])
            .args(["--topic-root", "oc/devices/{device_id}/sys", "--ota-url", ota_url])
            .args(["--flash", flash.to_str().unwrap(), "--fw-version", "1.0.0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("E2E_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        Board(child, flash)
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

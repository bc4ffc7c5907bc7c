//! The OTA thread: one at a time, normal priority, and a whole OTA through reboot and
//! flashboot to the new version, with its progress reported in order.

mod common;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{sha256_hex, Board, Faults, FirmwareServer};
use ota::board::{Reporter, TaskConfig};
use ota::engine::{Phase, Progress};
use ota::{OtaConfig, OtaError, OtaRequest};
use ws63_sim::package;
use ws63_sim::supervisor::{FirmwareEnv, RunEnd, Supervisor};

/// Sends what the OTA thread reports.
struct Channel(mpsc::Sender<String>);

impl Progress for Channel {
    fn phase(&mut self, p: Phase) {
        let _ = self.0.send(format!("phase {p:?}"));
    }
    fn bytes(&mut self, written: u32, total: u32) {
        let _ = self.0.send(format!("percent {}", u64::from(written) * 100 / u64::from(total)));
    }
}

impl Reporter for Channel {
    fn finished(&mut self, r: &Result<ota::Downloaded, OtaError>) {
        let _ = self.0.send(match r {
            Ok(_) => "finished ok".to_string(),
            Err(e) => format!("finished {}", e.result_code()),
        });
    }
}

/// Appends what the OTA thread reports to a file, in the OTA thread itself (so nothing is
/// lost when it reboots the process right after).
struct FileLog(std::path::PathBuf);

impl FileLog {
    fn line(&self, l: String) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.0).unwrap();
        writeln!(f, "{l}").unwrap();
    }
}

impl Progress for FileLog {
    fn phase(&mut self, p: Phase) {
        self.line(format!("phase {p:?}"));
    }
    fn bytes(&mut self, written: u32, total: u32) {
        self.line(format!("percent {}", u64::from(written) * 100 / u64::from(total)));
    }
}

impl Reporter for FileLog {
    fn finished(&mut self, r: &Result<ota::Downloaded, OtaError>) {
        self.line(match r {
            Ok(_) => "finished ok".to_string(),
            Err(e) => format!("finished {}", e.result_code()),
        });
    }
}

fn task_config() -> TaskConfig {
    TaskConfig {
        ota: OtaConfig { retries: 1, backoff: Duration::from_millis(10), ..OtaConfig::default() },
        read_timeout: Duration::from_millis(300),
        ..TaskConfig::default()
    }
}

fn req(url: String, sha: Option<String>) -> OtaRequest {
    OtaRequest { version: "2.0.0".into(), url, sha256: sha, size: None, token: None }
}

#[test]
fn a_second_start_while_one_runs_is_busy_and_starts_no_thread() {
    let _board = Board::new("busy");
    let p = package::build_app("2.0.0", 100_000);
    let srv = FirmwareServer::start(p, Faults { stall_at: Some(50_000), ..Faults::default() });
    let (tx, rx) = mpsc::channel();
    ota::board::start(req(srv.url("/pkg"), None), task_config(), Channel(tx.clone())).unwrap();
    assert!(ota::board::running());
    let second = ota::board::start(req(srv.url("/pkg"), None), task_config(), Channel(tx));
    assert_eq!(second.unwrap_err(), OtaError::Busy);
    let threads: Vec<_> = ws63_sim::rtos::threads()
        .into_iter()
        .filter(|(_, t)| t.name() == "ota")
        .map(|(_, t)| (t.stack_size, t.priority))
        .collect();
    assert_eq!(
        threads,
        [(0x3000, cmsis_rtos2_sys::osPriorityNormal)],
        "one OTA thread, like the C original"
    );
    // The stalled download ends in a timeout, reported, and frees the OTA for the next start.
    let last = rx.iter().find(|m| m.starts_with("finished")).unwrap();
    assert_eq!(last, "finished 6");
    while ota::board::running() {
        std::thread::yield_now();
    }
}

/// The firmware side of the reboot test: runs the OTA thread and records what it reports.
#[test]
fn child_firmware() {
    let Some(env) = FirmwareEnv::from_env() else { return };
    env.start().unwrap();
    ws63_sim::wifi::bring_up();
    let url = std::env::var("OTA_TEST_URL").unwrap();
    let sha = std::env::var("OTA_TEST_SHA").ok();
    let log = std::path::PathBuf::from(std::env::var("OTA_TEST_LOG").unwrap());
    ota::board::start(req(url, sha), task_config(), FileLog(log)).unwrap();
    // The entry has run (started the thread): the scheduler starts.
    ws63_sim::rtos::start_kernel();
    // The OTA thread reboots this process when it is done; if it fails, it ends instead.
    while ota::board::running() {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::exit(0);
}

#[test]
fn an_ota_thread_downloads_reboots_and_the_board_runs_the_new_version() {
    let dir = std::env::temp_dir().join(format!("ota-task-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = package::build_app("2.0.0", 150_000);
    let srv =
        FirmwareServer::start(p.clone(), Faults { cut_at: vec![60_000], ..Faults::default() });
    let log = dir.join("progress.txt");
    let mut board = Supervisor::new(&dir.join("board.flash"), "1.0.0");
    let (url, sha, logs) = (srv.url("/pkg"), sha256_hex(&p), log.display().to_string());
    let mut spawn = |env: &FirmwareEnv| {
        Command::new(std::env::current_exe()?)
            .args(["--exact", "child_firmware", "--nocapture", "--test-threads=1"])
            .envs(env.to_env())
            .env("OTA_TEST_URL", &url)
            .env("OTA_TEST_SHA", &sha)
            .env("OTA_TEST_LOG", &logs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let first = board.boot(&mut spawn).unwrap();
    assert_eq!((first.version.as_deref(), first.end), (Some("1.0.0"), RunEnd::Reboot));
    let lines = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.first(), Some(&"phase Connecting(1)"));
    assert!(lines.contains(&"phase Connecting(2)"), "resumed after the cut: {lines:?}");
    let percents: Vec<u32> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("percent "))
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "in order: {percents:?}");
    assert_eq!(percents.last(), Some(&100));
    assert_eq!(
        &lines[lines.len() - 4..],
        ["phase Verifying", "phase Requesting", "phase Ready", "finished ok"]
    );
    // The board reboots into flashboot, which installs the package.
    let second = board.boot(&mut |_| Command::new("true").spawn()).unwrap();
    assert_eq!(second.upgrade(), &ws63_sim::upgrade::FlashbootOutcome::Installed);
    assert_eq!(second.version.as_deref(), Some("2.0.0"));
    std::fs::remove_dir_all(dir).unwrap();
}

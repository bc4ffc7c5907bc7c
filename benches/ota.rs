//! The OTA's figures on the simulated board (host, release build): throughput against a plain
//! download, peak heap and stack for a small and a maximum-size package, a maximum-size OTA
//! with the flash taking the chip's time against the time the flash alone needs, and the
//! gateway's command-to-response latency through a broker (the first command apart). Prints
//! Markdown tables; not a test.
//!
//! `cargo bench --bench ota` (docs/benchmarks.md has the figures and how they were made).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::fixture::{Board as SimBoard, Faults, FirmwareServer};
use common::{Board, Cloud};
use ota::board::{HalConnector, SdkSink};
use ota::{OtaConfig, OtaRequest};
use ws63_sim::measure::{heap_peak, stack_peak};
use ws63_sim::{package, upgrade};

const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn request(url: String) -> OtaRequest {
    OtaRequest { version: "2.0.0".into(), url, sha256: None, size: None, token: None }
}

/// One OTA of `pkg` on the calling thread: (wall time, peak heap bytes).
fn ota_once(url: &str) -> (Duration, usize) {
    let req = request(url.into());
    let mut conn = HalConnector {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ca: None,
    };
    let t = Instant::now();
    let (r, heap) = heap_peak(|| {
        ota::run(&req, OtaConfig::default(), &mut conn, &mut SdkSink::default(), &mut ())
    });
    let took = t.elapsed();
    r.expect("the OTA succeeds");
    (took, heap)
}

/// A plain HTTP/1.1 GET of the same file into a file on disk (the baseline).
fn plain_download(port: u16, to: &std::path::Path) -> Duration {
    let t = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /pkg HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = std::fs::File::create(to).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut head_done = false;
    let mut head = Vec::new();
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if head_done {
            out.write_all(&buf[..n]).unwrap();
        } else {
            head.extend_from_slice(&buf[..n]);
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                out.write_all(&head[i + 4..]).unwrap();
                head_done = true;
            }
        }
    }
    out.sync_all().unwrap();
    t.elapsed()
}

struct Figures {
    len: usize,
    ota_mibs: f64,
    plain_mibs: f64,
    ratio: f64,
    heap: usize,
    stack: usize,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists; there is nothing to test here
    }
    let max_image = {
        // The largest app image whose package fits the upgrade storage.
        let overhead = package::build_app("2.0.0", 4096).len() - 4096;
        upgrade::STORAGE_SIZE as usize - overhead
    };
    let mut results = Vec::new();
    for image in [64 * 1024, max_image] {
        let pkg = package::build_app("2.0.0", image);
        let len = pkg.len();
        let srv = FirmwareServer::start(pkg, Faults::default());
        let url = srv.url("/pkg");
        let tmp = std::env::temp_dir().join(format!("bench-plain-{}.bin", std::process::id()));
        let (mut ota_t, mut plain_t) = (Vec::new(), Vec::new());
        let (mut heap, mut stack) = (0, 0);
        for _ in 0..RUNS {
            plain_t.push(plain_download(srv.port, &tmp).as_secs_f64());
            assert_eq!(std::fs::metadata(&tmp).unwrap().len() as usize, len);
            let board = SimBoard::new("bench");
            let u = url.clone();
            let ((took, h), s) = stack_peak(512 * 1024, move || ota_once(&u));
            assert!(board.requested(), "the OTA requested the upgrade");
            ota_t.push(took.as_secs_f64());
            heap = heap.max(h);
            stack = stack.max(s);
        }
        let _ = std::fs::remove_file(&tmp);
        let (o, p) = (median(ota_t), median(plain_t));
        let mib = len as f64 / (1024.0 * 1024.0);
        results.push(Figures {
            len,
            ota_mibs: mib / o,
            plain_mibs: mib / p,
            ratio: o / p,
            heap,
            stack,
        });
    }
    println!("| figure | small package | maximum-size package |");
    println!("|---|---|---|");
    let row = |name: &str, f: &dyn Fn(&Figures) -> String| {
        println!("| {name} | {} | {} |", f(&results[0]), f(&results[1]));
    };
    row("package", &|r| format!("{} bytes", r.len));
    row("OTA (download, write, verify, request)", &|r| format!("{:.1} MiB/s", r.ota_mibs));
    row("plain HTTP download to disk", &|r| format!("{:.1} MiB/s", r.plain_mibs));
    row("OTA time / plain download time", &|r| format!("{:.2}", r.ratio));
    row("peak heap of the OTA", &|r| format!("{} bytes", r.heap));
    row("peak stack of the OTA (x86-64)", &|r| format!("{} bytes", r.stack));
    chip_timing(max_image);
    latency();
    tls_sessions();
    tls_ota(max_image);
}

/// The whole firmware's peak heap over a maximum-size OTA downloaded over `https://` while the
/// gateway's MQTT session runs over TLS (two sessions at once), on `ws63-sim run` with the
/// firmware's heap share: the boot's high-water mark the simulator prints at the reboot.
fn tls_ota(image: usize) {
    use common::tls::{Ca, TlsFront};
    let mut cloud = Cloud::start();
    let ca = Ca::new("bench CA");
    let mqtts = TlsFront::start(ca.server("localhost"), cloud.port);
    let srv = FirmwareServer::start(package::build_app("2.0.0", image), Faults::default());
    let https = TlsFront::start(ca.server("localhost"), srv.port);
    let ca_file = ca.file("bench-tls-ota");
    let log = std::env::temp_dir().join(format!("bench-tls-ota-{}.log", std::process::id()));
    let ca_arg = ca_file.to_str().unwrap();
    let board = Board::start_logged(
        &format!("mqtts://localhost:{}", mqtts.port),
        &format!("https://localhost:{}/pkg/{{version}}", https.port),
        "bench-tls-ota",
        &["--ca-file", ca_arg, "--ota-ca-file", ca_arg],
        &log,
    );
    cloud.until(30, |_, v| common::version_report(v) == Some("1.0.0"));
    cloud.command("h1", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    assert!(cloud.response("h1", 10).contains("ota_started"));
    cloud.until(120, |_, v| common::version_report(v) == Some("2.0.0"));
    drop(board);
    let text = std::fs::read_to_string(&log).unwrap();
    // The first boot's line: the one that ran the OTA.
    let peak = text
        .lines()
        .find_map(|l| l.strip_prefix("[ws63-sim] reboot (heap: peak ")?.split(' ').next())
        .unwrap_or_else(|| panic!("no reboot line in {}", log.display()));
    println!();
    println!("| whole firmware, {image}-byte image over https:// with MQTT over TLS | bytes |");
    println!("|---|---|");
    println!("| peak heap of the boot that ran the OTA | {peak} |");
    println!(
        "| the firmware's heap share on the simulated board | {} |",
        ws63_sim::heap::FIRMWARE_HEAP
    );
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(ca_file);
}

/// A maximum-size OTA with the simulated flash taking a W25Q16's time (erase and program, with
/// the SDK's interrupt locks), against the time the flash alone needs for the package: the
/// physical floor of an OTA on the chip.
/// The heap a TLS session takes (mbedTLS's record buffers and handshake state, the client's
/// contexts), alone and with a second one open (the MQTT session and an HTTPS download).
fn tls_sessions() {
    use embedded_io::{Read as _, Write as _};
    use ws63_hal::tls::{self, TlsConfig};
    // An echo server behind a TLS front.
    let echo = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in echo.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 || c.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let ca = common::tls::Ca::new("bench CA");
    let front = common::tls::TlsFront::start(ca.server("localhost"), echo_port);
    let pem = ca.cert_pem();
    let session = || {
        let s = ws63_hal::net::TcpStream::connect("127.0.0.1", front.port, Duration::from_secs(5))
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut t = tls::connect(s, "localhost", &TlsConfig::new(pem.as_bytes())).unwrap();
        t.write_all(b"ping").unwrap();
        let mut b = [0u8; 4];
        t.read_exact(&mut b).unwrap();
        t
    };
    drop(session()); // the board's one-time set-up (its tables, the PSA core)
    let (_, one) = heap_peak(|| drop(session()));
    let (_, two) = heap_peak(|| {
        let a = session();
        let b = session();
        drop((a, b));
    });
    println!();
    println!("| TLS client (ECDHE-ECDSA P-256, AES-128-GCM) | peak heap |");
    println!("|---|---|");
    println!("| one session (handshake, one record each way) | {one} B |");
    println!("| two sessions open at once | {two} B |");
}

fn chip_timing(image: usize) {
    use ws63_sim::flash::{self, Timing};
    let pkg = package::build_app("2.0.0", image);
    let len = pkg.len();
    let srv = FirmwareServer::start(pkg, Faults::default());
    let board = SimBoard::new("bench-chip-timing");
    flash::set_timing(Some(Timing::W25Q16));
    let (took, _) = ota_once(&srv.url("/pkg"));
    flash::set_timing(None);
    assert!(board.requested());
    let floor = Timing::W25Q16.package_time(len as u32);
    println!();
    println!("| maximum-size OTA under chip flash timing (W25Q16) | OTA | flash alone | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| {len} bytes: download, erase, program, verify, request | {:.2} s | {:.2} s | {:.2} |",
        took.as_secs_f64(),
        floor.as_secs_f64(),
        took.as_secs_f64() / floor.as_secs_f64()
    );
}

/// Command-to-response latency of the gateway on the simulated board, through the broker:
/// 300 commands back to back after the gateway's `version_report`, and the first command once
/// more on a new board, sent 300 ms after that report.
fn latency() {
    const N: usize = 300;
    let samples = commands(N, Duration::ZERO);
    let later = commands(1, Duration::from_millis(300));
    let first = samples[0];
    let mut sorted = samples.clone();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!("| command-to-response latency | first | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    println!(
        "| {N} `ota_upgrade` commands back to back (refused: same version), the first right after the `version_report` | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        ms(first),
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.99)),
        ms(sorted[N - 1]),
    );
    println!(
        "| the first command sent 300 ms after the `version_report` (another board) | {:.2} ms | | | |",
        ms(later[0])
    );
}

/// A new board and broker; `n` commands, the first `wait` after the board's version report.
fn commands(n: usize, wait: Duration) -> Vec<Duration> {
    let mut cloud = Cloud::start();
    let _board = Board::start(cloud.port, "http://127.0.0.1:9/{version}", "bench-latency");
    cloud.until(30, |_, v| common::version_report(v).is_some());
    // A benchmark, not a test: the wait is the variable measured.
    std::thread::sleep(wait);
    (0..n)
        .map(|i| {
            let rid = format!("lat{i}");
            let t = Instant::now();
            cloud.command(&rid, r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#);
            let resp = cloud.response(&rid, 10);
            let took = t.elapsed();
            assert!(resp.contains("same_version"), "{resp}");
            took
        })
        .collect()
}

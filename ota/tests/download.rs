//! The OTA engine on the simulated board (real sockets to a real HTTP server on loopback, the
//! SDK's upgrade API on the simulated flash): every way a download can go.

mod common;

use std::time::Duration;

use common::{sha256_hex, Board, Faults, FirmwareServer};
use ota::board::{HalConnector, SdkSink};
use ota::engine::{Phase, Progress};
use ota::{OtaConfig, OtaError, OtaRequest};
use ws63_sim::package;

fn request(url: String, sha: Option<String>, size: Option<u32>) -> OtaRequest {
    OtaRequest { version: "2.0.0".into(), url, sha256: sha, size, token: None }
}

fn quick() -> OtaConfig {
    OtaConfig {
        retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        ..OtaConfig::default()
    }
}

fn connector() -> HalConnector {
    HalConnector {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(300),
        ca: None,
    }
}

#[derive(Default)]
struct Recorder {
    phases: Vec<Phase>,
    percents: Vec<u32>,
}

impl Progress for Recorder {
    fn phase(&mut self, p: Phase) {
        self.phases.push(p);
    }
    fn bytes(&mut self, written: u32, total: u32) {
        self.percents.push((u64::from(written) * 100 / u64::from(total)) as u32);
    }
}

fn download(req: &OtaRequest, cfg: OtaConfig) -> (Result<ota::Downloaded, OtaError>, Recorder) {
    let mut rec = Recorder::default();
    let r = ota::run(req, cfg, &mut connector(), &mut SdkSink::default(), &mut rec);
    (r, rec)
}

fn pkg(size: usize) -> Vec<u8> {
    package::build_app("2.0.0", size)
}

#[test]
fn a_clean_download_is_verified_requested_and_installs() {
    let board = Board::new("clean");
    let p = pkg(200_000);
    let srv = FirmwareServer::start(p.clone(), Faults::default());
    let req = request(srv.url("/pkg"), Some(sha256_hex(&p).to_uppercase()), Some(p.len() as u32));
    let (r, rec) = download(&req, quick());
    let d = r.unwrap();
    assert_eq!(
        (d.len as usize, d.reconnects, d.package_version.as_deref()),
        (p.len(), 0, Some("2.0.0"))
    );
    assert!(board.requested());
    assert_eq!(rec.phases.first(), Some(&Phase::Connecting(1)));
    assert_eq!(
        &rec.phases[rec.phases.len() - 3..],
        &[Phase::Verifying, Phase::Requesting, Phase::Ready]
    );
    assert!(rec.percents.windows(2).all(|w| w[0] < w[1]), "progress only goes up");
    assert_eq!(rec.percents.last(), Some(&100));
    assert_eq!(board.reboot_and_version().as_deref(), Some("2.0.0"));
}

#[test]
fn chunked_and_redirected_downloads_work() {
    let board = Board::new("chunked");
    let p = pkg(50_000);
    let srv = FirmwareServer::start(p.clone(), Faults { chunked: true, ..Faults::default() });
    // No size anywhere: the length comes from the package's own hash table.
    let (r, _) = download(&request(srv.url("/r/3"), Some(sha256_hex(&p)), None), quick());
    assert_eq!(r.unwrap().len as usize, p.len());
    assert!(board.requested());
    let paths: Vec<String> = srv.hits().into_iter().map(|h| h.path).collect();
    assert_eq!(paths, ["/r/3", "/r/2", "/r/1", "/r/0", "/pkg"]);

    let (r, _) = download(&request(srv.url("/r/9"), None, None), quick());
    assert_eq!(r.unwrap_err(), OtaError::Protocol("too many redirects"));
}

#[test]
fn a_default_package_is_checked_early_and_sized_from_its_hash_table() {
    // The SDK's default configuration: signed, the app and flashboot LZMA-compressed.
    let board = Board::new("default");
    let p = common::default_pkg("2.0.0", 300_000);
    // The header check in ECDSA mode: the structure, not the signatures (the device's).
    let info = ota::package::check_header(&p[..ota::package::HEADER_LEN]).unwrap();
    assert_eq!((info.image_num, info.sha_mode), (2, false));
    // The length the hash table implies: the end of the flashboot image, the last one.
    let len = ota::package::package_len(&p[..info.table_end], &info).unwrap();
    assert_eq!(len as usize, p.len());
    assert!(p.len() < 300_000 / 2 + 20_000, "compressed: {} bytes", p.len());
    // Chunked, no size anywhere: the OTA learns the length from the table and installs it.
    let srv = FirmwareServer::start(p.clone(), Faults { chunked: true, ..Faults::default() });
    let (r, _) = download(&request(srv.url("/pkg"), Some(sha256_hex(&p)), None), quick());
    let d = r.unwrap();
    assert_eq!((d.len as usize, d.package_version.as_deref()), (p.len(), Some("2.0.0")));
    assert!(board.requested());
    assert_eq!(board.reboot_and_version().as_deref(), Some("2.0.0"));
}

#[test]
fn a_default_package_the_board_cannot_verify_never_installs() {
    let board = Board::new("default-bad");
    let stranger = ws63_sim::keys::test_key("someone else's root key");
    let theirs = package::Spec::sdk_default("2.0.0", 100_000, &stranger).build();
    let srv = FirmwareServer::start(theirs.clone(), Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    let e = r.unwrap_err();
    assert!(matches!(e, OtaError::Rejected(_)), "{e:?}");
    assert_eq!(e.result_code(), ota::error::result_code::VERIFICATION_FAILED);
    assert!(!board.requested());
    assert_eq!(board.reboot_and_version().as_deref(), Some("1.0.0"));
}

#[test]
fn http_errors_end_without_a_request() {
    let board = Board::new("http");
    let srv = FirmwareServer::start(pkg(10_000), Faults::default());
    for (path, code) in [("/status/404", 404), ("/status/500", 500), ("/missing", 404)] {
        let (r, _) = download(&request(srv.url(path), None, None), quick());
        let e = r.unwrap_err();
        assert_eq!(e, OtaError::Http(code));
        assert_eq!(e.result_code(), ota::error::result_code::DOWNLOAD_TIMEOUT);
    }
    assert!(!board.requested() && !board.prepared());
}

#[test]
fn a_flash_write_failing_in_an_ota_ends_it_with_iotda_result_10_and_the_old_version_runs() {
    // The erase (1st operation), then program writes: fail at the erase, at the first write,
    // and deep in the package.
    for at in [1, 2, 20] {
        let board = Board::new("flash-fault");
        let srv = FirmwareServer::start(pkg(100_000), Faults::default());
        ws63_sim::faults::Faults { flash_write_error_at: Some(at), ..Default::default() }.install();
        let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
        let e = r.unwrap_err();
        assert!(matches!(e, OtaError::Flash(_)), "write {at}: {e}");
        assert_eq!(e.result_code(), ota::error::result_code::INSTALL_FAILED, "write {at}");
        assert!(ws63_sim::faults::flash_writes() >= at, "the fault was reached");
        assert!(!board.requested(), "write {at}: never requested");
        assert_eq!(board.reboot_and_version().as_deref(), Some("1.0.0"));
    }
}

#[test]
fn an_https_url_without_ca_certificates_is_refused_before_any_connection() {
    let board = Board::new("https-no-ca");
    let srv = FirmwareServer::start(pkg(10_000), Faults::default());
    let url = srv.url("/pkg").replacen("http://", "https://", 1);
    let (r, _) = download(&request(url, None, None), quick());
    assert_eq!(
        r.unwrap_err(),
        OtaError::Network("https:// needs CA certificates ([ota] ca_file)".into())
    );
    assert!(srv.hits().is_empty(), "not retried, nothing sent");
    assert!(!board.requested() && !board.prepared());
}

#[test]
fn a_wrong_sha256_or_a_malformed_one_never_reaches_request_upgrade() {
    let board = Board::new("sha");
    let p = pkg(30_000);
    let srv = FirmwareServer::start(p.clone(), Faults::default());
    let wrong = sha256_hex(b"another file");
    let (r, _) = download(&request(srv.url("/pkg"), Some(wrong), None), quick());
    let e = r.unwrap_err();
    assert_eq!(e, OtaError::HashMismatch);
    assert_eq!(e.result_code(), ota::error::result_code::VERIFICATION_FAILED);
    assert!(!board.requested());
    let before = srv.hits().len();
    for bad in ["", "abc", &"z".repeat(64)] {
        let (r, _) = download(&request(srv.url("/pkg"), Some(bad.to_string()), None), quick());
        assert!(matches!(r.unwrap_err(), OtaError::BadRequest(_)), "{bad:?}");
    }
    assert_eq!(srv.hits().len(), before, "a malformed hash is refused before any request");
}

#[test]
fn a_file_that_is_no_package_is_refused_on_its_header_before_anything_is_erased() {
    let board = Board::new("header");
    let not_a_package = package::sim_app_image("2.0.0", 300_000);
    let srv = FirmwareServer::start(not_a_package, Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    let e = r.unwrap_err();
    assert!(matches!(e, OtaError::UnsupportedPackage(_)), "{e}");
    assert_eq!(e.result_code(), ota::error::result_code::UNSUPPORTED_PACKAGE);
    assert!(!board.prepared(), "the storage was never prepared");

    // A corrupted header area (SHA-256 mode) is caught the same way.
    let bad = package::flip_bit(&pkg(10_000), 8 * 0x150);
    let srv = FirmwareServer::start(bad, Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    assert!(matches!(r.unwrap_err(), OtaError::Rejected(_)));
    assert!(!board.prepared());

    let srv = FirmwareServer::start(vec![0u8; 100], Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    assert!(matches!(r.unwrap_err(), OtaError::UnsupportedPackage(_)));
}

#[test]
fn oversized_packages_are_refused_before_prepare() {
    let board = Board::new("big");
    let srv = FirmwareServer::start(pkg(10_000), Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, Some(0x18_0001)), quick());
    assert_eq!(r.unwrap_err(), OtaError::NoSpace { len: 0x18_0001, capacity: 0x18_0000 });
    assert!(srv.hits().is_empty(), "refused before connecting");
    let big = pkg(0x18_0000);
    let srv = FirmwareServer::start(big, Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    let e = r.unwrap_err();
    assert!(matches!(e, OtaError::NoSpace { .. }), "{e}");
    assert_eq!(e.result_code(), ota::error::result_code::NO_SPACE);
    assert!(!board.prepared());
}

#[test]
fn a_declared_size_that_does_not_match_is_refused() {
    let board = Board::new("size");
    let p = pkg(10_000);
    let srv = FirmwareServer::start(p.clone(), Faults::default());
    let (r, _) = download(&request(srv.url("/pkg"), None, Some(p.len() as u32 + 1)), quick());
    assert_eq!(
        r.unwrap_err(),
        OtaError::SizeMismatch { declared: p.len() as u32 + 1, actual: p.len() as u32 }
    );
    assert!(!board.requested());
}

#[test]
fn an_over_long_response_head_is_an_error_not_an_overflow() {
    let board = Board::new("head");
    let srv = FirmwareServer::start(
        pkg(10_000),
        Faults { long_header: Some(10_000), ..Faults::default() },
    );
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    assert_eq!(r.unwrap_err(), OtaError::Protocol("response head too long"));
    assert!(!board.prepared());
}

#[test]
fn a_stalled_server_times_out_without_a_request() {
    let board = Board::new("stall");
    let p = pkg(100_000);
    let srv = FirmwareServer::start(p, Faults { stall_at: Some(40_000), ..Faults::default() });
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    let e = r.unwrap_err();
    assert_eq!(e, OtaError::DownloadTimeout);
    assert_eq!(e.result_code(), ota::error::result_code::DOWNLOAD_TIMEOUT);
    assert!(!board.requested());
}

#[test]
fn a_truncated_body_is_never_requested() {
    let board = Board::new("trunc");
    let p = pkg(60_000);
    let srv = FirmwareServer::start(
        p.clone(),
        Faults { truncate_at: Some(p.len() as u64 - 100), ..Faults::default() },
    );
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    assert!(matches!(r.unwrap_err(), OtaError::Network(_)));
    assert!(board.prepared() && !board.requested());
}

#[test]
fn cuts_at_eleven_offsets_resume_with_206_from_the_first_missing_byte() {
    let board = Board::new("resume");
    let p = pkg(300_000);
    let cuts = vec![
        1,
        511,
        560,
        600,
        4096,
        50_001,
        100_000,
        123_457,
        200_000,
        250_000,
        p.len() as u64 - 1,
    ];
    let srv =
        FirmwareServer::start(p.clone(), Faults { cut_at: cuts.clone(), ..Faults::default() });
    let req = request(srv.url("/pkg"), Some(sha256_hex(&p)), Some(p.len() as u32));
    let (r, _) = download(&req, quick());
    let d = r.unwrap();
    assert_eq!(d.reconnects as usize, cuts.len());
    let ranges: Vec<Option<String>> = srv.hits().into_iter().map(|h| h.range).collect();
    let mut want = vec![None];
    // Cuts inside the first 512+table bytes start over (the header was never stored).
    let header_end = 0x230;
    for c in &cuts {
        want.push(if *c < header_end { None } else { Some(format!("bytes={c}-")) });
    }
    assert_eq!(ranges, want);
    assert!(board.requested());
    assert_eq!(board.reboot_and_version().as_deref(), Some("2.0.0"));
}

#[test]
fn a_server_that_ignores_range_restarts_cleanly_from_zero() {
    let board = Board::new("norange");
    let p = pkg(120_000);
    let srv = FirmwareServer::start(
        p.clone(),
        Faults { cut_at: vec![70_000], ignore_range: true, ..Faults::default() },
    );
    let (r, _) = download(&request(srv.url("/pkg"), Some(sha256_hex(&p)), None), quick());
    assert_eq!(r.unwrap().reconnects, 1);
    let ranges: Vec<Option<String>> = srv.hits().into_iter().map(|h| h.range).collect();
    assert_eq!(ranges, [None, Some("bytes=70000-".to_string())]);
    assert!(board.requested(), "the second, full body was written after a fresh prepare");
    assert_eq!(board.reboot_and_version().as_deref(), Some("2.0.0"));
}

#[test]
fn a_206_for_another_range_is_refused() {
    let board = Board::new("badrange");
    let p = pkg(50_000);
    let srv = FirmwareServer::start(
        p,
        Faults { cut_at: vec![20_000], wrong_range: true, ..Faults::default() },
    );
    let (r, _) = download(&request(srv.url("/pkg"), None, None), quick());
    assert_eq!(r.unwrap_err(), OtaError::Protocol("206 for a range we did not ask for"));
    assert!(!board.requested());
}

#[test]
fn an_unreachable_server_is_a_network_error_after_bounded_retries() {
    let board = Board::new("refused");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (r, rec) = download(&request(format!("http://127.0.0.1:{port}/pkg"), None, None), quick());
    let e = r.unwrap_err();
    assert!(matches!(e, OtaError::Network(_)), "{e}");
    assert_eq!(e.result_code(), ota::error::result_code::POOR_SIGNAL);
    assert_eq!(rec.phases, [Phase::Connecting(1), Phase::Connecting(2), Phase::Connecting(3)]);
    assert!(!board.prepared());
}

#[test]
fn the_bearer_token_is_sent() {
    let _board = Board::new("token");
    let p = pkg(5_000);
    let srv = FirmwareServer::start(p, Faults::default());
    let mut req = request(srv.url("/pkg"), None, None);
    req.token = Some("abc.def".into());
    download(&req, quick()).0.unwrap();
    assert_eq!(srv.hits()[0].auth.as_deref(), Some("Bearer abc.def"));
}

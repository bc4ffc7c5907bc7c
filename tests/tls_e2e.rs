//! TLS end to end on the simulated board, through TLS fronts (rustls, certificates made by
//! the test): MQTT over TLS (`ws63-sim run --broker mqtts://... --ca-file CA.pem`) carries a
//! whole OTA, also with the download over `https://` at the same time (one CA file); a broker certified by a stranger is never logged in to; an `https://` download
//! (`--ota-ca-file`) is cut and resumed with `Range` over new TLS sessions and installed; an
//! `https://` server certified by a stranger fails the OTA with the reason, before a byte of
//! HTTP, and the old firmware runs on.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::fixture::{self, Faults, FirmwareServer};
use common::tls::{Ca, Mosquitto, TlsFront};
use common::{event_type, version_report, Board, Cloud};

/// A board whose OTA URL is on `https` (a TLS front), trusting `ca_file`, running 1.0.0 and
/// told to upgrade to 2.0.0 (command `rid`).
fn https_ota(cloud: &mut Cloud, https: &TlsFront, ca_file: &std::path::Path, rid: &str) -> Board {
    let url = format!("https://localhost:{}/pkg/{{version}}", https.port);
    let board = Board::start_with(
        cloud.port,
        &url,
        &format!("https-{rid}"),
        &["--ota-ca-file", ca_file.to_str().unwrap()],
    );
    cloud.until(30, |_, v| version_report(v) == Some("1.0.0"));
    cloud.command(rid, r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    assert!(cloud.response(rid, 10).contains("ota_started"));
    board
}

/// The last `upgrade_progress_report` of an OTA: 100 %, or a failure.
fn ota_end(cloud: &mut Cloud) -> serde_json::Value {
    let (_, v) = cloud.until(60, |_, v| {
        let p = &v["services"][0]["paras"];
        event_type(v) == "upgrade_progress_report"
            && (p["progress"] == 100 || p["result_code"] != 0)
    });
    v["services"][0]["paras"].clone()
}

/// The C original's command for 2.0.0 (`rid`), answered with its exact bytes, the OTA to
/// 100 %, and the new firmware's `version_report` after the reboot.
fn upgrade_to_2(cloud: &mut Cloud, rid: &str) {
    cloud.command(rid, r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    assert_eq!(
        cloud.response(rid, 10),
        r#"{"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}"#
    );
    let end = ota_end(cloud);
    assert_eq!(
        (end["result_code"].as_u64(), end["progress"].as_u64()),
        (Some(0), Some(100)),
        "{end}"
    );
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("2.0.0"));
}

#[test]
fn a_whole_ota_runs_over_a_verified_mqtt_tls_session() {
    let mut cloud = Cloud::start();
    let ca = Ca::new("test CA");
    let front = TlsFront::start(ca.server("localhost"), cloud.port);
    let srv = FirmwareServer::start(fixture::default_pkg("2.0.0", 60_000), Faults::default());
    let ca_file = ca.file("mqtts");
    let _board = Board::start_at(
        &format!("mqtts://localhost:{}", front.port),
        &srv.url("/pkg/{version}"),
        "mqtts-ok",
        &["--ca-file", ca_file.to_str().unwrap()],
    );
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));
    assert_eq!(front.established.load(Ordering::SeqCst), 1, "logged in over TLS");
    // After the reboot, the new firmware logs in over TLS again.
    upgrade_to_2(&mut cloud, "t1");
    assert_eq!(front.established.load(Ordering::SeqCst), 2);
    assert_eq!(front.failed.load(Ordering::SeqCst), 0);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn a_whole_ota_over_mqtts_downloads_over_https_with_one_ca_file() {
    // `--broker mqtts://... --ca-file CA.pem --ota-url https://...`: the one CA file serves
    // both (no --ota-ca-file); two TLS sessions open at once (MQTT and the download) in the board's
    // heap share, with the chip's record buffers.
    let mut cloud = Cloud::start();
    let ca = Ca::new("test CA");
    let mqtts = TlsFront::start(ca.server("localhost"), cloud.port);
    let srv = FirmwareServer::start(fixture::default_pkg("2.0.0", 300_000), Faults::default());
    let https = TlsFront::start(ca.server("localhost"), srv.port);
    let ca_file = ca.file("both");
    let ca_arg = ca_file.to_str().unwrap();
    let _board = Board::start_at(
        &format!("mqtts://localhost:{}", mqtts.port),
        &format!("https://localhost:{}/pkg/{{version}}", https.port),
        "mqtts-https",
        &["--ca-file", ca_arg],
    );
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));
    upgrade_to_2(&mut cloud, "b1");
    // One MQTT session per boot (no reboot in between: the heap held out), one download.
    assert_eq!(mqtts.established.load(Ordering::SeqCst), 2);
    assert_eq!(https.established.load(Ordering::SeqCst), 1);
    assert_eq!(srv.hits().len(), 1, "one request, never resumed");
    assert_eq!(mqtts.failed.load(Ordering::SeqCst) + https.failed.load(Ordering::SeqCst), 0);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn a_whole_ota_through_mosquittos_tls_listener_with_the_download_over_https() {
    // The same over mosquitto's own TLS listener (OpenSSL on the server side), bridged to the
    // test's broker; the download from an HTTPS server; one CA file for both.
    let mut cloud = Cloud::start();
    let ca = Ca::new("test CA");
    let Some(broker) = Mosquitto::start(Some(&ca), cloud.port, common::ROOT, "ota") else {
        return;
    };
    // The bridge announces itself on the cloud's side once it is connected.
    cloud.until(10, |_, v| v == 1);
    let srv = FirmwareServer::start(fixture::default_pkg("2.0.0", 300_000), Faults::default());
    let https = TlsFront::start(ca.server("localhost"), srv.port);
    let ca_file = ca.file("mosquitto");
    let ca_arg = ca_file.to_str().unwrap();
    let _board = Board::start_at(
        &format!("mqtts://localhost:{}", broker.port),
        &format!("https://localhost:{}/pkg/{{version}}", https.port),
        "mosquitto-https",
        &["--ca-file", ca_arg],
    );
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "{}", broker.log());
    upgrade_to_2(&mut cloud, "q1");
    // mosquitto saw the board log in over TLS at each boot (at least twice: under heavy load a
    // login may be retried), and no handshake failed.
    let log = broker.log();
    assert!(log.matches("New client connected from 127.0.0.1").count() >= 2, "{log}");
    assert!(!log.contains("OpenSSL Error"), "{log}");
    assert_eq!(https.established.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn iotdas_upgrade_events_download_their_https_urls_over_verified_sessions() {
    // IoTDA's two `$ota` upgrade events with https:// URLs: `firmware_upgrade` (the package in
    // IoTDA, a Bearer token) and `firmware_upgrade_v2` (the package in OBS, no token), over
    // MQTT over TLS, one CA file for both.
    let mut cloud = Cloud::start();
    let ca = Ca::new("test CA");
    let mqtts = TlsFront::start(ca.server("localhost"), cloud.port);
    let (p2, p3) = (fixture::default_pkg("2.0.0", 60_000), fixture::default_pkg("3.0.0", 60_000));
    let signs = [fixture::sha256_hex(&p2).to_uppercase(), fixture::sha256_hex(&p3)];
    let sizes = [p2.len(), p3.len()];
    let (srv2, srv3) = (
        FirmwareServer::start(p2, Faults::default()),
        FirmwareServer::start(p3, Faults::default()),
    );
    let (iotda, obs) = (
        TlsFront::start(ca.server("localhost"), srv2.port),
        TlsFront::start(ca.server("localhost"), srv3.port),
    );
    let ca_file = ca.file("events");
    let _board = Board::start_at(
        &format!("mqtts://localhost:{}", mqtts.port),
        "http://127.0.0.1:9/unused/{version}",
        "https-events",
        &["--ca-file", ca_file.to_str().unwrap()],
    );
    cloud.until(30, |_, v| version_report(v) == Some("1.0.0"));
    let url = format!("https://localhost:{}/pkg/2.0.0", iotda.port);
    cloud.event(&format!(
        r#"{{"services":[{{"service_id":"$ota","event_type":"firmware_upgrade","paras":{{"version":"2.0.0","url":"{url}","file_size":{},"sign":"{}","access_token":"tok"}}}}]}}"#,
        sizes[0], signs[0]
    ));
    cloud.until(60, |_, v| version_report(v) == Some("2.0.0"));
    // An OBS address: signed in its query, no token.
    let url = format!(
        "https://localhost:{}/pkg/3.0.0.fwpkg?AccessKeyId=k&Expires=9&Signature=s",
        obs.port
    );
    cloud.event(&format!(
        r#"{{"services":[{{"service_id":"$ota","event_type":"firmware_upgrade_v2","paras":{{"version":"3.0.0","url":"{url}","file_size":{},"file_name":"3.0.0.fwpkg","sign":"{}"}}}}]}}"#,
        sizes[1], signs[1]
    ));
    cloud.until(60, |_, v| version_report(v) == Some("3.0.0"));
    let (h2, h3) = (srv2.hits(), srv3.hits());
    assert_eq!((h2.len(), h3.len()), (1, 1), "{h2:?} {h3:?}");
    assert_eq!((h2[0].path.as_str(), h2[0].auth.as_deref()), ("/pkg/2.0.0", Some("Bearer tok")));
    assert!(h3[0].path.starts_with("/pkg/3.0.0.fwpkg?AccessKeyId=k"), "{h3:?}");
    assert_eq!(h3[0].auth, None, "no token for OBS");
    assert_eq!(
        iotda.established.load(Ordering::SeqCst) + obs.established.load(Ordering::SeqCst),
        2
    );
    assert_eq!(mqtts.established.load(Ordering::SeqCst), 3, "one MQTT session per boot");
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn a_broker_certified_by_a_stranger_is_never_logged_in_to() {
    let cloud = Cloud::start();
    let ours = Ca::new("test CA");
    let front = TlsFront::start(Ca::new("a stranger").server("localhost"), cloud.port);
    let ca_file = ours.file("stranger-broker");
    let _board = Board::start_at(
        &format!("mqtts://localhost:{}", front.port),
        "http://127.0.0.1:9/{version}",
        "mqtts-stranger",
        &["--ca-file", ca_file.to_str().unwrap()],
    );
    // The board refuses the certificate, backs off and tries again.
    let t = Instant::now();
    while front.failed.load(Ordering::SeqCst) < 2 {
        assert!(t.elapsed() < Duration::from_secs(30), "two refused handshakes within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(front.established.load(Ordering::SeqCst), 0, "no session with a stranger");
    drop(cloud);
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn an_https_download_is_resumed_over_new_sessions_and_installed() {
    let mut cloud = Cloud::start();
    let ca = Ca::new("test CA");
    let pkg = fixture::default_pkg("2.0.0", 300_000);
    let len = pkg.len();
    // The server drops the connection twice in the middle of the body.
    let srv =
        FirmwareServer::start(pkg, Faults { cut_at: vec![40_000, 120_000], ..Faults::default() });
    let https = TlsFront::start(ca.server("localhost"), srv.port);
    let ca_file = ca.file("https");
    let _board = https_ota(&mut cloud, &https, &ca_file, "h1");
    let end = ota_end(&mut cloud);
    assert_eq!(
        (end["result_code"].as_u64(), end["progress"].as_u64()),
        (Some(0), Some(100)),
        "{end}"
    );
    // Three TLS sessions: the first request and two resumed with Range from where each cut.
    let hits = srv.hits();
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert_eq!(hits[0].range, None);
    for h in &hits[1..] {
        let from: usize = h
            .range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
            .unwrap_or(0);
        assert!(from > 0 && from < len, "resumed inside the package: {hits:?}");
    }
    assert_eq!(https.established.load(Ordering::SeqCst), 3);
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("2.0.0"));
    let _ = std::fs::remove_file(ca_file);
}

#[test]
fn an_https_server_certified_by_a_stranger_fails_the_ota_before_any_http() {
    let mut cloud = Cloud::start();
    let ours = Ca::new("test CA");
    let srv = FirmwareServer::start(fixture::default_pkg("2.0.0", 60_000), Faults::default());
    let https = TlsFront::start(Ca::new("a stranger").server("localhost"), srv.port);
    let ca_file = ours.file("stranger-https");
    let _board = https_ota(&mut cloud, &https, &ca_file, "s1");
    let end = ota_end(&mut cloud);
    assert_ne!(end["result_code"], 0, "{end}");
    let why = end["description"].as_str().unwrap_or_default();
    assert!(why.contains("not signed by a trusted CA"), "{end}");
    // Refused once, not retried; the firmware server never saw a request.
    assert_eq!(https.failed.load(Ordering::SeqCst), 1);
    assert!(srv.hits().is_empty(), "{:?}", srv.hits());
    // The gateway serves on, with the old firmware.
    cloud.event(r#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#);
    let (_, v) = cloud.until(10, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));
    let _ = std::fs::remove_file(ca_file);
}

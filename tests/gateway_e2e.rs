//! The gateway end to end: the simulated board (`ws63-sim run`, a process per boot) against a
//! real MQTT broker (rumqttd, in-process) and a firmware server on loopback. The "cloud" is
//! the broker's in-process client.

mod common;

use std::time::Duration;

use common::fixture::{self, Faults, FirmwareServer};
use common::{event_type, version_report, Board, Cloud, Relay, ROOT};

#[test]
fn an_ota_command_downloads_reboots_and_reports_the_new_version() {
    let mut cloud = Cloud::start();
    let p = fixture::default_pkg("2.0.0", 120_000);
    let srv = FirmwareServer::start(p, Faults { cut_at: vec![50_000], ..Faults::default() });
    let _board = Board::start(cloud.port, &srv.url("/pkg/{version}"), "ota");
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "a version_report after boot");

    cloud.command("r1", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    let (topic, resp) = cloud.next(10);
    assert_eq!(topic, format!("{ROOT}/commands/response/request_id=r1"));
    assert_eq!(
        resp,
        r#"{"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}"#
    );

    let mut progress = Vec::new();
    loop {
        let (_, v) = cloud.until(30, |_, v| event_type(v) == "upgrade_progress_report");
        let p = &v["services"][0]["paras"];
        assert_eq!(
            (p["result_code"].as_u64(), p["version"].as_str()),
            (Some(0), Some("2.0.0")),
            "{v}"
        );
        progress.push(p["progress"].as_u64().unwrap());
        if p["description"].as_str().unwrap().contains("installing") {
            break;
        }
    }
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "in order: {progress:?}");
    assert_eq!(progress.last(), Some(&100));
    assert!(progress.len() >= 5, "reported as it went: {progress:?}");
    assert!(srv.hits().iter().any(|h| h.range.is_some()), "resumed after the cut");

    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("2.0.0"), "after the reboot, the new version");
}

#[test]
fn busy_unknown_malformed_and_queries_are_answered_and_the_gateway_keeps_serving() {
    let mut cloud = Cloud::start();
    let p = fixture::default_pkg("3.0.0", 200_000);
    let srv = FirmwareServer::start(p, Faults { stall_at: Some(100_000), ..Faults::default() });
    let _board = Board::start(cloud.port, &srv.url("/pkg/{version}"), "busy");
    cloud.until(30, |_, v| version_report(v).is_some());

    cloud.command("a", r#"{"command_name":"ota_upgrade","paras":{"version":"3.0.0"}}"#);
    assert!(cloud.response("a", 10).contains("ota_started"));
    cloud.command("b", r#"{"command_name":"ota_upgrade","paras":{"version":"3.0.0"}}"#);
    assert_eq!(
        cloud.response("b", 10),
        r#"{"result_code":1,"response_name":"ota_upgrade","paras":{"result":"ota_start_failed","reason":"busy","detail":"an OTA is running"}}"#
    );

    cloud.command("c", r#"{"command_name":"reboot","paras":{}}"#);
    let (_, v) = cloud.until(10, |t, _| t.ends_with("request_id=c"));
    assert_eq!(
        v.to_string(),
        r#"{"paras":{"result":"unsupported_command"},"response_name":"reboot","result_code":1}"#
    );

    cloud.command("d", "{not json");
    let (_, v) = cloud.until(10, |t, _| t.ends_with("request_id=d"));
    assert_eq!(
        (v["result_code"].as_u64(), v["paras"]["reason"].as_str()),
        (Some(1), Some("malformed_json"))
    );

    cloud.command("e", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#);
    let (_, v) = cloud.until(10, |t, _| t.ends_with("request_id=e"));
    assert_eq!(v["paras"]["reason"], "same_version", "{v}");

    cloud.command("f", r#"{"command_name":"ota_upgrade","paras":{"version":"../x"}}"#);
    assert_eq!(
        cloud.response("f", 10),
        r#"{"result_code":1,"response_name":"ota_upgrade","paras":{"result":"ota_start_failed","reason":"bad_request","detail":"bad request: version must be 1 to 16 of A-Z a-z 0-9 . _ -"}}"#
    );

    cloud.event(r#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#);
    let (_, v) = cloud.until(10, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));

    // Exactly one OTA ran: one download from the start (a resume would ask for a later range).
    let t = std::time::Instant::now();
    while srv.hits().is_empty() {
        assert!(t.elapsed() < Duration::from_secs(10), "the OTA never reached the server");
        std::thread::yield_now();
    }
    let fresh = srv
        .hits()
        .iter()
        .filter(|h| h.range.as_deref().is_none_or(|r| r.starts_with("bytes=0-")))
        .count();
    assert_eq!(fresh, 1, "downloads from byte 0: {:?}", srv.hits());
}

#[test]
fn after_a_broker_restart_the_gateway_reconnects_and_serves_events() {
    let mut first = Cloud::start();
    let relay = Relay::start(first.port);
    let p = fixture::default_pkg("4.0.0", 60_000);
    let (sha, len) = (fixture::sha256_hex(&p), p.len());
    let srv = FirmwareServer::start(p, Faults::default());
    let _board = Board::start(relay.port, &srv.url("/pkg/{version}"), "restart");
    first.until(30, |_, v| version_report(v).is_some());

    // The broker goes away; a new one, with no memory of the board, comes up.
    let mut next = None;
    relay.restart(|| {
        let c = Cloud::start();
        let port = c.port;
        next = Some(c);
        port
    });
    let mut cloud = next.unwrap();
    drop(first);
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "reconnected: a new session reports again");

    // A firmware_upgrade event over the new session.
    let url = srv.url("/pkg/4.0.0");
    cloud.event(&format!(
        r#"{{"services":[{{"service_id":"$ota","event_type":"firmware_upgrade","paras":{{"version":"4.0.0","url":"{url}","file_size":{},"sign":"{}","access_token":"tok"}}}}]}}"#,
        len,
        sha.to_uppercase()
    ));
    let (_, v) = cloud.until(60, |_, v| version_report(v) == Some("4.0.0"));
    assert_eq!(version_report(&v), Some("4.0.0"));
    assert_eq!(srv.hits()[0].auth.as_deref(), Some("Bearer tok"));
}

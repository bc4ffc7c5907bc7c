//! The fault matrix, on the whole system (board processes, broker, firmware server): power
//! cuts during an OTA, bad packages, WiFi failing at start, hostile commands. Each fault ends
//! with the board running a valid version and still serving.

mod common;

use common::fixture::{default_pkg, sha256_hex, Faults, FirmwareServer};
use common::{event_type, version_report, Board, Cloud, ROOT};
use serde_json::Value;
use ws63_sim::package;

fn ota(cloud: &mut Cloud, rid: &str, paras: &str) {
    cloud.command(rid, &format!(r#"{{"command_name":"ota_upgrade","paras":{paras}}}"#));
    let r = cloud.response(rid, 10);
    assert!(r.contains("ota_started"), "{r}");
}

/// Waits for the end of an OTA: the last progress report (100 % installing, or a failure).
fn ota_end(cloud: &mut Cloud) -> Value {
    let (_, v) = cloud.until(60, |_, v| {
        let p = &v["services"][0]["paras"];
        event_type(v) == "upgrade_progress_report"
            && (p["result_code"] != 0
                || p["description"].as_str().is_some_and(|d| d.contains("installing")))
    });
    v["services"][0]["paras"].clone()
}

fn online(cloud: &mut Cloud) -> String {
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    version_report(&v).unwrap().to_string()
}

#[test]
fn a_power_cut_at_ten_points_of_an_ota_boots_the_old_version_and_a_new_ota_succeeds() {
    // A package in the SDK's default configuration: 217,232 bytes (a 400,000-byte app and a
    // flashboot, compressed, signed).
    let p = default_pkg("2.0.0", 400_000);
    assert_eq!(p.len(), 217_232);
    let srv = FirmwareServer::start(p, Faults::default());
    // Flash operations of the first boot's OTA: prepare erases the package's area in three
    // 64 KiB blocks and six sectors, then the 12 KiB status region in three sectors (1..=12),
    // and writes three flags (13..=15); then the package (one write per received piece, at
    // least 54 for 217 KB: 16..=69 at least), then 2 flag writes (request). These points
    // cover prepare's erases and flags, and the download from its first write to its last.
    for cut in [1, 4, 9, 12, 13, 15, 16, 30, 50, 69] {
        let mut cloud = Cloud::start();
        let n = cut.to_string();
        let _board = Board::start_with(
            cloud.port,
            &srv.url("/pkg/{version}"),
            &format!("cut{cut}"),
            &["--power-cut-at-write", &n],
        );
        assert_eq!(online(&mut cloud), "1.0.0");
        ota(&mut cloud, "first", r#"{"version":"2.0.0"}"#);
        assert_eq!(
            online(&mut cloud),
            "1.0.0",
            "cut at write {cut}: the old version boots and reports"
        );
        ota(&mut cloud, "second", r#"{"version":"2.0.0"}"#);
        let end = ota_end(&mut cloud);
        assert_eq!(end["result_code"], 0, "cut at write {cut}: {end}");
        assert_eq!(online(&mut cloud), "2.0.0", "cut at write {cut}: the next OTA succeeds");
    }
}

#[test]
fn bad_packages_are_refused_with_iotda_codes_and_the_old_version_keeps_running() {
    let good = default_pkg("2.0.0", 100_000);
    let len = good.len();
    let corrupt = package::flip_bit(&good, 8 * (len - 3000));
    let truncated = package::truncate(&good, len - 1000);
    let stranger = ws63_sim::keys::test_key("not the board's root key");
    let theirs = package::Spec::sdk_default("2.0.0", 100_000, &stranger).build();
    let cases: Vec<(&str, Vec<u8>, String, u64)> = vec![
        ("corrupted image", corrupt, r#"{"version":"2.0.0"}"#.into(), 7),
        ("signed with another key", theirs, r#"{"version":"2.0.0"}"#.into(), 7),
        (
            "a flipped bit in the signature",
            package::flip_bit(&good, 0x1F0 * 8),
            r#"{"version":"2.0.0"}"#.into(),
            7,
        ),
        ("truncated file", truncated, r#"{"version":"2.0.0"}"#.into(), 7),
        (
            "wrong SHA-256",
            good.clone(),
            format!(r#"{{"version":"2.0.0","sha256":"{}"}}"#, sha256_hex(b"x")),
            7,
        ),
        ("oversized", good.clone(), r#"{"version":"2.0.0","size":2000000}"#.into(), 5),
        (
            "not a package",
            package::sim_app_image("2.0.0", 50_000),
            r#"{"version":"2.0.0"}"#.into(),
            8,
        ),
    ];
    for (what, bytes, paras, code) in cases {
        let mut cloud = Cloud::start();
        let srv = FirmwareServer::start(bytes, Faults::default());
        let _board = Board::start(cloud.port, &srv.url("/pkg/{version}"), "bad");
        assert_eq!(online(&mut cloud), "1.0.0");
        ota(&mut cloud, "r", &paras);
        let end = ota_end(&mut cloud);
        assert_eq!(end["result_code"], code, "{what}: {end}");
        cloud.event(
            r#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#,
        );
        assert_eq!(online(&mut cloud), "1.0.0", "{what}: the old version keeps running");
    }
}

#[test]
fn wifi_failing_at_start_is_retried_until_the_gateway_is_online() {
    let mut cloud = Cloud::start();
    let srv = FirmwareServer::start(default_pkg("2.0.0", 1000), Faults::default());
    let _board =
        Board::start_with(cloud.port, &srv.url("/pkg/{version}"), "wifi", &["--wifi-fail", "3"]);
    assert_eq!(online(&mut cloud), "1.0.0");
}

#[test]
fn hostile_commands_are_answered_or_ignored_and_the_gateway_keeps_serving() {
    let mut cloud = Cloud::start();
    let srv = FirmwareServer::start(default_pkg("2.0.0", 1000), Faults::default());
    let _board = Board::start(cloud.port, &srv.url("/pkg/{version}"), "hostile");
    online(&mut cloud);
    // Longer than the parser takes, short enough for the session to receive: answered.
    let huge = format!(
        r#"{{"command_name":"ota_upgrade","paras":{{"version":"{}"}}}}"#,
        "9".repeat(mqtt_cmd::command::MAX_PAYLOAD)
    );
    assert!(huge.len() + 64 < gateway::mqtt::MAX_PACKET);
    let deep = "[".repeat(3000);
    let cases: Vec<(&str, String, &str)> = vec![
        ("h1", huge, "payload_too_large"),
        ("h2", deep, "nesting_too_deep"),
        ("h3", "\u{0}\u{1}\u{2}".into(), "malformed_json"),
        ("h4", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1","size":1e99}}"#.into(), "bad_request"),
        ("h5", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1","url":"file:///etc/passwd"}}"#.into(), "bad_request"),
        ("h6", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1","url":"http://h/x\r\nHost: evil"}}"#.into(), "bad_request"),
        ("h7", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1","sha256":"zz"}}"#.into(), "bad_request"),
    ];
    for (rid, payload, reason) in cases {
        cloud
            .tx
            .publish(format!("{ROOT}/commands/request_id={rid}"), payload.into_bytes())
            .unwrap();
        let r: Value = serde_json::from_str(&cloud.response(rid, 10)).unwrap();
        assert_eq!(
            (r["result_code"].as_u64(), r["paras"]["reason"].as_str()),
            (Some(1), Some(reason)),
            "{rid}: {r}"
        );
    }
    // Longer than the session receives: the connection is dropped before the packet is
    // read, the gateway logs in again (a version report), and serves on.
    let too_big = format!(
        r#"{{"command_name":"ota_upgrade","paras":{{"version":"{}"}}}}"#,
        "9".repeat(gateway::mqtt::MAX_PACKET)
    );
    cloud.command("h8", &too_big);
    assert_eq!(online(&mut cloud), "1.0.0", "logged in again after the oversized packet");
    // A request id that would change the response topic gets no response at all.
    cloud.tx.publish(format!("{ROOT}/commands/request_id=a/+/#"), b"{}".to_vec()).unwrap();
    cloud.command("ok", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#);
    let r: Value = serde_json::from_str(&cloud.response("ok", 10)).unwrap();
    assert_eq!(r["paras"]["reason"], "same_version", "still serving: {r}");
}

//! The gateway on a board as strict as the chip (`ws63-sim run`: the flash takes the chip's
//! time, the heap has the firmware's share, the WiFi link can go away): a maximum-size OTA
//! keeps the MQTT session alive while the flash is erased; the link dropping in the middle of
//! a download or of a session; the heap running out during a command or an OTA.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::fixture::{default_pkg, Faults, FirmwareServer};
use common::{event_type, version_report, Board, Cloud, ROOT};
use ws63_sim::{package, upgrade};

/// A configuration file for the board with a short MQTT keep-alive.
fn config_with_keep_alive(name: &str, secs: u16) -> PathBuf {
    let text = include_str!("../config/gateway.example.toml")
        .replace("keep_alive = 60", &format!("keep_alive = {secs}"));
    let path = std::env::temp_dir().join(format!("strict-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn control_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("strict-{name}-{}.control", std::process::id()))
}

/// Every `upgrade_progress_report` until one with `description` containing `until` or a
/// failure; the last one.
fn progress_until(cloud: &mut Cloud, secs: u64, until: &str) -> serde_json::Value {
    loop {
        let (_, v) = cloud.until(secs, |_, v| event_type(v) == "upgrade_progress_report");
        let p = &v["services"][0]["paras"];
        if p["result_code"] != 0 || p["description"].as_str().unwrap_or("").contains(until) {
            return v;
        }
    }
}

#[test]
fn a_maximum_size_ota_keeps_the_mqtt_session_alive_while_the_flash_is_erased() {
    let mut cloud = Cloud::start();
    // The largest package the storage takes: SHA-256 mode and a raw image fill it to the
    // byte (a compressed one cannot be sized exactly).
    let image = upgrade::STORAGE_SIZE as usize - 0x200 - 48 - 160;
    let pkg = package::build_app("2.0.0", image);
    let srv = FirmwareServer::start(pkg, Faults::default());
    // Keep-alive 2 s: the broker drops a client it hears nothing from for 3 s. Erasing the
    // 1.5 MiB takes about 3.7 s, with interrupts locked per 64 KiB block.
    let cfg = config_with_keep_alive("keepalive", 2);
    let _board = Board::start_with(
        cloud.port,
        &srv.url("/pkg/{version}"),
        "keepalive",
        &["--config", cfg.to_str().unwrap()],
    );
    let (_, v) = cloud.until(30, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));
    cloud.command("m1", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    assert!(cloud.response("m1", 10).contains("ota_started"));
    let t0 = Instant::now();
    let mut reports = Vec::new();
    loop {
        let (_, v) = cloud.until(60, |_, v| !event_type(v).is_empty());
        assert_ne!(
            version_report(&v),
            Some("1.0.0"),
            "the session was lost and the gateway logged in again during the OTA"
        );
        if event_type(&v) == "upgrade_progress_report" {
            let p = &v["services"][0]["paras"];
            assert_eq!(p["result_code"], 0, "{v}");
            reports.push(p["progress"].as_u64().unwrap());
            if p["description"].as_str().unwrap().contains("installing") {
                break;
            }
        }
    }
    let took = t0.elapsed();
    let floor = ws63_sim::flash::Timing::W25Q16.package_time(upgrade::STORAGE_SIZE);
    assert!(took >= floor, "the flash took its time: {took:?} for a floor of {floor:?}");
    assert_eq!(reports.last(), Some(&100));
    // One HTTP request: no idle timeout while prepare erased.
    assert_eq!(srv.hits().len(), 1, "{:?}", srv.hits());
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("2.0.0"));
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn the_wifi_link_dropping_in_a_download_resumes_the_same_ota() {
    let mut cloud = Cloud::start();
    // A default-configuration package of about 420 kB (an 800 kB app, compressed).
    let pkg = default_pkg("2.0.0", 800_000);
    let srv = FirmwareServer::start(pkg, Faults::default());
    // The link drops once the board has received 200 kB (MQTT and HTTP together), and the
    // access point stays away for 2 s; the driver notices 3 s after it went.
    let _board = Board::start_with(
        cloud.port,
        &srv.url("/pkg/{version}"),
        "wifi-dl",
        &["--wifi-drop-after-rx", "200000", "--wifi-drop-for-ms", "2000"],
    );
    cloud.until(30, |_, v| version_report(v) == Some("1.0.0"));
    cloud.command("w1", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    assert!(cloud.response("w1", 10).contains("ota_started"));
    // The gateway loses its session too: it rejoins, logs in again (a new version_report),
    // and goes on reporting the same OTA.
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "logged in again after the rejoin");
    let last = progress_until(&mut cloud, 60, "installing");
    let p = &last["services"][0]["paras"];
    assert_eq!((p["result_code"].as_u64(), p["progress"].as_u64()), (Some(0), Some(100)), "{last}");
    assert_eq!(p["version"], "2.0.0", "the reports still name the OTA's version: {last}");
    // One OTA: one download from byte 0, then resumed with Range from where it broke.
    let hits = srv.hits();
    assert_eq!(hits.iter().filter(|h| h.range.is_none()).count(), 1, "{hits:?}");
    assert!(hits.iter().any(|h| h.range.is_some()), "resumed with Range: {hits:?}");
    let (_, v) = cloud.until(60, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("2.0.0"));
}

#[test]
fn the_wifi_link_dropping_in_a_session_ends_in_a_new_login() {
    let mut cloud = Cloud::start();
    let srv = FirmwareServer::start(default_pkg("2.0.0", 1000), Faults::default());
    let control = control_file("wifi-session");
    let _board = Board::start_with(
        cloud.port,
        &srv.url("/pkg/{version}"),
        "wifi-session",
        &["--control", control.to_str().unwrap()],
    );
    cloud.until(30, |_, v| version_report(v) == Some("1.0.0"));
    let t0 = Instant::now();
    ws63_sim::control::send(&control, "wifi-drop 1500\n", Duration::from_secs(5)).unwrap();
    // The driver notices after a while; the gateway rejoins and logs in again.
    cloud.until(60, |_, v| version_report(v) == Some("1.0.0"));
    assert!(
        t0.elapsed() >= ws63_sim::wifi::LINK_LOSS_DETECT,
        "the loss was noticed after {:?}",
        t0.elapsed()
    );
    cloud.event(r#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#);
    let (_, v) = cloud.until(10, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "serving again");
}

#[test]
fn an_exhausted_heap_gets_an_error_answer_or_a_clean_reboot_never_a_hang() {
    let mut cloud = Cloud::start();
    let pkg = default_pkg("2.0.0", 600_000);
    let srv = FirmwareServer::start(pkg, Faults::default());
    let control = control_file("heap");
    let _board = Board::start_with(
        cloud.port,
        &srv.url("/pkg/{version}"),
        "heap",
        &["--control", control.to_str().unwrap()],
    );
    cloud.until(30, |_, v| version_report(v) == Some("1.0.0"));

    // 6 KiB to spare: enough to take and answer a command, not the OTA thread's 12 KiB stack. The
    // command is answered with an error, and the gateway goes on serving.
    ws63_sim::control::send(&control, "heap-spare 6144\n", Duration::from_secs(5)).unwrap();
    cloud.command("h1", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    let r = cloud.response("h1", 10);
    assert!(r.contains(r#""result_code":1"#) && r.contains("ota_start_failed"), "{r}");
    assert!(r.contains(r#""reason":"internal""#), "{r}");
    cloud.event(r#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#);
    let (_, v) = cloud.until(10, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"));

    // 14 KiB to spare: the thread (its 12 KiB stack) starts, and the OTA runs out of memory on its way (its
    // buffers, the SDK's erase buffers). Either it reports that (IoTDA result 9) and the
    // gateway serves on, or the allocation fails in Rust code, which panics: the chip
    // reboots, and the board comes back with the old version. A panic can come before the
    // gateway thread has sent its answer to the command (the OTA thread runs at the same
    // priority), so the answer is only required when no reboot happened.
    ws63_sim::control::send(&control, "heap-spare 14336\n", Duration::from_secs(5)).unwrap();
    cloud.command("h2", r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#);
    let h2 = format!("{ROOT}/commands/response/request_id=h2");
    let mut answer = None;
    let (_, v) = cloud.until(60, |topic, v| {
        if topic == h2 {
            answer = Some(v.clone());
        }
        version_report(v).is_some()
            || (event_type(v) == "upgrade_progress_report"
                && v["services"][0]["paras"]["result_code"] != 0)
    });
    match version_report(&v) {
        Some(ver) => assert_eq!(ver, "1.0.0", "rebooted into the old version: {v}"),
        None => {
            let r = answer.expect("an OTA that failed without a reboot was answered first");
            assert_eq!(r["paras"]["result"], "ota_started", "{r}");
            assert_eq!(v["services"][0]["paras"]["result_code"], 9, "out of memory: {v}");
        }
    }
    // In both cases the gateway answers again.
    cloud.command("h3", r#"{"command_name":"reboot","paras":{}}"#);
    assert!(cloud.response("h3", 30).contains("unsupported_command"));
}

//! A man in the middle on plain MQTT, against the whole firmware on the simulated board
//! (`ws63-sim run`, its 128 KiB heap, one boot only): whatever it slips into the broker's
//! stream, the gateway drops that connection, logs in again, and serves; the board never
//! panics or reboots. (The gateway's own tests play a hostile broker packet by packet, with
//! the reconnection delays; the fuzz target `mqtt_session` feeds it any bytes.)

mod common;

use common::mqtt_bytes::{publish, publish_head};
use common::{version_report, Board, Cloud, Relay, ROOT};

#[test]
fn a_man_in_the_middle_cannot_crash_the_board_and_the_gateway_serves_on() {
    let mut cloud = Cloud::start();
    let relay = Relay::start(cloud.port);
    let mut board = Board::start_with(
        relay.port,
        "http://127.0.0.1:9/{version}",
        "mitm",
        &["--max-boots", "1"],
    );
    cloud.until(30, |_, v| version_report(v).is_some());

    let attacks: [(&str, Vec<u8>); 4] = [
        ("a PUBLISH of 1 MiB (8 times the board's heap)", {
            let mut p = publish_head(&format!("{ROOT}/commands/request_id=big"), None, 1 << 20);
            p.resize(p.len() + (1 << 20), b' ');
            p
        }),
        (
            "a QoS 1 PUBLISH with packet id 0",
            publish(&format!("{ROOT}/events/down"), Some(0), b"{}"),
        ),
        ("a packet of a reserved type", vec![0xf0, 0x00]),
        ("a Remaining Length of five bytes", vec![0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ];
    for (i, (what, bytes)) in attacks.into_iter().enumerate() {
        relay.inject(bytes);
        // The connection is dropped and a new session reports the version again.
        cloud.until(30, |_, v| version_report(v).is_some());
        assert_eq!(relay.connections(), i + 2, "{what}: one new connection");
        assert!(board.running(), "{what}: the board panicked or rebooted");
    }

    cloud.command("m1", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#);
    assert!(cloud.response("m1", 10).contains("same_version"), "the gateway serves");
    assert!(board.running());
}

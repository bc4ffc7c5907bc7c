//! The MQTT session against a real broker (rumqttd, in-process) over the simulated board's
//! sockets: login, subscription, commands in, QoS 1 responses out, keep-alive. (rumqttd
//! refuses `$`-prefixed filters, as MQTT reserves them, so these run under the `oc/...` root.)

use std::time::{Duration, Instant};

use gateway::mqtt::{Clock, Message, MqttError, Options, Session};
use rumqttd::Notification;
use ws63_hal::net::TcpStream;

struct Host(Instant);
impl Clock for Host {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

fn broker() -> (u16, rumqttd::local::LinkTx, rumqttd::local::LinkRx) {
    let ws63_sim::broker::Broker { port, tx, rx } = ws63_sim::broker::start(100).unwrap();
    // The listener is up once a connection is accepted.
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(10), "broker did not start");
        std::thread::yield_now();
    }
    (port, tx, rx)
}

fn session(port: u16, keep_alive: u16) -> Session<TcpStream, Host> {
    let s = TcpStream::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let opts = Options {
        client_id: "dev1_0_0_1970000100".into(),
        username: Some("dev1".into()),
        password: Some("pw".into()),
        keep_alive,
    };
    Session::connect(s, Host(Instant::now()), &opts, 5000).unwrap()
}

fn poll_until(s: &mut Session<TcpStream, Host>, secs: u64) -> Option<Message> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(m) = s.poll().unwrap() {
            return Some(m);
        }
    }
    None
}

fn forwarded(rx: &mut rumqttd::local::LinkRx, secs: u64) -> Option<(String, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Ok(Some(Notification::Forward(f))) = rx.recv_deadline(deadline) {
            return Some((
                String::from_utf8_lossy(&f.publish.topic).into_owned(),
                f.publish.payload.to_vec(),
            ));
        }
    }
    None
}

#[test]
fn commands_come_in_and_qos1_responses_go_out() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let (port, mut cloud_tx, mut cloud_rx) = broker();
    cloud_tx.subscribe("oc/devices/dev1/sys/commands/response/#").unwrap();
    let mut s = session(port, 30);
    s.subscribe("oc/devices/dev1/sys/commands/#", 5000).unwrap();
    let cmd = br#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1"}}"#;
    cloud_tx.publish("oc/devices/dev1/sys/commands/request_id=r1", cmd.to_vec()).unwrap();
    let m = poll_until(&mut s, 5).expect("the command arrives");
    assert_eq!(m.topic, "oc/devices/dev1/sys/commands/request_id=r1");
    assert_eq!(m.payload, cmd);
    s.publish("oc/devices/dev1/sys/commands/response/request_id=r1", b"{\"result_code\":0}", true)
        .unwrap();
    assert_eq!(s.unacked(), 1);
    let (topic, payload) = forwarded(&mut cloud_rx, 5).expect("the response reaches the cloud");
    assert_eq!(
        (topic.as_str(), payload.as_slice()),
        ("oc/devices/dev1/sys/commands/response/request_id=r1", &b"{\"result_code\":0}"[..])
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.unacked() > 0 && Instant::now() < deadline {
        s.poll().unwrap();
    }
    assert_eq!(s.unacked(), 0, "the PUBACK came back");
}

#[test]
fn keep_alive_pings_keep_an_idle_session_up() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let (port, mut cloud_tx, _cloud_rx) = broker();
    let mut s = session(port, 1);
    s.subscribe("t/#", 5000).unwrap();
    // Three keep-alive periods with no traffic of ours: without PINGREQs the broker would
    // drop us after 1.5 of them.
    let idle = Instant::now();
    while idle.elapsed() < Duration::from_millis(3000) {
        assert_eq!(s.poll().unwrap(), None);
    }
    cloud_tx.publish("t/x", b"still here".to_vec()).unwrap();
    assert_eq!(poll_until(&mut s, 5).map(|m| m.payload), Some(b"still here".to_vec()));
}

#[test]
fn a_refused_login_is_reported_with_the_brokers_code() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut buf = [0u8; 256];
        let _ = std::io::Read::read(&mut c, &mut buf);
        // CONNACK with return code 5: not authorised.
        std::io::Write::write_all(&mut c, &[0x20, 0x02, 0x00, 0x05]).unwrap();
    });
    let s = TcpStream::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let opts = Options { client_id: "c".into(), username: None, password: None, keep_alive: 0 };
    let r = Session::connect(s, Host(Instant::now()), &opts, 5000);
    assert_eq!(r.err(), Some(MqttError::Refused(5)));
    t.join().unwrap();
}

#[test]
fn several_packets_in_one_read_are_all_taken() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    let (port, mut cloud_tx, _cloud_rx) = broker();
    let mut s = session(port, 30);
    s.subscribe("c/#", 5000).unwrap();
    // Five QoS 1 publications back to back: their PUBACKs come back together, and with them
    // a command; every one of them must be processed.
    for i in 0..5 {
        s.publish("up/x", format!("{i}").as_bytes(), true).unwrap();
    }
    cloud_tx.publish("c/1", b"cmd".to_vec()).unwrap();
    assert_eq!(poll_until(&mut s, 5).map(|m| m.topic), Some("c/1".to_string()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.unacked() > 0 && Instant::now() < deadline {
        s.poll().unwrap();
    }
    assert_eq!(s.unacked(), 0);
}

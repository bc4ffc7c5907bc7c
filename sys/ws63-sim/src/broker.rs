//! The cloud side of the simulated board's world: an MQTT broker (rumqttd) on a free loopback
//! port, with an in-process client link, for the demo, the tests and the benchmarks.

use rumqttd::local::{LinkRx, LinkTx};

/// A running broker: its port and the in-process client link ("cloud").
pub struct Broker {
    /// The TCP port on 127.0.0.1 the broker listens on.
    pub port: u16,
    /// Publishes and subscribes as the cloud.
    pub tx: LinkTx,
    /// What the cloud's subscriptions receive.
    pub rx: LinkRx,
}

/// Starts a broker for up to `max_connections` clients on its own thread. The link works at
/// once; the TCP listener comes up shortly after (clients retry, or wait for it).
///
/// # Errors
/// No free port, or the broker refused its configuration or link.
pub fn start(max_connections: usize) -> Result<Broker, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let cfg = format!(
        "id = 0\n[router]\nid = 0\nmax_connections = {max_connections}\n\
         max_outgoing_packet_count = 200\nmax_segment_size = 1048576\nmax_segment_count = 10\n\
         [v4.1]\nname = \"v4-1\"\nlisten = \"127.0.0.1:{port}\"\nnext_connection_delay_ms = 1\n\
         [v4.1.connections]\nconnection_timeout_ms = 5000\nmax_payload_size = 20480\n\
         max_inflight_count = 100\ndynamic_filters = true\n"
    );
    let mut broker = rumqttd::Broker::new(toml::from_str(&cfg).map_err(|e| e.to_string())?);
    let (tx, rx) = broker.link("cloud").map_err(|e| format!("{e:?}"))?;
    std::thread::spawn(move || {
        if let Err(e) = broker.start() {
            eprintln!("[ws63-sim] the MQTT broker stopped: {e:?}");
        }
    });
    Ok(Broker { port, tx, rx })
}

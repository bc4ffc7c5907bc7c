//! An MQTT 3.1.1 client session over any byte stream (`embedded-io`), with keep-alive and
//! QoS 1, on the sans-I/O protocol engine `mqtt-protocol-core`.
//!
//! The session owns the stream and the protocol state; the caller drives it: [`Session::poll`]
//! reads what arrived (the stream's read timeout bounds each call), sends what the protocol
//! asks for (PUBACKs, PINGREQs when the keep-alive timer fires), and hands back received
//! messages one at a time. Reconnecting is the caller's: a session that reports
//! [`MqttError::Closed`] is done.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use embedded_io::{Error as _, Read, Write};
use mqtt::connection::{Event, TimerKind};
use mqtt::packet::v3_1_1;
use mqtt::packet::{GenericPacket, Qos, SubEntry, SubOpts};
use mqtt::prelude::*;
use mqtt_protocol_core::mqtt;

/// The largest packet the session accepts from the broker, in bytes: a command of the largest
/// size the command parser answers ([`mqtt_cmd::command::MAX_PAYLOAD`], so a slightly
/// longer one still gets its error response) with room for its topic. A larger packet (its
/// length is known from its first bytes) closes the connection before anything is allocated
/// for it: a broker, or a man in the middle on plain MQTT, cannot make the board allocate
/// what it does not have.
pub const MAX_PACKET: usize = mqtt_cmd::command::MAX_PAYLOAD + 1024;

/// The most bytes (topics and payloads) of received messages the session holds unread; a
/// broker that floods it past that while it waits for an acknowledgement is dropped.
pub const MAX_INBOX: usize = 2 * MAX_PACKET;

/// How to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Client identifier.
    pub client_id: String,
    /// User name, if the broker wants one.
    pub username: Option<String>,
    /// Password, if the broker wants one.
    pub password: Option<String>,
    /// Keep-alive in seconds (0: none).
    pub keep_alive: u16,
}

/// A message the broker delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its topic.
    pub topic: String,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// Why the session failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttError {
    /// The broker refused the connection with this CONNACK return code.
    Refused(u8),
    /// The connection is over (closed by the peer, a write failed, or the keep-alive
    /// expired).
    Closed(String),
    /// The broker did not answer in time.
    Timeout,
    /// The protocol engine reported an error, or an argument was invalid.
    Protocol(String),
}

impl core::fmt::Display for MqttError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MqttError::Refused(rc) => write!(f, "broker refused the connection (return code {rc})"),
            MqttError::Closed(why) => write!(f, "connection closed: {why}"),
            MqttError::Timeout => f.write_str("broker did not answer in time"),
            MqttError::Protocol(why) => write!(f, "MQTT: {why}"),
        }
    }
}

/// A monotonic clock in milliseconds (the kernel tick on the device).
pub trait Clock {
    /// Milliseconds since some fixed point.
    fn now_ms(&self) -> u64;
}

/// A connected MQTT session.
pub struct Session<T: Read + Write, C: Clock> {
    io: T,
    clock: C,
    proto: mqtt::Connection<mqtt::role::Client>,
    buf: Vec<u8>,
    timers: Vec<(TimerKind, u64)>,
    inbox: VecDeque<Message>,
    inbox_bytes: usize,
    connack: Option<u8>,
    subacked: Vec<u16>,
    unacked: Vec<u16>,
    closed: Option<String>,
}

fn perr(e: impl core::fmt::Debug) -> MqttError {
    MqttError::Protocol(format!("{e:?}"))
}

impl<T: Read + Write, C: Clock> Session<T, C> {
    /// Logs in over `io` and waits (at most `timeout_ms`) for the broker's CONNACK.
    ///
    /// # Errors
    /// [`MqttError::Refused`] with the broker's code; [`MqttError::Timeout`]; a closed stream.
    pub fn connect(io: T, clock: C, opts: &Options, timeout_ms: u64) -> Result<Self, MqttError> {
        let mut s = Session {
            io,
            clock,
            proto: mqtt::Connection::<mqtt::role::Client>::with_options(
                mqtt::Version::V3_1_1,
                mqtt::connection::ConnectionOptions::new()
                    .maximum_packet_size_recv(MAX_PACKET as u32),
            ),
            buf: vec![0u8; 1024],
            timers: Vec::new(),
            inbox: VecDeque::new(),
            inbox_bytes: 0,
            connack: None,
            subacked: Vec::new(),
            unacked: Vec::new(),
            closed: None,
        };
        // PUBACKs are the session's own (see `received`): the engine's automatic answer
        // panics on a QoS 1 PUBLISH with packet id 0 (mqtt-protocol-core 0.7.9, found by
        // the mqtt_session fuzz target).
        s.proto.set_auto_pub_response(false);
        s.proto.set_auto_ping_response(true);
        let mut b = v3_1_1::Connect::builder()
            .client_id(opts.client_id.as_str())
            .map_err(perr)?
            .clean_session(true)
            .keep_alive(opts.keep_alive);
        if let Some(u) = &opts.username {
            b = b.user_name(u.as_str()).map_err(perr)?;
        }
        if let Some(p) = &opts.password {
            b = b.password(p.as_bytes().to_vec()).map_err(perr)?;
        }
        let connect = b.build().map_err(perr)?;
        let events = s.proto.checked_send(connect);
        s.handle(events)?;
        let deadline = s.clock.now_ms() + timeout_ms;
        loop {
            match s.connack {
                Some(0) => return Ok(s),
                Some(rc) => return Err(MqttError::Refused(rc)),
                None => {}
            }
            if s.clock.now_ms() >= deadline {
                return Err(MqttError::Timeout);
            }
            s.read_once()?;
        }
    }

    /// Subscribes to `filter` at QoS 1 and waits (at most `timeout_ms`) for the SUBACK.
    ///
    /// # Errors
    /// The broker refused the filter, timed out, or the connection closed.
    pub fn subscribe(&mut self, filter: &str, timeout_ms: u64) -> Result<(), MqttError> {
        let id = self.proto.acquire_packet_id().map_err(perr)?;
        let entry =
            SubEntry::new(filter, SubOpts::new().set_qos(Qos::AtLeastOnce)).map_err(perr)?;
        let sub = v3_1_1::Subscribe::builder()
            .entries(vec![entry])
            .packet_id(id)
            .build()
            .map_err(perr)?;
        let events = self.proto.checked_send(sub);
        self.handle(events)?;
        let deadline = self.clock.now_ms() + timeout_ms;
        while !self.subacked.contains(&id) {
            if self.clock.now_ms() >= deadline {
                return Err(MqttError::Timeout);
            }
            self.read_once()?;
        }
        self.subacked.retain(|i| *i != id);
        Ok(())
    }

    /// Publishes `payload` to `topic`, at QoS 1 when `qos1` (the PUBACK is collected by
    /// later polls; [`Session::unacked`] tells what is still outstanding).
    ///
    /// # Errors
    /// The connection closed, or the packet could not be built.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos1: bool) -> Result<(), MqttError> {
        let mut b = v3_1_1::Publish::builder()
            .topic_name(topic)
            .map_err(perr)?
            .qos(if qos1 { Qos::AtLeastOnce } else { Qos::AtMostOnce })
            .payload(payload.to_vec());
        if qos1 {
            let id = self.proto.acquire_packet_id().map_err(perr)?;
            self.unacked.push(id);
            b = b.packet_id(id);
        }
        let p = b.build().map_err(perr)?;
        let events = self.proto.checked_send(p);
        self.handle(events)
    }

    /// Ends the session politely (DISCONNECT), so the broker drops it at once instead of
    /// waiting for the keep-alive to expire.
    ///
    /// # Errors
    /// The connection was already closed.
    pub fn disconnect(&mut self) -> Result<(), MqttError> {
        let events = self.proto.checked_send(v3_1_1::Disconnect::new());
        self.handle(events)?;
        self.close("disconnected".into()).or(Ok(()))
    }

    /// QoS 1 publications not acknowledged yet.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// Reads once (waiting at most the stream's read timeout), runs due timers, and returns
    /// the next received message, if any.
    ///
    /// # Errors
    /// [`MqttError::Closed`] once the connection is over.
    pub fn poll(&mut self) -> Result<Option<Message>, MqttError> {
        if self.inbox.is_empty() {
            self.read_once()?;
        }
        let m = self.inbox.pop_front();
        if let Some(m) = &m {
            self.inbox_bytes -= m.topic.len() + m.payload.len();
        }
        Ok(m)
    }

    fn read_once(&mut self) -> Result<(), MqttError> {
        if let Some(why) = &self.closed {
            return Err(MqttError::Closed(why.clone()));
        }
        self.fire_timers()?;
        match self.io.read(&mut self.buf) {
            Ok(0) => self.close("closed by the broker".into()),
            Ok(n) => {
                let data = self.buf[..n].to_vec();
                let mut cursor = mqtt::common::Cursor::new(data.as_slice());
                // The engine takes one packet per call: feed it until the read is used up
                // (a partial packet at the end stays in the engine for the next read).
                while (cursor.position() as usize) < data.len() {
                    let before = cursor.position();
                    let events = self.proto.recv(&mut cursor);
                    self.handle(events)?;
                    if cursor.position() == before {
                        break;
                    }
                }
                Ok(())
            }
            Err(e) if e.kind() == embedded_io::ErrorKind::TimedOut => Ok(()),
            Err(e) => self.close(format!("read: {:?}", e.kind())),
        }
    }

    fn fire_timers(&mut self) -> Result<(), MqttError> {
        let now = self.clock.now_ms();
        let due: Vec<TimerKind> =
            self.timers.iter().filter(|(_, t)| *t <= now).map(|(k, _)| *k).collect();
        self.timers.retain(|(_, t)| *t > now);
        for kind in due {
            if kind == TimerKind::PingrespRecv {
                return self.close("no PINGRESP within the keep-alive".into());
            }
            let events = self.proto.notify_timer_fired(kind);
            self.handle(events)?;
        }
        Ok(())
    }

    fn close(&mut self, why: String) -> Result<(), MqttError> {
        let _ = self.proto.notify_closed();
        self.closed = Some(why.clone());
        Err(MqttError::Closed(why))
    }

    fn handle(&mut self, events: Vec<Event>) -> Result<(), MqttError> {
        let mut close_requested = false;
        let mut error = None;
        // A work list, not recursion: the PUBACK of a received PUBLISH adds its own events.
        let mut events: VecDeque<Event> = events.into();
        while let Some(ev) = events.pop_front() {
            match ev {
                Event::RequestSendPacket { packet, .. } => {
                    let bytes = packet.to_continuous_buffer();
                    if let Err(e) = self.io.write_all(&bytes).and_then(|()| self.io.flush()) {
                        return self.close(format!("write: {:?}", e.kind()));
                    }
                }
                Event::NotifyPacketReceived(p) => match p {
                    GenericPacket::V3_1_1Connack(c) => self.connack = Some(c.return_code() as u8),
                    GenericPacket::V3_1_1Suback(s) => {
                        if s.return_codes().iter().any(|rc| !rc.is_success()) {
                            return Err(MqttError::Protocol("subscription refused".into()));
                        }
                        self.subacked.push(s.packet_id());
                    }
                    GenericPacket::V3_1_1Publish(p) => {
                        let size = p.topic_name().len() + p.payload().as_slice().len();
                        if self.inbox_bytes + size > MAX_INBOX {
                            return self.close(format!(
                                "the broker sent more than {MAX_INBOX} bytes of messages unread"
                            ));
                        }
                        match (p.qos(), p.packet_id()) {
                            (Qos::AtMostOnce, _) => {}
                            (Qos::AtLeastOnce, Some(id)) if id != 0 => {
                                let ack = v3_1_1::Puback::builder()
                                    .packet_id(id)
                                    .build()
                                    .map_err(perr)?;
                                events.extend(self.proto.checked_send(ack));
                            }
                            // Packet id 0 is not one (MQTT 3.1.1, 2.3.1), and QoS 2 was
                            // never granted (the subscriptions are QoS 1).
                            (qos, id) => {
                                return self.close(format!(
                                    "protocol error: a PUBLISH at {qos:?} with packet id {id:?}"
                                ));
                            }
                        }
                        self.inbox_bytes += size;
                        self.inbox.push_back(Message {
                            topic: p.topic_name().to_string(),
                            payload: p.payload().as_slice().to_vec(),
                        });
                    }
                    _ => {}
                },
                Event::NotifyPacketIdReleased(id) => self.unacked.retain(|i| *i != id),
                Event::RequestTimerReset { kind, duration_ms } => {
                    self.timers.retain(|(k, _)| *k != kind);
                    self.timers.push((kind, self.clock.now_ms() + duration_ms));
                }
                Event::RequestTimerCancel(kind) => self.timers.retain(|(k, _)| *k != kind),
                // A packet the engine could not take (malformed, oversized, of a reserved
                // type, or not allowed in this state) is a protocol violation, and MQTT
                // 3.1.1 says the client closes the connection (4.8): the engine asks to
                // only for some of them, so every error closes.
                Event::NotifyError(e) => error = Some(e),
                Event::RequestClose => close_requested = true,
            }
        }
        match error {
            Some(e) => self.close(format!("protocol error: {e:?}")),
            None if close_requested => self.close("the protocol asked to close".into()),
            None => Ok(()),
        }
    }
}

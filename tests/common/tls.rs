//! TLS for the end-to-end tests: a CA with its certificates (made here, never committed) and
//! a TLS front that terminates TLS (rustls) and relays the plain bytes to a local port (the
//! broker, the firmware server).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Ca { cert: p.self_signed(&key).unwrap(), key }
    }

    /// The CA certificate in PEM.
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate as a file for `--ca-file`.
    pub fn file(&self, name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("mqtts-{name}-{}.pem", std::process::id()));
        std::fs::write(&path, self.cert.pem()).unwrap();
        path
    }

    /// A server certificate for `host` and its key, in PEM (as OpenSSL-based servers take
    /// them).
    pub fn server_pem(&self, host: &str) -> (String, String) {
        let (cert, key) = self.issue(host);
        (cert.pem(), key.serialize_pem())
    }

    /// A server certificate for `host` and its key.
    pub fn server(&self, host: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let (cert, key) = self.issue(host);
        (cert.der().clone(), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
    }

    fn issue(&self, host: &str) -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let p = CertificateParams::new(vec![host.to_string()]).unwrap();
        (p.signed_by(&key, &self.cert, &self.key).unwrap(), key)
    }
}

/// A TLS front: terminates TLS (rustls) and relays the plain bytes to `target` on
/// 127.0.0.1. Counts the handshakes that completed and those that failed.
pub struct TlsFront {
    pub port: u16,
    pub established: Arc<AtomicUsize>,
    pub failed: Arc<AtomicUsize>,
}

impl TlsFront {
    pub fn start(
        chain: (CertificateDer<'static>, PrivateKeyDer<'static>),
        target: u16,
    ) -> TlsFront {
        let config = Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![chain.0], chain.1)
                .unwrap(),
        );
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (established, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (e, f) = (established.clone(), failed.clone());
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let (config, e, f) = (config.clone(), e.clone(), f.clone());
                std::thread::spawn(move || relay(c, config, target, &e, &f));
            }
        });
        TlsFront { port, established, failed }
    }
}

fn relay(
    mut tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    target: u16,
    established: &AtomicUsize,
    failed: &AtomicUsize,
) {
    let mut conn = rustls::ServerConnection::new(config).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while conn.is_handshaking() {
        if conn.complete_io(&mut tcp).is_err() {
            failed.fetch_add(1, Ordering::SeqCst);
            return;
        }
    }
    established.fetch_add(1, Ordering::SeqCst);
    let Ok(mut b) = TcpStream::connect(("127.0.0.1", target)) else { return };
    let quick = Some(Duration::from_millis(10));
    tcp.set_read_timeout(quick).unwrap();
    b.set_read_timeout(quick).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = [0u8; 8192];
    let quiet = |e: &std::io::Error| {
        matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    };
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if b.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if quiet(&e) => {}
            Err(_) => return,
        }
        match b.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                    return;
                }
            }
            Err(e) if quiet(&e) => {}
            Err(_) => return,
        }
    }
}

/// mosquitto with a listener on 127.0.0.1, TLS (a certificate for `localhost` from the test's
/// CA) or plain, bridged to the test's broker (the cloud) for the device's topics: commands
/// and downward events in, upward events and responses out (disjoint, so nothing loops).
pub struct Mosquitto {
    pub port: u16,
    child: std::process::Child,
    dir: PathBuf,
}

impl Mosquitto {
    /// `None` when this machine has no mosquitto (CI installs it: there that is an error).
    /// With `tls`, the listener is TLS with a certificate from that CA; without, plain MQTT.
    pub fn start(tls: Option<&Ca>, cloud_port: u16, root: &str, name: &str) -> Option<Mosquitto> {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(std::env::var_os("CI").is_none(), "CI must have mosquitto (apt: mosquitto)");
            eprintln!("skipped: no mosquitto on this machine (apt install mosquitto)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("mosquitto-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let certs = match tls {
            Some(ca) => {
                let (cert, key) = ca.server_pem("localhost");
                std::fs::write(dir.join("server.pem"), cert).unwrap();
                std::fs::write(dir.join("server.key"), key).unwrap();
                format!("certfile {d}/server.pem\nkeyfile {d}/server.key\n", d = dir.display())
            }
            None => String::new(),
        };
        let port = super::free_port();
        let conf = format!(
            "per_listener_settings false\nallow_anonymous true\nuser root\npersistence false\n\
             listener {port} 127.0.0.1\n{certs}\
             connection cloud\naddress 127.0.0.1:{cloud_port}\nbridge_protocol_version mqttv311\n\
             try_private false\ncleansession true\nrestart_timeout 1\nnotifications true\n\
             notification_topic {root}/events/up\n\
             topic {root}/commands/+ in 0\ntopic {root}/events/down in 0\n\
             topic {root}/events/up out 0\ntopic {root}/commands/response/# out 0\n"
        );
        std::fs::write(dir.join("mosquitto.conf"), conf).unwrap();
        let log = std::fs::File::create(dir.join("mosquitto.log")).unwrap();
        let child = std::process::Command::new(bin)
            .arg("-c")
            .arg(dir.join("mosquitto.conf"))
            .arg("-v")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "mosquitto did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Mosquitto { port, child, dir })
    }

    /// What mosquitto logged (verbose).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

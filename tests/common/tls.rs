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

    /// A server certificate for `host` and its key.
    pub fn server(&self, host: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let p = CertificateParams::new(vec![host.to_string()]).unwrap();
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.der().clone(), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
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

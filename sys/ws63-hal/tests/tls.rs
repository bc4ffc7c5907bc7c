//! The TLS client over the simulated board's sockets and its mbedTLS (kept to 3.1.0's rules),
//! against rustls servers on 127.0.0.1 with certificates made here: a verified session both
//! ways with either kind of certificate; an unknown CA, another name, a server without P-256
//! or without TLS 1.2, and a silent server are each refused with a clear error; mbedTLS's memory comes from the
//! board's heap and all of it comes back.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use embedded_io::{Read, Write};
use rcgen::{CertificateParams, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws63_hal::net::TcpStream;
use ws63_hal::tls::{self, TlsConfig};
use ws63_hal::{Error, ErrorKind};
use ws63_sim as _;

/// A CA and what it signs.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A new RSA key of `bits` that signs with `alg`.
fn rsa_key(bits: usize, alg: &'static rcgen::SignatureAlgorithm) -> KeyPair {
    use rsa::pkcs8::EncodePrivateKey;
    let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).unwrap();
    let der = PrivatePkcs8KeyDer::from(k.to_pkcs8_der().unwrap().as_bytes().to_vec());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, alg).unwrap()
}

impl Ca {
    fn new(name: &str) -> Ca {
        Ca::with_key(name, KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap())
    }

    /// A CA whose key is `key` (its algorithm is the one it signs with).
    fn with_key(name: &str, key: KeyPair) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        Ca { cert: p.self_signed(&key).unwrap(), key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for `sans` with a key of `alg`.
    fn issue(
        &self,
        sans: Vec<SanType>,
        alg: &'static rcgen::SignatureAlgorithm,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = if alg == &rcgen::PKCS_RSA_SHA256 {
            rsa_key(2048, alg)
        } else {
            KeyPair::generate_for(alg).unwrap()
        };
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, "test server");
        p.subject_alt_names = sans;
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert.der().clone(), der)
    }
}

fn dns(name: &str) -> Vec<SanType> {
    vec![SanType::DnsName(name.try_into().unwrap())]
}

/// How the test server runs.
struct ServerOpts {
    groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
    versions: Vec<&'static rustls::SupportedProtocolVersion>,
    /// The cipher suites it offers (empty: ring's defaults).
    suites: Vec<rustls::SupportedCipherSuite>,
    /// Accept the TCP connection and say nothing.
    silent: bool,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            groups: rustls::crypto::ring::ALL_KX_GROUPS.to_vec(),
            versions: rustls::ALL_VERSIONS.to_vec(),
            suites: Vec::new(),
            silent: false,
        }
    }
}

/// A server for one connection: echoes what it reads until the client closes; the thread's
/// result is the handshake's outcome and what it echoed.
fn serve(
    chain: (CertificateDer<'static>, PrivateKeyDer<'static>),
    opts: ServerOpts,
) -> (u16, JoinHandle<Result<Vec<u8>, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups = opts.groups;
    if !opts.suites.is_empty() {
        provider.cipher_suites = opts.suites;
    }
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&opts.versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![chain.0], chain.1)
        .unwrap();
    let h = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        if opts.silent {
            std::thread::sleep(Duration::from_secs(3));
            return Ok(Vec::new());
        }
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut s = rustls::Stream::new(&mut conn, &mut tcp);
        let mut echoed = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok(echoed),
                Ok(n) => {
                    echoed.extend_from_slice(&buf[..n]);
                    s.write_all(&buf[..n]).map_err(|e| e.to_string())?;
                }
                Err(e) if echoed.is_empty() => return Err(e.to_string()),
                Err(_) => return Ok(echoed),
            }
        }
    });
    (port, h)
}

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect("127.0.0.1", port, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads exactly `n` bytes, waiting through read timeouts.
fn read_n(s: &mut impl Read<Error = Error>, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let mut got = 0;
    let t = Instant::now();
    while got < n {
        assert!(t.elapsed() < Duration::from_secs(10), "echo within 10 s");
        match s.read(&mut out[got..]) {
            Ok(0) => panic!("closed after {got} bytes"),
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
    }
    out
}

fn board() -> std::sync::MutexGuard<'static, ()> {
    ws63_sim::test_board()
}

#[test]
fn a_verified_session_carries_data_both_ways_with_either_kind_of_certificate() {
    let _b = board();
    let ca = Ca::new("test CA");
    for (alg, kex) in
        [(&rcgen::PKCS_ECDSA_P256_SHA256, "ECDHE-ECDSA"), (&rcgen::PKCS_RSA_SHA256, "ECDHE-RSA")]
    {
        let (port, server) = serve(ca.issue(dns("localhost"), alg), ServerOpts::default());
        let mut s = tls::connect(tcp(port), "localhost", &TlsConfig::new(ca.pem().as_bytes()))
            .unwrap_or_else(|e| panic!("{kex}: {e}"));
        assert_eq!(s.protocol(), "TLSv1.2");
        assert!(
            s.ciphersuite().contains(kex) && s.ciphersuite().contains("GCM"),
            "{}",
            s.ciphersuite()
        );
        // More than one record each way.
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        // One call sends one record of at most the chip's 4 KiB (sdk/install.sh step 5).
        let first = s.write(&data).unwrap();
        assert_eq!(first, 4096);
        s.write_all(&data[first..]).unwrap();
        assert_eq!(read_n(&mut s, data.len()), data);
        drop(s);
        assert_eq!(server.join().unwrap().unwrap().len(), data.len(), "{kex}");
    }
}

fn refusal(
    ca: &Ca,
    chain: (CertificateDer<'static>, PrivateKeyDer<'static>),
    name: &str,
    opts: ServerOpts,
) -> Error {
    let (port, server) = serve(chain, opts);
    let e = match tls::connect(tcp(port), name, &TlsConfig::new(ca.pem().as_bytes())) {
        Ok(s) => panic!("connected with {}", s.ciphersuite()),
        Err(e) => e,
    };
    let _ = server.join().unwrap();
    e
}

fn flags(e: &Error) -> u32 {
    match e {
        Error::Tls(t) => t.verify_flags(),
        _ => panic!("not a TLS error: {e}"),
    }
}

#[test]
fn a_certificate_from_another_ca_or_for_another_name_is_refused() {
    let _b = board();
    let ca = Ca::new("test CA");
    let other = Ca::new("someone else");
    let e = refusal(
        &ca,
        other.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256),
        "localhost",
        ServerOpts::default(),
    );
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e}");
    assert_ne!(flags(&e) & mbedtls_sys::MBEDTLS_X509_BADCERT_NOT_TRUSTED, 0, "{e}");
    assert!(e.to_string().contains("not signed by a trusted CA"), "{e}");

    let e = refusal(
        &ca,
        ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256),
        "gw.example.com",
        ServerOpts::default(),
    );
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e}");
    assert_eq!(flags(&e), mbedtls_sys::MBEDTLS_X509_BADCERT_CN_MISMATCH, "{e}");
}

#[test]
fn a_server_without_p256_tls12_or_a_suite_of_ours_is_refused_not_hung() {
    let _b = board();
    let ca = Ca::new("test CA");
    let chain = || ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256);
    let x25519 =
        ServerOpts { groups: vec![rustls::crypto::ring::kx_group::X25519], ..Default::default() };
    let e = refusal(&ca, chain(), "localhost", x25519);
    assert!(matches!(e, Error::Tls(_)) && e.kind() != ErrorKind::Certificate, "{e}");
    let tls13 = ServerOpts { versions: vec![&rustls::version::TLS13], ..Default::default() };
    let e = refusal(&ca, chain(), "localhost", tls13);
    assert!(matches!(e, Error::Tls(_)) && e.kind() != ErrorKind::Certificate, "{e}");
    // ChaCha20-Poly1305 only: the chip build offers the four ECDHE AES-GCM suites alone.
    let chacha = ServerOpts {
        suites: vec![
            rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        ..Default::default()
    };
    let e = refusal(&ca, chain(), "localhost", chacha);
    assert!(matches!(e, Error::Tls(_)) && e.kind() != ErrorKind::Certificate, "{e}");
}

#[test]
fn a_silent_server_ends_the_handshake_at_its_limit() {
    let _b = board();
    let ca = Ca::new("test CA");
    let opts = ServerOpts { silent: true, ..Default::default() };
    let (port, server) = serve(ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256), opts);
    let pem = ca.pem();
    let cfg = TlsConfig {
        handshake_timeout: Duration::from_millis(600),
        ..TlsConfig::new(pem.as_bytes())
    };
    let t = Instant::now();
    let e = tls::connect(tcp(port), "localhost", &cfg).err().expect("no handshake");
    assert_eq!(e, Error::TimedOut);
    assert!(t.elapsed() >= Duration::from_millis(600), "{:?}", t.elapsed());
    server.join().unwrap().unwrap();
}

#[test]
fn the_sessions_memory_comes_from_the_boards_heap_and_all_of_it_returns() {
    let _b = board();
    let ca = Ca::new("test CA");
    let session = |ca: &Ca| {
        let (port, server) = serve(
            ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256),
            ServerOpts::default(),
        );
        let pem = ca.pem();
        // The socket too is made and closed inside: its table entry is the board's heap.
        let (((), peak), kept) = ws63_sim::measure::heap_kept(|| {
            ws63_sim::measure::heap_peak(|| {
                let mut s =
                    tls::connect(tcp(port), "localhost", &TlsConfig::new(pem.as_bytes())).unwrap();
                s.write_all(b"ping").unwrap();
                assert_eq!(read_n(&mut s, 4), b"ping");
            })
        });
        server.join().unwrap().unwrap();
        (peak, kept)
    };
    // The first session sets up what the board keeps for good (its table, the PSA core).
    session(&ca);
    let (peak, kept) = session(&ca);
    // Two record buffers of 16 KiB and more, the contexts and the parsed CA certificate.
    assert!(peak > 2 * 16_384, "{peak} bytes");
    assert_eq!(kept, 0, "every byte returned");
    // An exhausted heap: refused with mbedTLS's allocation error, nothing kept. The server
    // stays silent: it must not allocate while the limit holds (nothing in this process may).
    let opts = ServerOpts { silent: true, ..Default::default() };
    let (port, server) = serve(ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256), opts);
    let pem = ca.pem();
    let (r, kept) = ws63_sim::measure::heap_kept(|| {
        let stream = tcp(port);
        ws63_sim::heap::set_limit(Some(ws63_sim::heap::used() + 20_000));
        tls::connect(stream, "localhost", &TlsConfig::new(pem.as_bytes()))
    });
    ws63_sim::heap::set_limit(None);
    let e = r.err().expect("refused");
    assert_eq!(e, Error::Tls(tls::TlsError::new(mbedtls_sys::MBEDTLS_ERR_SSL_ALLOC_FAILED)), "{e}");
    assert_eq!(e.kind(), ErrorKind::OutOfResources, "{e}");
    assert_eq!(kept, 0, "nothing kept");
    server.join().unwrap().unwrap();
}

#[test]
fn a_chain_the_chips_crypto_engine_cannot_check_is_refused_as_on_the_chip() {
    let _b = board();
    // The engine checks RSA-4096 signatures made with SHA-384 or SHA-512 only (a Let's
    // Encrypt RSA chain's root signs with SHA-256), and EC signatures of 256-bit keys only.
    let rsa_key_der = {
        use rsa::pkcs8::EncodePrivateKey;
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 4096).unwrap();
        PrivatePkcs8KeyDer::from(k.to_pkcs8_der().unwrap().as_bytes().to_vec())
    };
    let rsa4096 = |alg| KeyPair::from_pkcs8_der_and_sign_algo(&rsa_key_der, alg).unwrap();
    let refused = [
        (
            "RSA-4096 CA signing with SHA-256",
            Ca::with_key("rsa4096", rsa4096(&rcgen::PKCS_RSA_SHA256)),
        ),
        (
            "P-384 CA",
            Ca::with_key("p384", KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap()),
        ),
    ];
    for (what, ca) in refused {
        let chain = ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256);
        let e = refusal(&ca, chain, "localhost", ServerOpts::default());
        assert_eq!(e.kind(), ErrorKind::Certificate, "{what}: {e}");
        assert_ne!(flags(&e) & mbedtls_sys::MBEDTLS_X509_BADCERT_NOT_TRUSTED, 0, "{what}: {e}");
    }
    // The same RSA-4096 key signing with SHA-384: the engine checks it.
    let ca = Ca::with_key("rsa4096-384", rsa4096(&rcgen::PKCS_RSA_SHA384));
    let (port, server) =
        serve(ca.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256), ServerOpts::default());
    let s = tls::connect(tcp(port), "localhost", &TlsConfig::new(ca.pem().as_bytes()));
    assert!(s.is_ok(), "{:?}", s.err());
    drop(s);
    server.join().unwrap().unwrap();
    // A CA bundle holding a root the engine cannot use still serves through its other CAs.
    let p384 =
        Ca::with_key("p384 root", KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap());
    let ours = Ca::new("test CA");
    let bundle = format!("{}{}", p384.pem(), ours.pem());
    let (port, server) =
        serve(ours.issue(dns("localhost"), &rcgen::PKCS_ECDSA_P256_SHA256), ServerOpts::default());
    let s = tls::connect(tcp(port), "localhost", &TlsConfig::new(bundle.as_bytes()));
    assert!(s.is_ok(), "{:?}", s.err());
    drop(s);
    server.join().unwrap().unwrap();
}

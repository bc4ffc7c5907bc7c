//! The SDK's mbedTLS as the firmware calls it: the 38 functions `mbedtls-sys` binds, on the
//! host's own mbedTLS (3.6, from `mbedtls-rs-sys`, built as the SDK builds its 3.1.0 for
//! `ws63-liteos-app` once the project's SDK kit has enabled ECDHE: a TLS 1.2 client,
//! ECDHE-ECDSA and ECDHE-RSA with AES-GCM, P-256 only, X.509 from PEM, CTR_DRBG; no TLS 1.3,
//! no X25519, no certificate dates).
//!
//! **Contexts.** The firmware lays out no context: it hands each `*_init` the address of
//! storage of the chip's size (`mbedtls_sys::RESERVE_*`), smaller than the host's 64-bit
//! contexts. Each storage address is the key to a host context, allocated outside the
//! firmware's heap (on the chip the context is that storage), created by `*_init` and
//! destroyed by `*_free`; the callbacks the firmware passes (the RNG, the entropy source, the
//! BIO functions) go through unchanged with the storage addresses they came with, and land
//! back here. A context used before its `*_init` or after its `*_free` aborts the board
//! loudly: on the chip it is undefined behaviour.
//!
//! **Where 3.1.0 differs from the host's 3.6, and the board keeps 3.1.0's rule:**
//! - `mbedtls_ssl_conf_curves` keeps the caller's list and reads it at each handshake (the
//!   host's build has no such function: the board translates the list to TLS group ids when a
//!   handshake starts, so a list freed before then fails here as on the chip);
//! - `mbedtls_ssl_conf_min_version` / `_max_version` (major, minor) are 3.1.0's API;
//! - a server name that is an IP address matches only a certificate whose subjectAltName has
//!   that text as an entry (3.1.0 compares every SAN entry's raw bytes with the name; 3.6 also
//!   matches an iPAddress entry): a certificate with an iPAddress SAN alone fails with
//!   `MBEDTLS_X509_BADCERT_CN_MISMATCH`, as on the chip;
//! - `mbedtls_entropy_func` gives at most 64 bytes a call (the SHA-512 accumulator's block).
//!
//! **Heap.** mbedTLS's own allocations (record buffers, 16 KiB each way, the handshake's
//! state, the parsed certificates) come from the board's heap ([`crate::heap`]) as they come
//! from LiteOS's pool on the chip, so they count against the firmware's share and fail when
//! it is exhausted (`MBEDTLS_ERR_SSL_ALLOC_FAILED`). The host's structures are a 64-bit
//! build's, a little larger than the chip's: figures here bound the chip's from above.
//!
//! **Not modelled:** the time the chip's hardware takes for the handshake's point
//! multiplications and signature checks (tens to hundreds of milliseconds on the chip).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uchar, c_void, CStr};
use std::net::IpAddr;
use std::sync::{Mutex, Once};

use mbedtls_rs_sys as host;
use mbedtls_sys as chip;

/// What kind of context a storage address holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ssl,
    Config,
    Crt,
    CtrDrbg,
    Entropy,
}

/// One host context behind a storage address.
struct Entry {
    kind: Kind,
    /// The host context (null for the entropy pool, which is the board's own).
    ptr: usize,
    layout: Layout,
    /// A configuration's curve list as `mbedtls_ssl_conf_curves` left it (the caller's
    /// pointer), and the group ids made of it at the last handshake.
    curves: usize,
    groups: Vec<u16>,
    /// An SSL context's configuration (its storage address) and the server name it was
    /// given, when that name is an IP address.
    conf: usize,
    ip_name: Option<String>,
    /// Verification flags 3.1.0 adds to the host's (a name the host matched and 3.1.0
    /// would not).
    extra_flags: u32,
}

static CONTEXTS: Mutex<Option<HashMap<usize, Entry>>> = Mutex::new(None);

fn with_contexts<R>(f: impl FnOnce(&mut HashMap<usize, Entry>) -> R) -> R {
    let mut g = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
    f(g.get_or_insert_with(HashMap::new))
}

fn host_setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        // SAFETY: the board's heap functions have calloc's and free's contracts; set once,
        // before any host mbedTLS call allocates.
        unsafe {
            host::mbedtls_platform_set_calloc_free(Some(sim_calloc), Some(sim_free));
            let rc = host::psa_crypto_init();
            assert_eq!(rc, 0, "psa_crypto_init");
        }
    });
}

unsafe extern "C" fn sim_calloc(n: usize, size: usize) -> *mut c_void {
    crate::heap::calloc(n, size)
}

unsafe extern "C" fn sim_free(p: *mut c_void) {
    crate::heap::free(p)
}

/// Creates the host context of `kind` for the storage at `key` (a second init without a free
/// leaks the first, as on the chip).
fn create<T>(key: *mut c_void, kind: Kind, init: unsafe extern "C" fn(*mut T)) -> *mut T {
    host_setup();
    assert!(!key.is_null(), "[ws63-sim] mbedTLS {kind:?} init with a NULL context");
    let layout = Layout::new::<T>();
    // SAFETY: a non-zero-sized layout; the memory is the host's, not the firmware heap's.
    let ptr = unsafe { System.alloc_zeroed(layout) }.cast::<T>();
    assert!(!ptr.is_null(), "host allocation");
    // SAFETY: `ptr` is zeroed memory of T's layout; `init` is the host's `*_init` for T.
    unsafe { init(ptr) };
    let entry = Entry {
        kind,
        ptr: ptr as usize,
        layout,
        curves: 0,
        groups: Vec::new(),
        conf: 0,
        ip_name: None,
        extra_flags: 0,
    };
    with_contexts(|m| m.insert(key as usize, entry));
    ptr
}

/// The host context behind `key`, which must be a live context of `kind`.
fn get<T>(key: *const c_void, kind: Kind, what: &str) -> *mut T {
    let found = with_contexts(|m| m.get(&(key as usize)).map(|e| (e.kind, e.ptr)));
    match found {
        Some((k, p)) if k == kind => p as *mut T,
        Some((k, _)) => die(&format!("{what} given a {k:?} context where a {kind:?} belongs")),
        None => die(&format!("{what} on a context that was never initialised (or was freed)")),
    }
}

/// Destroys the host context behind `key` (nothing for a NULL or unknown `key`: the `*_free`
/// functions take NULL, and freeing storage never initialised is the caller's bug the chip
/// would not notice either).
fn destroy<T>(key: *mut c_void, kind: Kind, free: unsafe extern "C" fn(*mut T)) {
    let entry = with_contexts(|m| match m.get(&(key as usize)) {
        Some(e) if e.kind == kind => m.remove(&(key as usize)),
        _ => None,
    });
    if let Some(e) = entry {
        if e.ptr != 0 {
            // SAFETY: `e.ptr` is the live host context `create` made with this layout;
            // removed from the table above, so freed once.
            unsafe {
                free(e.ptr as *mut T);
                System.dealloc(e.ptr as *mut u8, e.layout);
            }
        }
    }
}

fn die(why: &str) -> ! {
    eprintln!("[ws63-sim] mbedTLS: {why}: undefined behaviour on the chip");
    std::process::abort()
}

fn fill_random(out: &mut [u8]) -> bool {
    let mut done = 0;
    while done < out.len() {
        // SAFETY: writes at most the rest of `out`.
        let n = unsafe { libc::getrandom(out[done..].as_mut_ptr().cast(), out.len() - done, 0) };
        if n <= 0 {
            return false;
        }
        done += n as usize;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// What the host's mbedTLS needs from its platform

/// The PSA core's random source (`MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG`): the host's.
#[no_mangle]
pub extern "C" fn mbedtls_psa_external_get_random(
    _ctx: *mut c_void,
    output: *mut u8,
    size: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: the PSA core passes a buffer of `size` bytes and a place for the length.
    let out = unsafe { std::slice::from_raw_parts_mut(output, size) };
    if !fill_random(out) {
        return -0x0046; // PSA_ERROR_INSUFFICIENT_ENTROPY... as mbedTLS's own: generic failure
    }
    // SAFETY: see above.
    unsafe { *len = size };
    0
}

// ---------------------------------------------------------------------------------------------
// X.509

/// `mbedtls_x509_crt_init`.
#[export_name = "ws63sim_mbedtls_x509_crt_init"]
pub extern "C" fn x509_crt_init(crt: *mut chip::mbedtls_x509_crt) {
    create(crt.cast(), Kind::Crt, host::mbedtls_x509_crt_init);
}

/// `mbedtls_x509_crt_free`.
#[export_name = "ws63sim_mbedtls_x509_crt_free"]
pub extern "C" fn x509_crt_free(crt: *mut chip::mbedtls_x509_crt) {
    destroy(crt.cast(), Kind::Crt, host::mbedtls_x509_crt_free);
}

/// `mbedtls_x509_crt_parse`: DER, or PEM with its terminating NUL counted in `buflen`.
#[export_name = "ws63sim_mbedtls_x509_crt_parse"]
pub extern "C" fn x509_crt_parse(
    crt: *mut chip::mbedtls_x509_crt,
    buf: *const c_uchar,
    buflen: usize,
) -> c_int {
    let h = get(crt.cast(), Kind::Crt, "mbedtls_x509_crt_parse");
    // SAFETY: the caller's buffer of `buflen` bytes (the API's contract).
    unsafe { host::mbedtls_x509_crt_parse(h, buf, buflen) }
}

/// `mbedtls_x509_crt_verify_info`.
#[export_name = "ws63sim_mbedtls_x509_crt_verify_info"]
pub extern "C" fn x509_crt_verify_info(
    buf: *mut c_char,
    size: usize,
    prefix: *const c_char,
    flags: u32,
) -> c_int {
    // SAFETY: the caller's buffer of `size` bytes and NUL-terminated prefix.
    unsafe { host::mbedtls_x509_crt_verify_info(buf, size, prefix, flags) }
}

// ---------------------------------------------------------------------------------------------
// The SSL configuration

/// `mbedtls_ssl_config_init`.
#[export_name = "ws63sim_mbedtls_ssl_config_init"]
pub extern "C" fn ssl_config_init(conf: *mut chip::mbedtls_ssl_config) {
    create(conf.cast(), Kind::Config, host::mbedtls_ssl_config_init);
}

/// `mbedtls_ssl_config_free`.
#[export_name = "ws63sim_mbedtls_ssl_config_free"]
pub extern "C" fn ssl_config_free(conf: *mut chip::mbedtls_ssl_config) {
    destroy(conf.cast(), Kind::Config, host::mbedtls_ssl_config_free);
}

fn conf(c: *const chip::mbedtls_ssl_config, what: &str) -> *mut host::mbedtls_ssl_config {
    get(c.cast(), Kind::Config, what)
}

/// `mbedtls_ssl_config_defaults`.
#[export_name = "ws63sim_mbedtls_ssl_config_defaults"]
pub extern "C" fn ssl_config_defaults(
    c: *mut chip::mbedtls_ssl_config,
    endpoint: c_int,
    transport: c_int,
    preset: c_int,
) -> c_int {
    let h = conf(c, "mbedtls_ssl_config_defaults");
    // SAFETY: a live host configuration.
    unsafe { host::mbedtls_ssl_config_defaults(h, endpoint, transport, preset) }
}

/// `mbedtls_ssl_conf_authmode`.
#[export_name = "ws63sim_mbedtls_ssl_conf_authmode"]
pub extern "C" fn ssl_conf_authmode(c: *mut chip::mbedtls_ssl_config, authmode: c_int) {
    // SAFETY: a live host configuration.
    unsafe { host::mbedtls_ssl_conf_authmode(conf(c, "mbedtls_ssl_conf_authmode"), authmode) }
}

/// `mbedtls_ssl_conf_ca_chain`.
#[export_name = "ws63sim_mbedtls_ssl_conf_ca_chain"]
pub extern "C" fn ssl_conf_ca_chain(
    c: *mut chip::mbedtls_ssl_config,
    ca_chain: *mut chip::mbedtls_x509_crt,
    ca_crl: *mut chip::mbedtls_x509_crl,
) {
    if !ca_crl.is_null() {
        die("mbedtls_ssl_conf_ca_chain with a CRL (the board binds no CRL functions)");
    }
    let h = conf(c, "mbedtls_ssl_conf_ca_chain");
    let chain = if ca_chain.is_null() {
        std::ptr::null_mut()
    } else {
        get(ca_chain.cast(), Kind::Crt, "mbedtls_ssl_conf_ca_chain")
    };
    // SAFETY: live host contexts; the chain outlives the configuration (the caller's duty,
    // as on the chip).
    unsafe { host::mbedtls_ssl_conf_ca_chain(h, chain, std::ptr::null_mut()) }
}

/// `mbedtls_ssl_conf_rng`: the firmware's generator and its context go through unchanged.
#[export_name = "ws63sim_mbedtls_ssl_conf_rng"]
pub extern "C" fn ssl_conf_rng(
    c: *mut chip::mbedtls_ssl_config,
    f_rng: chip::RngCallback,
    p_rng: *mut c_void,
) {
    // SAFETY: a live host configuration; the callback has the host's type.
    unsafe { host::mbedtls_ssl_conf_rng(conf(c, "mbedtls_ssl_conf_rng"), f_rng, p_rng) }
}

/// `mbedtls_ssl_conf_ciphersuites`: the list stays the caller's (0-terminated).
#[export_name = "ws63sim_mbedtls_ssl_conf_ciphersuites"]
pub extern "C" fn ssl_conf_ciphersuites(c: *mut chip::mbedtls_ssl_config, list: *const c_int) {
    // SAFETY: a live host configuration; the list outlives it (the caller's duty).
    unsafe { host::mbedtls_ssl_conf_ciphersuites(conf(c, "mbedtls_ssl_conf_ciphersuites"), list) }
}

/// `mbedtls_ssl_conf_curves` (3.1.0): keeps the caller's `MBEDTLS_ECP_DP_NONE`-terminated
/// list, read when a handshake starts.
#[export_name = "ws63sim_mbedtls_ssl_conf_curves"]
pub extern "C" fn ssl_conf_curves(
    c: *mut chip::mbedtls_ssl_config,
    curves: *const chip::mbedtls_ecp_group_id,
) {
    conf(c, "mbedtls_ssl_conf_curves");
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(c as usize)) {
            e.curves = curves as usize;
        }
    });
}

/// `mbedtls_ssl_conf_groups`: the list stays the caller's (0-terminated).
#[export_name = "ws63sim_mbedtls_ssl_conf_groups"]
pub extern "C" fn ssl_conf_groups(c: *mut chip::mbedtls_ssl_config, groups: *const u16) {
    let h = conf(c, "mbedtls_ssl_conf_groups");
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(c as usize)) {
            e.curves = 0;
        }
    });
    // SAFETY: a live host configuration; the list outlives it (the caller's duty).
    unsafe { host::mbedtls_ssl_conf_groups(h, groups) }
}

/// The TLS group id of a 3.1.0 `mbedtls_ecp_group_id`.
fn iana_group(id: u8) -> Option<u16> {
    Some(match id {
        chip::MBEDTLS_ECP_DP_SECP192R1 => 19,
        chip::MBEDTLS_ECP_DP_SECP224R1 => 21,
        chip::MBEDTLS_ECP_DP_SECP256R1 => 23,
        chip::MBEDTLS_ECP_DP_SECP384R1 => 24,
        chip::MBEDTLS_ECP_DP_SECP521R1 => 25,
        chip::MBEDTLS_ECP_DP_BP256R1 => 26,
        chip::MBEDTLS_ECP_DP_BP384R1 => 27,
        chip::MBEDTLS_ECP_DP_BP512R1 => 28,
        chip::MBEDTLS_ECP_DP_CURVE25519 => 29,
        chip::MBEDTLS_ECP_DP_CURVE448 => 30,
        chip::MBEDTLS_ECP_DP_SECP192K1 => 18,
        chip::MBEDTLS_ECP_DP_SECP224K1 => 20,
        chip::MBEDTLS_ECP_DP_SECP256K1 => 22,
        _ => return None,
    })
}

fn protocol_version(major: c_int, minor: c_int) -> u32 {
    ((major as u32) << 8) | (minor as u32 & 0xFF)
}

/// `mbedtls_ssl_conf_min_version` (3.1.0: major 3, minor 3 is TLS 1.2).
#[export_name = "ws63sim_mbedtls_ssl_conf_min_version"]
pub extern "C" fn ssl_conf_min_version(
    c: *mut chip::mbedtls_ssl_config,
    major: c_int,
    minor: c_int,
) {
    let h = conf(c, "mbedtls_ssl_conf_min_version");
    // SAFETY: a live host configuration; the field 3.6's inline setter writes.
    unsafe { (*h).private_min_tls_version = protocol_version(major, minor) as _ };
}

/// `mbedtls_ssl_conf_max_version`.
#[export_name = "ws63sim_mbedtls_ssl_conf_max_version"]
pub extern "C" fn ssl_conf_max_version(
    c: *mut chip::mbedtls_ssl_config,
    major: c_int,
    minor: c_int,
) {
    let h = conf(c, "mbedtls_ssl_conf_max_version");
    // SAFETY: a live host configuration; the field 3.6's inline setter writes.
    unsafe { (*h).private_max_tls_version = protocol_version(major, minor) as _ };
}

/// `mbedtls_ssl_conf_read_timeout` (milliseconds; acts only with a receive-with-timeout
/// callback).
#[export_name = "ws63sim_mbedtls_ssl_conf_read_timeout"]
pub extern "C" fn ssl_conf_read_timeout(c: *mut chip::mbedtls_ssl_config, timeout: u32) {
    // SAFETY: a live host configuration.
    unsafe {
        host::mbedtls_ssl_conf_read_timeout(conf(c, "mbedtls_ssl_conf_read_timeout"), timeout)
    }
}

/// `mbedtls_ssl_conf_max_frag_len`.
#[export_name = "ws63sim_mbedtls_ssl_conf_max_frag_len"]
pub extern "C" fn ssl_conf_max_frag_len(c: *mut chip::mbedtls_ssl_config, mfl: c_uchar) -> c_int {
    // SAFETY: a live host configuration.
    unsafe { host::mbedtls_ssl_conf_max_frag_len(conf(c, "mbedtls_ssl_conf_max_frag_len"), mfl) }
}

// ---------------------------------------------------------------------------------------------
// The SSL context

fn ssl(s: *const chip::mbedtls_ssl_context, what: &str) -> *mut host::mbedtls_ssl_context {
    get(s.cast(), Kind::Ssl, what)
}

/// `mbedtls_ssl_init`.
#[export_name = "ws63sim_mbedtls_ssl_init"]
pub extern "C" fn ssl_init(s: *mut chip::mbedtls_ssl_context) {
    create(s.cast(), Kind::Ssl, host::mbedtls_ssl_init);
}

/// `mbedtls_ssl_free`.
#[export_name = "ws63sim_mbedtls_ssl_free"]
pub extern "C" fn ssl_free(s: *mut chip::mbedtls_ssl_context) {
    destroy(s.cast(), Kind::Ssl, host::mbedtls_ssl_free);
}

/// `mbedtls_ssl_setup`: allocates the record buffers (from the board's heap).
#[export_name = "ws63sim_mbedtls_ssl_setup"]
pub extern "C" fn ssl_setup(
    s: *mut chip::mbedtls_ssl_context,
    c: *const chip::mbedtls_ssl_config,
) -> c_int {
    let h = ssl(s, "mbedtls_ssl_setup");
    let hc = conf(c, "mbedtls_ssl_setup");
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(s as usize)) {
            e.conf = c as usize;
        }
    });
    // SAFETY: live host contexts; the configuration outlives the context (caller's duty).
    unsafe { host::mbedtls_ssl_setup(h, hc) }
}

/// `mbedtls_ssl_set_hostname`: the name for SNI and for the certificate's check.
#[export_name = "ws63sim_mbedtls_ssl_set_hostname"]
pub extern "C" fn ssl_set_hostname(
    s: *mut chip::mbedtls_ssl_context,
    hostname: *const c_char,
) -> c_int {
    let h = ssl(s, "mbedtls_ssl_set_hostname");
    let ip_name = if hostname.is_null() {
        None
    } else {
        // SAFETY: a NUL-terminated name (the API's contract).
        let name = unsafe { CStr::from_ptr(hostname) }.to_string_lossy().into_owned();
        name.parse::<IpAddr>().is_ok().then_some(name)
    };
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(s as usize)) {
            e.ip_name = ip_name;
        }
    });
    // SAFETY: a live host context and the caller's name.
    unsafe { host::mbedtls_ssl_set_hostname(h, hostname) }
}

/// `mbedtls_ssl_set_bio`: the firmware's transport callbacks go through unchanged.
#[export_name = "ws63sim_mbedtls_ssl_set_bio"]
pub extern "C" fn ssl_set_bio(
    s: *mut chip::mbedtls_ssl_context,
    p_bio: *mut c_void,
    f_send: chip::mbedtls_ssl_send_t,
    f_recv: chip::mbedtls_ssl_recv_t,
    f_recv_timeout: chip::mbedtls_ssl_recv_timeout_t,
) {
    let h = ssl(s, "mbedtls_ssl_set_bio");
    // SAFETY: a live host context; the callbacks have the host's types.
    unsafe { host::mbedtls_ssl_set_bio(h, p_bio, f_send, f_recv, f_recv_timeout) }
}

/// Makes a configuration's 3.1.0 curve list into the host's group list, as 3.1.0 reads the
/// list when a handshake starts.
fn apply_curves(conf_key: usize) {
    let Some((hconf, curves)) = with_contexts(|m| m.get(&conf_key).map(|e| (e.ptr, e.curves)))
    else {
        return;
    };
    if curves == 0 {
        return;
    }
    let mut groups = Vec::new();
    let mut p = curves as *const u8;
    // SAFETY: the caller's MBEDTLS_ECP_DP_NONE-terminated list, which 3.1.0 requires to live
    // as long as the configuration.
    unsafe {
        while *p != 0 {
            if let Some(g) = iana_group(*p) {
                groups.push(g);
            }
            p = p.add(1);
        }
    }
    groups.push(0);
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&conf_key) {
            e.groups = groups;
            // SAFETY: a live host configuration; the list lives in its entry until the next
            // handshake or its free.
            unsafe {
                host::mbedtls_ssl_conf_groups(
                    hconf as *mut host::mbedtls_ssl_config,
                    e.groups.as_ptr(),
                )
            };
        }
    });
}

/// `MBEDTLS_X509_EXT_SUBJECT_ALT_NAME` (`MBEDTLS_OID_X509_EXT_SUBJECT_ALT_NAME`, bit 5).
const X509_EXT_SUBJECT_ALT_NAME: c_int = 1 << 5;

/// Whether 3.1.0 would match `name` against `crt`'s subjectAltName: it compares every entry's
/// raw bytes with the name (case-insensitively), so an IP address matches only a SAN entry
/// that is its text. `None`: the certificate has no subjectAltName (both versions then look
/// at the CN, alike).
fn san_matches_as_3_1(crt: *const host::mbedtls_x509_crt, name: &str) -> Option<bool> {
    // SAFETY: the peer certificate the host context keeps; its SAN list is its own.
    unsafe {
        if (*crt).private_ext_types & X509_EXT_SUBJECT_ALT_NAME == 0 {
            return None;
        }
        let mut cur: *const host::mbedtls_x509_sequence = &(*crt).subject_alt_names;
        while !cur.is_null() {
            let b = &(*cur).buf;
            if !b.p.is_null() {
                let raw = std::slice::from_raw_parts(b.p, b.len);
                if raw.eq_ignore_ascii_case(name.as_bytes()) {
                    return Some(true);
                }
            }
            cur = (*cur).next;
        }
    }
    Some(false)
}

/// `mbedtls_ssl_handshake`.
#[export_name = "ws63sim_mbedtls_ssl_handshake"]
pub extern "C" fn ssl_handshake(s: *mut chip::mbedtls_ssl_context) -> c_int {
    let h = ssl(s, "mbedtls_ssl_handshake");
    let (conf_key, ip_name) =
        with_contexts(|m| m.get(&(s as usize)).map(|e| (e.conf, e.ip_name.clone())).unwrap());
    apply_curves(conf_key);
    // SAFETY: a live host context, set up.
    let rc = unsafe { host::mbedtls_ssl_handshake(h) };
    if rc != 0 {
        return rc;
    }
    // The handshake is over: where 3.6 matched an IP address that 3.1.0 would not, fail as
    // 3.1.0 does (with verification required, which is what the firmware sets).
    if let Some(name) = ip_name {
        // SAFETY: a live host context after its handshake.
        let peer = unsafe { host::mbedtls_ssl_get_peer_cert(h) };
        if !peer.is_null() && san_matches_as_3_1(peer, &name) == Some(false) {
            with_contexts(|m| {
                if let Some(e) = m.get_mut(&(s as usize)) {
                    e.extra_flags |= chip::MBEDTLS_X509_BADCERT_CN_MISMATCH;
                }
            });
            return chip::MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
        }
    }
    0
}

/// `mbedtls_ssl_get_verify_result`.
#[export_name = "ws63sim_mbedtls_ssl_get_verify_result"]
pub extern "C" fn ssl_get_verify_result(s: *const chip::mbedtls_ssl_context) -> u32 {
    let h = ssl(s, "mbedtls_ssl_get_verify_result");
    let extra = with_contexts(|m| m.get(&(s as usize)).map_or(0, |e| e.extra_flags));
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_get_verify_result(h) | extra }
}

/// `mbedtls_ssl_get_ciphersuite`: the suite's name (static).
#[export_name = "ws63sim_mbedtls_ssl_get_ciphersuite"]
pub extern "C" fn ssl_get_ciphersuite(s: *const chip::mbedtls_ssl_context) -> *const c_char {
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_get_ciphersuite(ssl(s, "mbedtls_ssl_get_ciphersuite")) }
}

/// `mbedtls_ssl_get_version`: the protocol's name (static).
#[export_name = "ws63sim_mbedtls_ssl_get_version"]
pub extern "C" fn ssl_get_version(s: *const chip::mbedtls_ssl_context) -> *const c_char {
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_get_version(ssl(s, "mbedtls_ssl_get_version")) }
}

/// `mbedtls_ssl_get_bytes_avail`.
#[export_name = "ws63sim_mbedtls_ssl_get_bytes_avail"]
pub extern "C" fn ssl_get_bytes_avail(s: *const chip::mbedtls_ssl_context) -> usize {
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_get_bytes_avail(ssl(s, "mbedtls_ssl_get_bytes_avail")) }
}

/// `mbedtls_ssl_read`.
#[export_name = "ws63sim_mbedtls_ssl_read"]
pub extern "C" fn ssl_read(
    s: *mut chip::mbedtls_ssl_context,
    buf: *mut c_uchar,
    len: usize,
) -> c_int {
    let h = ssl(s, "mbedtls_ssl_read");
    crate::rtos::gate();
    // SAFETY: a live host context and the caller's buffer of `len` bytes.
    unsafe { host::mbedtls_ssl_read(h, buf, len) }
}

/// `mbedtls_ssl_write`.
#[export_name = "ws63sim_mbedtls_ssl_write"]
pub extern "C" fn ssl_write(
    s: *mut chip::mbedtls_ssl_context,
    buf: *const c_uchar,
    len: usize,
) -> c_int {
    let h = ssl(s, "mbedtls_ssl_write");
    crate::rtos::gate();
    // SAFETY: a live host context and the caller's buffer of `len` bytes.
    unsafe { host::mbedtls_ssl_write(h, buf, len) }
}

/// `mbedtls_ssl_close_notify`.
#[export_name = "ws63sim_mbedtls_ssl_close_notify"]
pub extern "C" fn ssl_close_notify(s: *mut chip::mbedtls_ssl_context) -> c_int {
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_close_notify(ssl(s, "mbedtls_ssl_close_notify")) }
}

// ---------------------------------------------------------------------------------------------
// Randomness: CTR_DRBG over the entropy pool (the chip's TRNG; here the host's)

/// `mbedtls_ctr_drbg_init`.
#[export_name = "ws63sim_mbedtls_ctr_drbg_init"]
pub extern "C" fn ctr_drbg_init(ctx: *mut chip::mbedtls_ctr_drbg_context) {
    create(ctx.cast(), Kind::CtrDrbg, host::mbedtls_ctr_drbg_init);
}

/// `mbedtls_ctr_drbg_free`.
#[export_name = "ws63sim_mbedtls_ctr_drbg_free"]
pub extern "C" fn ctr_drbg_free(ctx: *mut chip::mbedtls_ctr_drbg_context) {
    destroy(ctx.cast(), Kind::CtrDrbg, host::mbedtls_ctr_drbg_free);
}

/// `mbedtls_ctr_drbg_seed`: the firmware's entropy callback goes through unchanged.
#[export_name = "ws63sim_mbedtls_ctr_drbg_seed"]
pub extern "C" fn ctr_drbg_seed(
    ctx: *mut chip::mbedtls_ctr_drbg_context,
    f_entropy: chip::RngCallback,
    p_entropy: *mut c_void,
    custom: *const c_uchar,
    len: usize,
) -> c_int {
    let h = get(ctx.cast(), Kind::CtrDrbg, "mbedtls_ctr_drbg_seed");
    // SAFETY: a live host context; the personalisation string is the caller's.
    unsafe { host::mbedtls_ctr_drbg_seed(h, f_entropy, p_entropy, custom, len) }
}

/// `mbedtls_ctr_drbg_random`.
#[export_name = "ws63sim_mbedtls_ctr_drbg_random"]
pub extern "C" fn ctr_drbg_random(p_rng: *mut c_void, output: *mut c_uchar, len: usize) -> c_int {
    let h: *mut host::mbedtls_ctr_drbg_context =
        get(p_rng, Kind::CtrDrbg, "mbedtls_ctr_drbg_random");
    // SAFETY: a live host context; the caller's buffer of `len` bytes.
    unsafe { host::mbedtls_ctr_drbg_random(h.cast(), output, len) }
}

/// `mbedtls_entropy_init`: the pool, with the chip's TRNG registered (here: the host's
/// random source).
#[export_name = "ws63sim_mbedtls_entropy_init"]
pub extern "C" fn entropy_init(ctx: *mut chip::mbedtls_entropy_context) {
    assert!(!ctx.is_null(), "[ws63-sim] mbedtls_entropy_init with a NULL context");
    let entry = Entry {
        kind: Kind::Entropy,
        ptr: 0,
        layout: Layout::new::<u8>(),
        curves: 0,
        groups: Vec::new(),
        conf: 0,
        ip_name: None,
        extra_flags: 0,
    };
    with_contexts(|m| m.insert(ctx as usize, entry));
}

/// `mbedtls_entropy_free`.
#[export_name = "ws63sim_mbedtls_entropy_free"]
pub extern "C" fn entropy_free(ctx: *mut chip::mbedtls_entropy_context) {
    with_contexts(|m| {
        if m.get(&(ctx as usize)).is_some_and(|e| e.kind == Kind::Entropy) {
            m.remove(&(ctx as usize));
        }
    });
}

/// `mbedtls_entropy_func`: at most `MBEDTLS_ENTROPY_BLOCK_SIZE` (64) bytes a call.
#[export_name = "ws63sim_mbedtls_entropy_func"]
pub extern "C" fn entropy_func(data: *mut c_void, output: *mut c_uchar, len: usize) -> c_int {
    let known = with_contexts(|m| m.get(&(data as usize)).is_some_and(|e| e.kind == Kind::Entropy));
    if !known {
        die("mbedtls_entropy_func on a pool that was never initialised");
    }
    if len > 64 {
        return chip::MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    // SAFETY: the caller's buffer of `len` bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(output, len) };
    if fill_random(out) {
        0
    } else {
        chip::MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
    }
}

/// `mbedtls_strerror`.
#[export_name = "ws63sim_mbedtls_strerror"]
pub extern "C" fn strerror(errnum: c_int, buffer: *mut c_char, buflen: usize) {
    extern "C" {
        // In the host's libmbedcrypto (error.c); `mbedtls-rs-sys` does not bind error.h.
        fn mbedtls_strerror(errnum: c_int, buffer: *mut c_char, buflen: usize);
    }
    // SAFETY: the host's function with error.h's prototype; the caller's buffer of `buflen`
    // bytes.
    unsafe { mbedtls_strerror(errnum, buffer, buflen) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair, SanType};

    /// `name` checked against a certificate with `sans` as 3.1.0 checks it.
    fn check(sans: Vec<SanType>, name: &str) -> Option<bool> {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = sans;
        let der = p.self_signed(&key).unwrap().der().to_vec();
        let mut storage = [0u64; 64];
        let crt = storage.as_mut_ptr().cast::<chip::mbedtls_x509_crt>();
        x509_crt_init(crt);
        let h: *mut host::mbedtls_x509_crt = get(crt.cast(), Kind::Crt, "test");
        // SAFETY: a live host certificate and a DER buffer of its length.
        assert_eq!(unsafe { host::mbedtls_x509_crt_parse_der(h, der.as_ptr(), der.len()) }, 0);
        let r = san_matches_as_3_1(h, name);
        x509_crt_free(crt);
        r
    }

    #[test]
    fn an_ip_address_matches_a_san_entry_only_as_text() {
        let ip = || SanType::IpAddress("127.0.0.1".parse().unwrap());
        let dns = |n: &str| SanType::DnsName(n.try_into().unwrap());
        // 3.6 would match the iPAddress entry; 3.1.0 compares its four raw bytes with the text.
        assert_eq!(check(vec![ip()], "127.0.0.1"), Some(false));
        assert_eq!(check(vec![dns("localhost"), ip()], "127.0.0.1"), Some(false));
        assert_eq!(check(vec![dns("127.0.0.1")], "127.0.0.1"), Some(true));
        assert_eq!(check(vec![], "127.0.0.1"), None, "no SAN: the CN decides, alike");
    }

    #[test]
    fn curve_ids_become_tls_group_ids() {
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_SECP256R1), Some(23));
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_CURVE25519), Some(29));
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_NONE), None);
        assert_eq!(protocol_version(3, 3), 0x0303);
    }
}

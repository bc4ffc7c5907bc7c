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
//! **Where the chip's build differs from the host's 3.6, and the board keeps the chip's rule**
//! (from a review against the SDK's sources and its linked image):
//! - `mbedtls_ssl_conf_curves` keeps the caller's list, which `mbedtls_ssl_setup` reads: a
//!   curve the chip's crypto engine cannot multiply with (anything but P-256 and brainpool
//!   P-256) is refused there with `MBEDTLS_ERR_SSL_BAD_CONFIG`, and so is a setup with no list
//!   at all (the chip's default list starts with X25519, which its hardware cannot do);
//! - `mbedtls_ssl_conf_min_version` / `_max_version` (major, minor) are 3.1.0's API;
//! - certificate signatures are checked by the chip's crypto engine, with its limits: an EC
//!   issuer key must be 256-bit (P-256, brainpool P-256: no P-384 or P-521), an RSA issuer key
//!   1024, 2048, 3072 or 4096 bits, and the hash at least SHA-224 for RSA-2048, SHA-256 for
//!   RSA-3072, SHA-384 for RSA-4096; a link breaking one is `MBEDTLS_X509_BADCERT_NOT_TRUSTED`
//!   (a Let's Encrypt RSA chain, whose RSA-4096 root signs with SHA-256, fails on the chip);
//! - a server name that is an IP address matches only a subjectAltName dNSName entry holding
//!   its text (3.1.0; 3.6 also matches an iPAddress entry): a certificate with an iPAddress
//!   SAN alone fails the handshake with `MBEDTLS_X509_BADCERT_CN_MISMATCH`;
//! - `*_init` writes the chip's context size over the caller's storage and `*_free` clears it;
//!   freeing storage that holds anything but zeros and was never initialised aborts;
//! - `mbedtls_entropy_func` gives at most 64 bytes a call (the SHA-512 accumulator's block).
//!
//! **Heap.** mbedTLS's own allocations (record buffers, the handshake's state, the parsed
//! certificates) come from the board's heap ([`crate::heap`]) as they come from LiteOS's pool
//! on the chip, so they count against the firmware's share and fail when it is exhausted
//! (`MBEDTLS_ERR_SSL_ALLOC_FAILED`). Where the chip's structures differ from the host's, the
//! chip's are charged: the record buffers at the chip's sizes, 16,717 bytes for what it
//! receives and 4,429 for what it sends (`sdk/install.sh` step 5 limits the records it sends
//! to 4 KiB of content; the host's are 16,429 each), and the handshake's state 2,384 bytes
//! (872 here). `mbedtls_ssl_write` takes at most 4 KiB a call, as the chip's does. Not
//! modelled: the pool's fragmentation (each session needs a contiguous 16.7 KB block).
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

/// What the chip's library writes of each context (`mbedtls_sys`'s measured library view).
fn chip_size(kind: Kind) -> usize {
    match kind {
        Kind::Ssl => 304,
        Kind::Config => 200,
        Kind::Crt => 340,
        Kind::CtrDrbg => 76,
        Kind::Entropy => 620,
    }
}

/// The most content a record the chip sends holds (`MBEDTLS_SSL_OUT_CONTENT_LEN`, set by
/// `sdk/install.sh` step 5): `mbedtls_ssl_write` takes at most this much a call.
pub const CHIP_OUT_CONTENT_LEN: usize = 4096;
/// The chip's record buffers: 16 KiB of content received, 4 KiB sent, each with 333 bytes of
/// header and cipher overhead (16,717 bytes: the SDK's `mbedtls_ssl_setup` allocation).
const CHIP_IN_BUFFER: usize = 16_717;
const CHIP_OUT_BUFFER: usize = CHIP_OUT_CONTENT_LEN + (CHIP_IN_BUFFER - 16_384);
/// The host's record buffers hold 16 KiB of content each way: an allocation this large in
/// `mbedtls_ssl_setup` is one of them.
const HOST_CONTENT_LEN: usize = 16_384;
/// What the chip's handshake state takes beyond the host's: charged during a handshake.
const CHIP_EXTRA_HANDSHAKE: usize = 2_384 - 872;

/// One host context behind a storage address.
struct Entry {
    kind: Kind,
    /// The host context (null for the entropy pool, which is the board's own).
    ptr: usize,
    layout: Layout,
    /// A configuration's curve list as `mbedtls_ssl_conf_curves` left it, or its group list
    /// as `mbedtls_ssl_conf_groups` did (the caller's pointers), and the group ids the host
    /// was given at the last `mbedtls_ssl_setup`.
    curves: usize,
    iana: usize,
    groups: Vec<u16>,
    /// An SSL context's configuration (its storage address) and the server name it was
    /// given, when that name is an IP address.
    conf: usize,
    ip_name: Option<String>,
    /// Bytes charged to the board's heap beyond the host's allocations (an SSL context's
    /// chip-sized buffers and handshake state).
    charged: usize,
    /// Whether the handshake's extra is among them.
    handshaking: bool,
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
    // `mbedtls_ssl_setup` allocates its record buffers first the one it receives into, then
    // the one it sends from: charged at the chip's sizes.
    let buffer = SETUP_BUFFERS.with(|b| match b.get() {
        Some(k) if n.saturating_mul(size) >= HOST_CONTENT_LEN => {
            b.set(Some(k + 1));
            Some(k)
        }
        _ => None,
    });
    match buffer {
        Some(0) => crate::heap::calloc_as(n, size, CHIP_IN_BUFFER),
        Some(1) => crate::heap::calloc_as(n, size, CHIP_OUT_BUFFER),
        _ => crate::heap::calloc(n, size),
    }
}

thread_local! {
    /// In `mbedtls_ssl_setup` on this thread: how many record buffers it has allocated.
    static SETUP_BUFFERS: std::cell::Cell<Option<u8>> = const { std::cell::Cell::new(None) };
}

unsafe extern "C" fn sim_free(p: *mut c_void) {
    crate::heap::free(p)
}

/// Creates the host context of `kind` for the storage at `key` (a second init without a free
/// leaks the first, as on the chip). Writes zeros over the chip's size of the storage, as the
/// chip's `*_init` does: storage smaller than that is overrun here as there.
fn create<T>(key: *mut c_void, kind: Kind, init: unsafe extern "C" fn(*mut T)) -> *mut T {
    host_setup();
    assert!(!key.is_null(), "[ws63-sim] mbedTLS {kind:?} init with a NULL context");
    // SAFETY: the caller hands `*_init` storage of the chip's context size (the API's
    // contract); the chip's library writes exactly this much.
    unsafe { std::ptr::write_bytes(key.cast::<u8>(), 0, chip_size(kind)) };
    let ptr = if kind == Kind::Entropy {
        // The pool is the board's own (`entropy_func`): no host context.
        std::ptr::null_mut()
    } else {
        let layout = Layout::new::<T>();
        // SAFETY: a non-zero-sized layout; the memory is the host's, not the firmware heap's.
        let ptr = unsafe { System.alloc_zeroed(layout) }.cast::<T>();
        assert!(!ptr.is_null(), "host allocation");
        // SAFETY: `ptr` is zeroed memory of T's layout; `init` is the host's `*_init` for T.
        unsafe { init(ptr) };
        ptr
    };
    let entry = Entry {
        kind,
        ptr: ptr as usize,
        layout: Layout::new::<T>(),
        curves: 0,
        iana: 0,
        groups: Vec::new(),
        conf: 0,
        ip_name: None,
        charged: 0,
        handshaking: false,
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

/// Destroys the host context behind `key` and clears the chip's size of its storage, as the
/// chip's `*_free` does. NULL, or storage that is all zeros (freed already, or never used),
/// is nothing to free; anything else never initialised would make the chip free garbage
/// pointers, and aborts here.
fn destroy<T>(key: *mut c_void, kind: Kind, free: unsafe extern "C" fn(*mut T)) {
    if key.is_null() {
        return;
    }
    let entry = with_contexts(|m| match m.get(&(key as usize)) {
        Some(e) if e.kind == kind => m.remove(&(key as usize)),
        _ => None,
    });
    // SAFETY: storage the caller initialised (or, below, claims to free) of the chip's size.
    let storage = unsafe { std::slice::from_raw_parts_mut(key.cast::<u8>(), chip_size(kind)) };
    let Some(e) = entry else {
        if storage.iter().any(|b| *b != 0) {
            die(&format!("mbedTLS {kind:?} free of storage that was never initialised"));
        }
        return;
    };
    crate::heap::uncharge(e.charged);
    if e.ptr != 0 {
        // SAFETY: `e.ptr` is the live host context `create` made with this layout; removed
        // from the table above, so freed once.
        unsafe {
            free(e.ptr as *mut T);
            System.dealloc(e.ptr as *mut u8, e.layout);
        }
    }
    storage.fill(0);
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

/// `mbedtls_ssl_config_defaults`. The board also installs its verify callback, which applies
/// the chip's crypto engine's limits to each link of the chain (see [`chip_verify`]).
#[export_name = "ws63sim_mbedtls_ssl_config_defaults"]
pub extern "C" fn ssl_config_defaults(
    c: *mut chip::mbedtls_ssl_config,
    endpoint: c_int,
    transport: c_int,
    preset: c_int,
) -> c_int {
    let h = conf(c, "mbedtls_ssl_config_defaults");
    // SAFETY: a live host configuration; the callback needs no context.
    unsafe {
        let rc = host::mbedtls_ssl_config_defaults(h, endpoint, transport, preset);
        host::mbedtls_ssl_conf_verify(h, Some(chip_verify), std::ptr::null_mut());
        rc
    }
}

thread_local! {
    /// The certificate the verify callback saw last on this thread, with its depth: the issuer
    /// of the next one (the callback goes from the top of the chain down to the server's).
    static ISSUER: std::cell::Cell<(usize, c_int)> = const { std::cell::Cell::new((0, -1)) };
    /// The server name of the handshake running on this thread, when it is an IP address.
    static IP_NAME: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Whether the chip's crypto engine checks a signature of hash `md` made with the key of
/// `issuer` (`drv_pke_rsa.c`, `drv_pke_ecc_verify.c` and the curve table of the SDK's
/// configuration): EC keys of 256 bits only (P-256, brainpool P-256), RSA keys of exactly 1024,
/// 2048, 3072 or 4096 bits with a hash of at least the key's security strength.
fn engine_verifies(issuer: *const host::mbedtls_x509_crt, md: host::mbedtls_md_type_t) -> bool {
    // SAFETY: a certificate of the chain the host hands its verify callback.
    let (kind, bits) = unsafe {
        (host::mbedtls_pk_get_type(&(*issuer).pk), host::mbedtls_pk_get_bitlen(&(*issuer).pk))
    };
    let strength = match md {
        host::mbedtls_md_type_t_MBEDTLS_MD_SHA1 => 1,
        host::mbedtls_md_type_t_MBEDTLS_MD_SHA224 => 2,
        host::mbedtls_md_type_t_MBEDTLS_MD_SHA256 => 3,
        host::mbedtls_md_type_t_MBEDTLS_MD_SHA384 => 4,
        host::mbedtls_md_type_t_MBEDTLS_MD_SHA512 => 5,
        _ => 0,
    };
    match kind {
        host::mbedtls_pk_type_t_MBEDTLS_PK_RSA => match bits {
            1024 => true,
            2048 => strength >= 2,
            3072 => strength >= 3,
            4096 => strength >= 4,
            _ => false,
        },
        host::mbedtls_pk_type_t_MBEDTLS_PK_ECKEY | host::mbedtls_pk_type_t_MBEDTLS_PK_ECDSA => {
            bits == 256
        }
        _ => false,
    }
}

/// The host's verify callback, called for each certificate of the chain from its top (the
/// trusted CA) down to the server's (depth 0): adds what the chip's build would find.
unsafe extern "C" fn chip_verify(
    _: *mut c_void,
    crt: *mut host::mbedtls_x509_crt,
    depth: c_int,
    flags: *mut u32,
) -> c_int {
    let (issuer, issuer_depth) = ISSUER.with(|c| c.get());
    if issuer != 0 && issuer_depth == depth + 1 {
        // SAFETY: `crt` is the host's certificate at this depth.
        let md = unsafe { (*crt).private_sig_md };
        if !engine_verifies(issuer as *const host::mbedtls_x509_crt, md) {
            // SAFETY: the host's flags for this certificate.
            unsafe { *flags |= chip::MBEDTLS_X509_BADCERT_NOT_TRUSTED };
        }
    }
    ISSUER.with(|c| c.set(if depth == 0 { (0, -1) } else { (crt as usize, depth) }));
    if depth == 0 {
        if let Some(name) = IP_NAME.with(|n| n.borrow().clone()) {
            if san_matches_as_3_1(crt, &name) == Some(false) {
                // SAFETY: as above.
                unsafe { *flags |= chip::MBEDTLS_X509_BADCERT_CN_MISMATCH };
            }
        }
    }
    0
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
/// list, which `mbedtls_ssl_setup` reads.
#[export_name = "ws63sim_mbedtls_ssl_conf_curves"]
pub extern "C" fn ssl_conf_curves(
    c: *mut chip::mbedtls_ssl_config,
    curves: *const chip::mbedtls_ecp_group_id,
) {
    conf(c, "mbedtls_ssl_conf_curves");
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(c as usize)) {
            e.curves = curves as usize;
            e.iana = 0;
        }
    });
}

/// `mbedtls_ssl_conf_groups`: keeps the caller's 0-terminated list of TLS group ids, which
/// `mbedtls_ssl_setup` checks against what the chip can do.
#[export_name = "ws63sim_mbedtls_ssl_conf_groups"]
pub extern "C" fn ssl_conf_groups(c: *mut chip::mbedtls_ssl_config, groups: *const u16) {
    conf(c, "mbedtls_ssl_conf_groups");
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(c as usize)) {
            e.curves = 0;
            e.iana = groups as usize;
        }
    });
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

/// `mbedtls_ssl_setup`: reads the configuration's curves (see [`groups_at_setup`]) and
/// allocates the record buffers (from the board's heap, charged at the chip's sizes: see
/// `sim_calloc`).
#[export_name = "ws63sim_mbedtls_ssl_setup"]
pub extern "C" fn ssl_setup(
    s: *mut chip::mbedtls_ssl_context,
    c: *const chip::mbedtls_ssl_config,
) -> c_int {
    let h = ssl(s, "mbedtls_ssl_setup");
    let hc = conf(c, "mbedtls_ssl_setup");
    if let Err(why) = groups_at_setup(c as usize) {
        eprintln!(
            "[ws63-sim] mbedtls_ssl_setup: {why}: MBEDTLS_ERR_SSL_BAD_CONFIG, as on the chip"
        );
        return chip::MBEDTLS_ERR_SSL_BAD_CONFIG;
    }
    SETUP_BUFFERS.with(|b| b.set(Some(0)));
    // SAFETY: live host contexts; the configuration outlives the context (caller's duty).
    let rc = unsafe { host::mbedtls_ssl_setup(h, hc) };
    let buffers = SETUP_BUFFERS.with(|b| b.replace(None));
    if rc != 0 {
        return rc;
    }
    if buffers != Some(2) {
        die(&format!("mbedtls_ssl_setup allocated {buffers:?} record buffers, not 2"));
    }
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&(s as usize)) {
            e.conf = c as usize;
        }
    });
    0
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

/// The TLS groups the chip's crypto engine can do ECDHE with: P-256 (23) and brainpool P-256
/// (26), the curves both its point-multiplication adapter and its driver's curve table have.
const ENGINE_GROUPS: [u16; 2] = [23, 26];

/// What `mbedtls_ssl_setup` does with a configuration's curves on the chip: reads the list
/// `mbedtls_ssl_conf_curves` or `_groups` left, which must name only groups the crypto engine
/// can do; without one, the chip's default list (X25519 first) would be offered and fail in
/// hardware. Gives the host the list, or says why not.
fn groups_at_setup(conf_key: usize) -> Result<(), String> {
    let (hconf, curves, iana) =
        with_contexts(|m| m.get(&conf_key).map(|e| (e.ptr, e.curves, e.iana)))
            .ok_or("no configuration")?;
    let mut groups = Vec::new();
    if curves != 0 {
        let mut p = curves as *const u8;
        // SAFETY: the caller's MBEDTLS_ECP_DP_NONE-terminated list, which must live until
        // `mbedtls_ssl_setup` (the API's contract).
        unsafe {
            while *p != 0 {
                groups.push(iana_group(*p).ok_or_else(|| format!("curve id {} is not built", *p))?);
                p = p.add(1);
            }
        }
    } else if iana != 0 {
        let mut p = iana as *const u16;
        // SAFETY: the caller's 0-terminated list (as above).
        unsafe {
            while *p != 0 {
                groups.push(*p);
                p = p.add(1);
            }
        }
    } else {
        return Err("no curve list: the chip's default list starts with X25519, which its crypto \
                    engine cannot do (set P-256 with mbedtls_ssl_conf_curves)"
            .into());
    }
    if let Some(g) = groups.iter().find(|g| !ENGINE_GROUPS.contains(g)) {
        return Err(format!(
            "TLS group {g} is not one the chip's crypto engine can do (P-256, \
                            brainpool P-256)"
        ));
    }
    groups.push(0);
    with_contexts(|m| {
        if let Some(e) = m.get_mut(&conf_key) {
            e.groups = groups;
            // SAFETY: a live host configuration; the list lives in its entry until the next
            // setup or its free.
            unsafe {
                host::mbedtls_ssl_conf_groups(
                    hconf as *mut host::mbedtls_ssl_config,
                    e.groups.as_ptr(),
                )
            };
        }
    });
    Ok(())
}

/// `MBEDTLS_X509_EXT_SUBJECT_ALT_NAME` (`MBEDTLS_OID_X509_EXT_SUBJECT_ALT_NAME`, bit 5).
const X509_EXT_SUBJECT_ALT_NAME: c_int = 1 << 5;

/// Whether 3.1.0 would match `name` against `crt`'s subjectAltName: it compares the dNSName
/// entries' text with the name (case-insensitively), so an IP address matches only a dNSName
/// entry that is its text. `None`: the certificate has no subjectAltName (both versions then
/// look at the CN, alike).
fn san_matches_as_3_1(crt: *const host::mbedtls_x509_crt, name: &str) -> Option<bool> {
    // SAFETY: the peer certificate the host context keeps; its SAN list is its own.
    unsafe {
        if (*crt).private_ext_types & X509_EXT_SUBJECT_ALT_NAME == 0 {
            return None;
        }
        let mut cur: *const host::mbedtls_x509_sequence = &(*crt).subject_alt_names;
        while !cur.is_null() {
            let b = &(*cur).buf;
            // dNSName: context-specific [2].
            if !b.p.is_null() && b.tag == 0x82 {
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

/// `mbedtls_ssl_handshake`: while it runs, the chip's larger handshake state is charged.
#[export_name = "ws63sim_mbedtls_ssl_handshake"]
pub extern "C" fn ssl_handshake(s: *mut chip::mbedtls_ssl_context) -> c_int {
    let h = ssl(s, "mbedtls_ssl_handshake");
    let key = s as usize;
    let (ip_name, handshaking) =
        with_contexts(|m| m.get(&key).map(|e| (e.ip_name.clone(), e.handshaking)).unwrap());
    if !handshaking {
        if !crate::heap::charge(CHIP_EXTRA_HANDSHAKE) {
            return chip::MBEDTLS_ERR_SSL_ALLOC_FAILED;
        }
        with_contexts(|m| {
            if let Some(e) = m.get_mut(&key) {
                e.handshaking = true;
                e.charged += CHIP_EXTRA_HANDSHAKE;
            }
        });
    }
    ISSUER.with(|c| c.set((0, -1)));
    IP_NAME.with(|n| *n.borrow_mut() = ip_name);
    // SAFETY: a live host context, set up.
    let rc = unsafe { host::mbedtls_ssl_handshake(h) };
    IP_NAME.with(|n| *n.borrow_mut() = None);
    let ongoing = rc == chip::MBEDTLS_ERR_SSL_WANT_READ || rc == chip::MBEDTLS_ERR_SSL_WANT_WRITE;
    if !ongoing {
        // Over, one way or the other: the handshake's state is freed.
        with_contexts(|m| {
            if let Some(e) = m.get_mut(&key) {
                if e.handshaking {
                    e.handshaking = false;
                    e.charged -= CHIP_EXTRA_HANDSHAKE;
                    crate::heap::uncharge(CHIP_EXTRA_HANDSHAKE);
                }
            }
        });
    }
    rc
}

/// `mbedtls_ssl_get_verify_result`.
#[export_name = "ws63sim_mbedtls_ssl_get_verify_result"]
pub extern "C" fn ssl_get_verify_result(s: *const chip::mbedtls_ssl_context) -> u32 {
    // SAFETY: a live host context.
    unsafe { host::mbedtls_ssl_get_verify_result(ssl(s, "mbedtls_ssl_get_verify_result")) }
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
    // The chip's records carry at most CHIP_OUT_CONTENT_LEN bytes: 3.1.0 writes one record a
    // call and returns what it took.
    let len = len.min(CHIP_OUT_CONTENT_LEN);
    // SAFETY: a live host context and the caller's buffer of `len` bytes (fewer than given).
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
    unsafe extern "C" fn nothing(_: *mut u8) {}
    create(ctx.cast(), Kind::Entropy, nothing);
}

/// `mbedtls_entropy_free`.
#[export_name = "ws63sim_mbedtls_entropy_free"]
pub extern "C" fn entropy_free(ctx: *mut chip::mbedtls_entropy_context) {
    unsafe extern "C" fn nothing(_: *mut u8) {}
    destroy(ctx.cast(), Kind::Entropy, nothing);
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

    /// A client configuration in `storage` with a random generator and the curve list
    /// `curves` (None: no list set).
    fn client_config(
        storage: &mut [u64; 32],
        curves: Option<&'static [u8]>,
    ) -> *mut chip::mbedtls_ssl_config {
        let c = storage.as_mut_ptr().cast::<chip::mbedtls_ssl_config>();
        unsafe extern "C" fn rng(_: *mut c_void, out: *mut u8, len: usize) -> c_int {
            // SAFETY: mbedTLS's buffer of `len` bytes.
            fill_random(unsafe { std::slice::from_raw_parts_mut(out, len) });
            0
        }
        ssl_config_init(c);
        assert_eq!(ssl_config_defaults(c, 0, 0, 0), 0);
        ssl_conf_rng(c, Some(rng), std::ptr::null_mut());
        if let Some(list) = curves {
            ssl_conf_curves(c, list.as_ptr());
        }
        c
    }

    /// `mbedtls_ssl_setup` with the curve list `curves` (None: no list set).
    fn setup_with(curves: Option<&'static [u8]>) -> c_int {
        let mut conf_storage = [0u64; 32];
        let mut ssl_storage = [0u64; 48];
        let c = client_config(&mut conf_storage, curves);
        let s = ssl_storage.as_mut_ptr().cast::<chip::mbedtls_ssl_context>();
        ssl_init(s);
        let rc = ssl_setup(s, c);
        ssl_free(s);
        ssl_config_free(c);
        assert!(ssl_storage.iter().chain(&conf_storage).all(|w| *w == 0), "freed storage cleared");
        rc
    }

    #[test]
    fn setup_takes_only_curves_the_chips_crypto_engine_can_do() {
        use chip::*;
        static P256: [u8; 2] = [MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE];
        static BP256: [u8; 2] = [MBEDTLS_ECP_DP_BP256R1, MBEDTLS_ECP_DP_NONE];
        static X25519: [u8; 3] =
            [MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_NONE];
        static P384: [u8; 2] = [MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE];
        assert_eq!(setup_with(Some(&P256)), 0);
        assert_eq!(setup_with(Some(&BP256)), 0);
        assert_eq!(setup_with(Some(&X25519)), MBEDTLS_ERR_SSL_BAD_CONFIG);
        assert_eq!(setup_with(Some(&P384)), MBEDTLS_ERR_SSL_BAD_CONFIG);
        assert_eq!(setup_with(None), MBEDTLS_ERR_SSL_BAD_CONFIG, "the chip's default list");
    }

    #[test]
    fn record_buffers_are_charged_at_the_chips_sizes() {
        static P256: [u8; 2] = [chip::MBEDTLS_ECP_DP_SECP256R1, chip::MBEDTLS_ECP_DP_NONE];
        let mut conf_storage = [0u64; 32];
        let mut ssl_storage = [0u64; 48];
        let c = client_config(&mut conf_storage, Some(&P256));
        let s = ssl_storage.as_mut_ptr().cast::<chip::mbedtls_ssl_context>();
        let once = || {
            crate::measure::heap_kept(|| {
                crate::measure::heap_peak(|| {
                    ssl_init(s);
                    let rc = ssl_setup(s, c);
                    ssl_free(s);
                    rc
                })
            })
        };
        // The first setup leaves what the host's library keeps for good.
        once();
        let ((rc, peak), kept) = once();
        ssl_config_free(c);
        assert_eq!(rc, 0);
        let chip = crate::heap::charge_of(CHIP_IN_BUFFER, 4) + crate::heap::charge_of(4_429, 4);
        let host = crate::heap::charge_of(CHIP_IN_BUFFER, 4) + crate::heap::charge_of(16_429, 4);
        // The chip's two buffers and the handshake's first state; a send buffer of the host's
        // size would take the peak past two 16 KiB buffers.
        assert!(peak >= chip && peak < host, "{peak} bytes: chip {chip}, host {host}");
        assert_eq!(kept, 0, "the buffers' charge returns at the free");
    }

    #[test]
    fn curve_ids_become_tls_group_ids() {
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_SECP256R1), Some(23));
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_CURVE25519), Some(29));
        assert_eq!(iana_group(chip::MBEDTLS_ECP_DP_NONE), None);
        assert_eq!(protocol_version(3, 3), 0x0303);
    }
}

//! The SDK's update package (`update.fwpkg`): building one for tests and demos, in the SDK's
//! default configuration or in SHA-256 mode, and verifying one as the device does.
//!
//! ```text
//! 0x000  key area        256 B  image_id 0xCB8D154E, signature_length (0x0C), key_alg (0x18),
//!                               the sub-key X‖Y (0x080), the area's signature (0x0C0)
//! 0x100  FOTA info area  256 B  image_id 0xCB8D154E, signature_length (0x10C), hash table
//!                               addr/len/hash (0x120..0x148), image_num (0x148),
//!                               user_defined[112] (0x150: the version), signature (0x1C0)
//! 0x200  hash table      44 B per image {id, header offset, header + data length,
//!                               SHA-256(header)}, zero-padded to 16; its SHA-256 covers the
//!                               padding
//! ...    per image: header 160 B (magic 0x464F5451, id, data offset, stored length padded to
//!        16, SHA-256(stored data), original length at 0x54, decompress_flag at 0x60), then
//!        the stored data, zero-padded to 16
//! ```
//! All integers little-endian; keys, hashes and signatures big-endian byte strings. Two
//! modes, chosen per area by its `signature_length`, as `upg_verify.c` chooses:
//! - **ECDSA** (64; `KeyAlg 0x2A13C812`, the SDK's default): the key area carries the
//!   sub-key and is signed by the root key, the FOTA info area is signed by the sub-key; a
//!   signature is r‖s over SHA-256(area[0..192]), brainpool P-256 ([`crate::keys`]). The
//!   device checks the key area against the root public key in its flash.
//! - **SHA-256** (32; `KeyAlg 0x2A13C856`): the first 32 bytes of the signature field hold
//!   SHA-256(area[0..192]); the sign tool's other fields stay zero.
//!
//! The default package ([`Spec::sdk_default`]) is what `build_ws63_update.py` makes: ECDSA,
//! two images, the application first and then flashboot, both LZMA-compressed
//! (`decompress_flag` 0x3C7896E1; the 13-byte `.lzma` header padded to 16 with zeros:
//! props 0x5A = lc 0 lp 0 pb 2, dictionary 4096, the real uncompressed size). Real packages
//! come from the SDK; this builder exists so the simulator can be exercised with what they
//! hold.
//!
//! The simulator's images ([`sim_image`]) start with a header the board's boot checks
//! (their code's hash) and, for apps, the firmware's version record, so that the version the
//! firmware reports after a reboot comes from the installed image.

use sha2::{Digest, Sha256};
use ws63_sdk_sys as sdk;

use crate::keys::{self, RawPublicKey, SigningKey};

/// Key area and FOTA info area image id.
pub const HEADER_IMAGE_ID: u32 = 0xCB8D_154E;
/// The application image id.
pub const APP_IMAGE_ID: u32 = 0x4B0F_2D2D;
/// The flashboot image id.
pub const FLASHBOOT_IMAGE_ID: u32 = 0x4B1E_3C2D;
/// An image header's magic.
pub const IMAGE_HEADER_MAGIC: u32 = 0x464F_5451;
/// `key_alg` for SHA-256-only packages (ECC256 format).
pub const KEY_ALG_SHA256: u32 = 0x2A13_C856;
/// `key_alg` of the SDK's default packages: ECDSA, brainpool P-256, SHA-256.
pub const KEY_ALG_ECDSA: u32 = 0x2A13_C812;
/// `decompress_flag` of an LZMA-compressed image.
pub const DECOMPRESS_ZIP: u32 = 0x3C78_96E1;
/// Size of the key area plus the FOTA info area.
pub const HEADER_LEN: usize = 0x200;
/// Size of an image header.
pub const IMAGE_HEADER_LEN: usize = 160;
/// Size of a hash-table entry.
pub const HASH_NODE_LEN: usize = 44;
/// Offset and size of `user_defined` in the package.
pub const USER_DEFINED: (usize, usize) = (0x150, 112);
/// Most images a package may hold (`UPG_FIRMWARE_MAX_NUM`).
pub const MAX_IMAGES: u32 = 20;
/// Longest version string (the SDK packager's `--ver` limit).
pub const MAX_VERSION_LEN: usize = ws63_rt::version::MAX_LEN;

/// `upg_result_t`: why an upgrade failed (stored by flashboot in the flag area).
#[allow(missing_docs)]
pub mod result {
    pub const UPDATE_SUCCESS: u32 = 0;
    pub const VERIFY_HEAD_FAILED: u32 = 1;
    pub const VERIFY_HASH_TABLE_FAILED: u32 = 2;
    pub const VERIFY_IMAGE_FAILED: u32 = 3;
    pub const DECOMPRESS_IMAGE_FAILED: u32 = 5;
    pub const UPDATE_IMAGE_FAILED: u32 = 9;
    pub const RETRY_ALL_FAILED: u32 = 13;
    pub const NONE: u32 = 14;
}

fn align16(n: usize) -> usize {
    (n + 15) & !15
}

fn put(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A little-endian u32 at `at` (0 past the end).
pub fn get(buf: &[u8], at: usize) -> u32 {
    buf.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The start of a simulator app image's header.
pub const SIM_IMAGE_MAGIC: &[u8; 16] = b"WS63SIM-APP-HDR\0";
/// The start of a simulator flashboot image's header.
pub const SIM_FLASHBOOT_MAGIC: &[u8; 16] = b"WS63SIM-FBT-HDR\0";
/// A simulator image's header size; its code follows.
pub const SIM_IMAGE_HEADER_LEN: usize = 0x100;

/// What a simulator image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimImage {
    /// The application (the firmware).
    App,
    /// Flashboot.
    Flashboot,
}

impl SimImage {
    fn magic(self) -> &'static [u8; 16] {
        match self {
            SimImage::App => SIM_IMAGE_MAGIC,
            SimImage::Flashboot => SIM_FLASHBOOT_MAGIC,
        }
    }
}

/// A simulator image of exactly `size` bytes carrying `version`.
///
/// ```text
/// 0x000  "WS63SIM-APP-HDR\0" (an app) or "WS63SIM-FBT-HDR\0" (flashboot)
/// 0x010  code length (u32)
/// 0x020  SHA-256 of the code
/// 0x100  code: the firmware's version record (`ws63_rt::version`, as the chip library
///        carries it), then filler that compresses about as well as code does
/// ```
///
/// Like a real image's code-info header (whose `code_area_hash` is checked at every boot:
/// flashboot's by the ROM, the app's by flashboot), the header lets the board check the
/// installed image before running it.
///
/// # Panics
/// If `version` is not a valid version or `size` is below 0x120 bytes.
pub fn sim_image(kind: SimImage, version: &str, size: usize) -> Vec<u8> {
    let min = SIM_IMAGE_HEADER_LEN + ws63_rt::version::RECORD_LEN;
    assert!(ws63_rt::version::is_valid(version) && size >= min, "bad image parameters");
    let mut code = Vec::with_capacity(size - SIM_IMAGE_HEADER_LEN);
    code.extend_from_slice(ws63_rt::version::Record::new(version).as_bytes());
    // Deterministic filler that is neither all zeros nor all 0xFF, with about 4 bits of
    // entropy a byte: LZMA makes it about half its size, as it does machine code.
    let mut x: u32 = 0x9E37_79B9 ^ size as u32 ^ (kind as u32) << 16;
    while code.len() < size - SIM_IMAGE_HEADER_LEN {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        code.push(0x40 | (x as u8 & 0x0F));
    }
    let mut img = vec![0u8; SIM_IMAGE_HEADER_LEN];
    img[..16].copy_from_slice(kind.magic());
    put(&mut img, 0x10, code.len() as u32);
    img[0x20..0x40].copy_from_slice(&sha(&code));
    img.extend_from_slice(&code);
    img
}

/// A simulator app image of exactly `size` bytes carrying `version` (see [`sim_image`]).
///
/// # Panics
/// As [`sim_image`].
pub fn sim_app_image(version: &str, size: usize) -> Vec<u8> {
    sim_image(SimImage::App, version, size)
}

/// The code length a simulator image's header declares, if `header` is one of `kind`.
pub fn sim_image_code_len_of(kind: SimImage, header: &[u8]) -> Option<usize> {
    (header.get(..16)? == kind.magic()).then(|| get(header, 0x10) as usize)
}

/// The code length a simulator app image's header declares, if `header` is one.
pub fn sim_image_code_len(header: &[u8]) -> Option<usize> {
    sim_image_code_len_of(SimImage::App, header)
}

/// The version a simulator image of `kind` carries, if `image` is a whole, intact one (its
/// code hash matches, as the boot checks before running it).
pub fn sim_image_version_of(kind: SimImage, image: &[u8]) -> Option<String> {
    let len = sim_image_code_len_of(kind, image)?;
    let code = image.get(SIM_IMAGE_HEADER_LEN..SIM_IMAGE_HEADER_LEN.checked_add(len)?)?;
    if sha(code)[..] != image[0x20..0x40] {
        return None;
    }
    ws63_rt::version::parse(code).map(str::to_string)
}

/// The version a simulator app image carries, if `image` is a whole, intact one.
pub fn sim_image_version(image: &[u8]) -> Option<String> {
    sim_image_version_of(SimImage::App, image)
}

/// `data` as the packager stores an LZMA image: the `.lzma` header (props 0x5A: lc 0, lp 0,
/// pb 2; dictionary 4096 bytes; the real uncompressed size) padded from 13 to 16 bytes with
/// zeros, then the compressed stream as the packager's `lzma_tool -d12 -lc0 -lp0` writes it:
/// raw LZMA1 with the size known and no end marker. (An end marker would matter: flashboot
/// reads the stored data in 4 KiB pieces to the end, and a piece that holds nothing but the
/// marker's tail fails the install; see `upgrade::install_lzma`.)
pub fn lzma_image(data: &[u8]) -> Vec<u8> {
    let stream = lzma1_without_end_marker(data, 4096);
    let mut stored = vec![0x5A];
    stored.extend_from_slice(&4096u32.to_le_bytes());
    stored.extend_from_slice(&(data.len() as u64).to_le_bytes());
    stored.extend_from_slice(&[0; 3]);
    stored.extend_from_slice(&stream);
    stored
}

/// Raw LZMA1 (lc 0, lp 0, pb 2, preset 6, `dict` bytes of dictionary) of `data` without an end
/// marker: liblzma's `LZMA_FILTER_LZMA1EXT` with `ext_flags` 0. The `liblzma` crate offers
/// only `LZMA_FILTER_LZMA1`, which always writes the marker, so this calls `liblzma-sys`.
fn lzma1_without_end_marker(data: &[u8], dict: u32) -> Vec<u8> {
    use liblzma_sys as x;
    /// `LZMA_FILTER_LZMA1EXT` (xz 5.4's `lzma12.h`), absent from liblzma-sys's constants.
    const LZMA_FILTER_LZMA1EXT: x::lzma_vli = 0x4000_0000_0000_0002;
    // SAFETY: `lzma_options_lzma` is plain data (integers, enums whose 0 is a valid
    // value, null pointers); all zeros is the state `lzma_lzma_preset` expects to fill, and
    // leaves `ext_flags` (a reserved field in liblzma-sys's declaration) 0: no end marker.
    let mut opts: x::lzma_options_lzma = unsafe { std::mem::zeroed() };
    // SAFETY: `opts` is a valid, writable options struct for the call's duration.
    let bad_preset = unsafe { x::lzma_lzma_preset(&mut opts, 6) };
    assert_eq!(bad_preset, 0, "liblzma preset 6");
    opts.lc = 0;
    opts.lp = 0;
    opts.pb = 2;
    opts.dict_size = dict;
    let filters = [
        x::lzma_filter { id: LZMA_FILTER_LZMA1EXT, options: std::ptr::addr_of_mut!(opts).cast() },
        x::lzma_filter { id: x::LZMA_VLI_UNKNOWN, options: std::ptr::null_mut() },
    ];
    // SAFETY: all zeros is LZMA_STREAM_INIT.
    let mut strm: x::lzma_stream = unsafe { std::mem::zeroed() };
    // SAFETY: `strm` is initialised (LZMA_STREAM_INIT); `filters` is terminated by
    // LZMA_VLI_UNKNOWN and, with `opts`, outlives the call (the encoder copies the options).
    let ret = unsafe { x::lzma_raw_encoder(&mut strm, filters.as_ptr()) };
    assert_eq!(ret, x::LZMA_OK, "liblzma raw LZMA1EXT encoder");
    let mut out = vec![0u8; data.len() + data.len() / 2 + 4096];
    strm.next_in = data.as_ptr();
    strm.avail_in = data.len();
    strm.next_out = out.as_mut_ptr();
    strm.avail_out = out.len();
    // SAFETY: `next_in`/`avail_in` and `next_out`/`avail_out` describe `data` and `out`,
    // which live and are not otherwise touched until `lzma_end`; the output buffer holds
    // any LZMA1 stream of `data` (at most about 1.5 times the input plus a few bytes).
    let ret = unsafe { x::lzma_code(&mut strm, x::LZMA_FINISH) };
    let written = out.len() - strm.avail_out;
    // SAFETY: `strm` was initialised by `lzma_raw_encoder` and is not used afterwards.
    unsafe { x::lzma_end(&mut strm) };
    assert_eq!(ret, x::LZMA_STREAM_END, "LZMA1 encoding of {} bytes", data.len());
    out.truncate(written);
    out
}

/// One image of a package to build.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    /// The image id.
    pub id: u32,
    /// Its data as stored (stored as is, zero-padded to 16).
    pub data: &'a [u8],
    /// `decompress_flag` of its header (0: a raw image; [`DECOMPRESS_ZIP`]: LZMA).
    pub decompress_flag: u32,
}

/// How a package's areas are signed.
#[derive(Debug, Clone, Copy)]
pub enum Signing<'a> {
    /// SHA-256 mode: each area's hash in its signature field (`KeyAlg 0x2A13C856`).
    Sha256,
    /// ECDSA (`KeyAlg 0x2A13C812`): the key area, which carries `sub`'s public key, signed
    /// by `root`; the FOTA info area signed by `sub`.
    Ecdsa {
        /// The root key (its public half is in the board's flash).
        root: &'a SigningKey,
        /// The sub-key (the SDK's application key).
        sub: &'a SigningKey,
    },
}

/// A package of a simulator app to build.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The version, in the app image and in `user_defined` (the packager's `--ver`).
    pub version: &'a str,
    /// The app image's size.
    pub app_size: usize,
    /// Add a simulator flashboot image of this size (second, as the SDK's packager does).
    pub flashboot_size: Option<usize>,
    /// Store the images LZMA-compressed.
    pub lzma: bool,
    /// How the areas are signed.
    pub signing: Signing<'a>,
}

impl<'a> Spec<'a> {
    /// The SDK's default configuration: signed by `key` (as root key and sub-key), two
    /// images (the app, then a 16 KiB flashboot), both LZMA-compressed.
    pub fn sdk_default(version: &'a str, app_size: usize, key: &'a SigningKey) -> Self {
        Spec {
            version,
            app_size,
            flashboot_size: Some(16 * 1024),
            lzma: true,
            signing: Signing::Ecdsa { root: key, sub: key },
        }
    }

    /// SHA-256 mode, one raw app image (what [`build_app`] makes).
    pub fn sha256(version: &'a str, app_size: usize) -> Self {
        Spec { version, app_size, flashboot_size: None, lzma: false, signing: Signing::Sha256 }
    }

    /// Builds the package.
    ///
    /// # Panics
    /// As [`sim_image`], or if the version is longer than [`MAX_VERSION_LEN`].
    pub fn build(&self) -> Vec<u8> {
        let mut stored =
            vec![(APP_IMAGE_ID, sim_image(SimImage::App, self.version, self.app_size))];
        if let Some(n) = self.flashboot_size {
            stored.push((FLASHBOOT_IMAGE_ID, sim_image(SimImage::Flashboot, self.version, n)));
        }
        let images: Vec<(u32, Vec<u8>, u32, u32)> = stored
            .into_iter()
            .map(|(id, data)| {
                let len = data.len() as u32;
                if self.lzma {
                    (id, lzma_image(&data), DECOMPRESS_ZIP, len)
                } else {
                    (id, data, 0, len)
                }
            })
            .collect();
        let specs: Vec<(ImageSpec<'_>, u32)> = images
            .iter()
            .map(|(id, data, flag, len)| {
                (ImageSpec { id: *id, data, decompress_flag: *flag }, *len)
            })
            .collect();
        assemble(self.version, &specs, self.signing)
    }
}

/// Builds a SHA-256-mode package of `images` (id, data), with `version` in `user_defined`.
///
/// # Panics
/// If `version` is longer than [`MAX_VERSION_LEN`].
pub fn build(version: &str, images: &[(u32, &[u8])]) -> Vec<u8> {
    let specs: Vec<ImageSpec<'_>> =
        images.iter().map(|(id, data)| ImageSpec { id: *id, data, decompress_flag: 0 }).collect();
    build_images(version, &specs, Signing::Sha256)
}

/// Builds a package of `images` (each image's original length taken as its stored length),
/// with `version` in `user_defined`.
///
/// # Panics
/// If `version` is longer than [`MAX_VERSION_LEN`].
pub fn build_images(version: &str, images: &[ImageSpec<'_>], signing: Signing<'_>) -> Vec<u8> {
    let specs: Vec<(ImageSpec<'_>, u32)> =
        images.iter().map(|i| (*i, i.data.len() as u32)).collect();
    assemble(version, &specs, signing)
}

/// The package: header areas, hash table, each image (with its original length).
fn assemble(version: &str, images: &[(ImageSpec<'_>, u32)], signing: Signing<'_>) -> Vec<u8> {
    assert!(version.len() <= MAX_VERSION_LEN, "version longer than 16 bytes");
    let n = images.len();
    let table_len = align16(n * HASH_NODE_LEN);
    let mut pkg = vec![0u8; HEADER_LEN + table_len];
    let mut nodes = Vec::new();
    for (ImageSpec { id, data, decompress_flag }, original_len) in images {
        let hdr_off = pkg.len();
        let padded = align16(data.len());
        let mut hdr = [0u8; IMAGE_HEADER_LEN];
        put(&mut hdr, 0x00, IMAGE_HEADER_MAGIC);
        put(&mut hdr, 0x04, *id);
        put(&mut hdr, 0x08, (hdr_off + IMAGE_HEADER_LEN) as u32);
        put(&mut hdr, 0x0C, padded as u32);
        let mut body = data.to_vec();
        body.resize(padded, 0);
        hdr[0x10..0x30].copy_from_slice(&sha(&body));
        put(&mut hdr, 0x54, *original_len);
        put(&mut hdr, 0x60, *decompress_flag);
        nodes.push((*id, hdr_off as u32, (IMAGE_HEADER_LEN + padded) as u32, sha(&hdr)));
        pkg.extend_from_slice(&hdr);
        pkg.extend_from_slice(&body);
    }
    for (i, (id, addr, len, hash)) in nodes.iter().enumerate() {
        let at = HEADER_LEN + i * HASH_NODE_LEN;
        put(&mut pkg, at, *id);
        put(&mut pkg, at + 4, *addr);
        put(&mut pkg, at + 8, *len);
        pkg[at + 12..at + 44].copy_from_slice(hash);
    }
    let (sig_len, key_alg) = match signing {
        Signing::Sha256 => (32, KEY_ALG_SHA256),
        Signing::Ecdsa { .. } => (64, KEY_ALG_ECDSA),
    };
    // Key area.
    put(&mut pkg, 0x000, HEADER_IMAGE_ID);
    put(&mut pkg, 0x004, 0x0001_0000);
    put(&mut pkg, 0x008, 256);
    put(&mut pkg, 0x00C, sig_len);
    put(&mut pkg, 0x018, key_alg);
    // FOTA info area.
    put(&mut pkg, 0x100, HEADER_IMAGE_ID);
    put(&mut pkg, 0x104, 0x0001_0000);
    put(&mut pkg, 0x108, 256);
    put(&mut pkg, 0x10C, sig_len);
    put(&mut pkg, 0x120, HEADER_LEN as u32);
    put(&mut pkg, 0x124, table_len as u32);
    let table_hash = sha(&pkg[HEADER_LEN..HEADER_LEN + table_len]);
    pkg[0x128..0x148].copy_from_slice(&table_hash);
    put(&mut pkg, 0x148, n as u32);
    pkg[USER_DEFINED.0..USER_DEFINED.0 + version.len()].copy_from_slice(version.as_bytes());
    match signing {
        Signing::Sha256 => {
            let info_hash = sha(&pkg[0x100..0x1C0]);
            pkg[0x1C0..0x1E0].copy_from_slice(&info_hash);
            let key_hash = sha(&pkg[0x000..0x0C0]);
            pkg[0x0C0..0x0E0].copy_from_slice(&key_hash);
        }
        Signing::Ecdsa { root, sub } => {
            // What the SDK's sign tool does: the sub-key's public key into the key area, then
            // the key area signed by the root key, the info area by the sub-key.
            pkg[0x080..0x0C0].copy_from_slice(&keys::raw_public_key(sub.verifying_key()));
            let key_sig = keys::sign(root, &pkg[0x000..0x0C0]);
            pkg[0x0C0..0x100].copy_from_slice(&key_sig);
            let info_sig = keys::sign(sub, &pkg[0x100..0x1C0]);
            pkg[0x1C0..0x200].copy_from_slice(&info_sig);
        }
    }
    pkg
}

/// A package with one simulator app image of `image_size` bytes carrying `version`.
pub fn build_app(version: &str, image_size: usize) -> Vec<u8> {
    build(version, &[(APP_IMAGE_ID, &sim_app_image(version, image_size))])
}

/// The version in a package's `user_defined` field.
pub fn package_version(pkg: &[u8]) -> Option<String> {
    let f = pkg.get(USER_DEFINED.0..USER_DEFINED.0 + MAX_VERSION_LEN)?;
    let end = f.iter().position(|b| *b == 0).unwrap_or(f.len());
    std::str::from_utf8(&f[..end]).ok().map(str::to_string)
}

/// The package cut to its first `len` bytes.
pub fn truncate(pkg: &[u8], len: usize) -> Vec<u8> {
    pkg[..len.min(pkg.len())].to_vec()
}

/// The package with bit `bit` (0 = lowest bit of byte 0) flipped.
pub fn flip_bit(pkg: &[u8], bit: usize) -> Vec<u8> {
    let mut p = pkg.to_vec();
    p[bit / 8] ^= 1 << (bit % 8);
    p
}

/// Why verification failed: the SDK's error code, and the `upg_result_t` it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyError {
    /// What `uapi_upg_request_upgrade` returns.
    pub code: sdk::errcode_t,
    /// What flashboot would store as `update_result`.
    pub result: u32,
}

const fn fail(code: sdk::errcode_t, result: u32) -> VerifyError {
    VerifyError { code, result }
}

/// One image as the hash table and its header describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image id.
    pub id: u32,
    /// Offset of the data in the package.
    pub data_offset: u32,
    /// Stored data length (padded to 16 by the packager).
    pub data_len: u32,
    /// The original length (`new_image_len`: the decompressed size of an LZMA image).
    pub original_len: u32,
    /// `decompress_flag`.
    pub decompress_flag: u32,
}

/// What an erased root key area holds: no key. An ECDSA area verifies against nothing.
pub const NO_ROOT_KEY: RawPublicKey = [0xFF; 64];

/// Checks one header area as `verify_fota_key_area` / `verify_fota_info` do: by the area's
/// own `signature_length`, SHA-256 mode when it is 32, ECDSA against `key` otherwise.
fn check_area(area: &[u8], key: &RawPublicKey) -> bool {
    if get(area, 0x0C) == 32 {
        return sha(&area[..0xC0])[..] == area[0xC0..0xE0];
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&area[0xC0..0x100]);
    keys::verify(key, &area[..0xC0], &sig)
}

/// Verifies a package the way `uapi_upg_verify_file` does, in its order, reading the package
/// through `read(offset, len)` (in place, as the device reads the mapped flash), with the
/// board's root public key (what its flash holds at 0x40; [`NO_ROOT_KEY`] when erased).
/// Returns the images on success.
///
/// # Errors
/// The first failing check, with the SDK's code: `ERRCODE_FAIL` for a wrong id, any hash
/// mismatch or a signature that does not verify (the cipher driver's failure),
/// `ERRCODE_UPG_INVALID_PARAMETER` for an empty image.
pub fn verify(
    read: &mut dyn FnMut(u32, usize) -> Vec<u8>,
    root_key: &RawPublicKey,
) -> Result<Vec<ImageInfo>, VerifyError> {
    use result::*;
    let head = read(0, HEADER_LEN);
    if get(&head, 0x000) != HEADER_IMAGE_ID || get(&head, 0x100) != HEADER_IMAGE_ID {
        return Err(fail(sdk::ERRCODE_FAIL, VERIFY_HEAD_FAILED));
    }
    // The key area against the root key; the info area against the sub-key the key area
    // carries (whatever the key area's mode).
    let mut sub = [0u8; 64];
    sub.copy_from_slice(&head[0x080..0x0C0]);
    if !check_area(&head[0x000..0x100], root_key) || !check_area(&head[0x100..0x200], &sub) {
        return Err(fail(sdk::ERRCODE_FAIL, VERIFY_HEAD_FAILED));
    }
    let table_addr = match get(&head, 0x120) {
        0 => HEADER_LEN as u32,
        a => a,
    };
    let table_len = get(&head, 0x124) as usize;
    let image_num = get(&head, 0x148);
    let table = read(table_addr, table_len);
    if sha(&table)[..] != head[0x128..0x148] {
        return Err(fail(sdk::ERRCODE_FAIL, VERIFY_HASH_TABLE_FAILED));
    }
    let mut images = Vec::new();
    for i in 0..image_num as usize {
        // The device indexes the table by image_num without bounds: read in place.
        let node = read(table_addr + (i * HASH_NODE_LEN) as u32, HASH_NODE_LEN);
        let hdr_addr = get(&node, 4);
        let hdr = read(hdr_addr, IMAGE_HEADER_LEN);
        if get(&hdr, 0) != IMAGE_HEADER_MAGIC || sha(&hdr)[..] != node[12..44] {
            return Err(fail(sdk::ERRCODE_FAIL, VERIFY_IMAGE_FAILED));
        }
        let data_len = align16(get(&hdr, 0x0C) as usize);
        if data_len == 0 {
            return Err(fail(sdk::ERRCODE_UPG_INVALID_PARAMETER, VERIFY_IMAGE_FAILED));
        }
        // Hashed in 4 KiB pieces, so verifying needs no memory in proportion to the image.
        let mut h = Sha256::new();
        let mut at = 0usize;
        while at < data_len {
            let n = (data_len - at).min(4096);
            h.update(read(get(&hdr, 0x08) + at as u32, n));
            at += n;
        }
        if h.finalize()[..] != hdr[0x10..0x30] {
            return Err(fail(sdk::ERRCODE_FAIL, VERIFY_IMAGE_FAILED));
        }
        images.push(ImageInfo {
            id: get(&node, 0),
            data_offset: get(&hdr, 0x08),
            data_len: get(&hdr, 0x0C),
            original_len: get(&hdr, 0x54),
            decompress_flag: get(&hdr, 0x60),
        });
    }
    Ok(images)
}

/// [`verify`] over a package in memory (bytes past its end read as 0xFF, like erased flash),
/// with the root public key `root_key` ([`NO_ROOT_KEY`]: a board without one).
///
/// # Errors
/// As [`verify`].
pub fn verify_bytes_with(
    pkg: &[u8],
    root_key: &RawPublicKey,
) -> Result<Vec<ImageInfo>, VerifyError> {
    verify(
        &mut |off, len| {
            let mut v = vec![0xFF; len];
            let start = (off as usize).min(pkg.len());
            let end = (off as usize).saturating_add(len).min(pkg.len());
            v[..end - start].copy_from_slice(&pkg[start..end]);
            v
        },
        root_key,
    )
}

/// [`verify_bytes_with`] on a board without a root key: SHA-256-mode packages only.
///
/// # Errors
/// As [`verify`].
pub fn verify_bytes(pkg: &[u8]) -> Result<Vec<ImageInfo>, VerifyError> {
    verify_bytes_with(pkg, &NO_ROOT_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_package_has_the_sdk_layout_and_verifies() {
        let pkg = build_app("1.0.1", 1000);
        assert_eq!(get(&pkg, 0), HEADER_IMAGE_ID);
        assert_eq!(get(&pkg, 0x124), 48, "one 44-byte node padded to 16");
        assert_eq!(get(&pkg, 0x200), APP_IMAGE_ID);
        assert_eq!(get(&pkg, 0x204), 0x230, "first header right after the padded table");
        assert_eq!(get(&pkg, 0x230), IMAGE_HEADER_MAGIC);
        assert_eq!(get(&pkg, 0x238), 0x230 + 160);
        assert_eq!(get(&pkg, 0x23C), 1008, "data length padded to 16");
        assert_eq!(pkg.len(), 0x230 + 160 + 1008);
        assert_eq!(package_version(&pkg).as_deref(), Some("1.0.1"));
        let images = verify_bytes(&pkg).unwrap();
        assert_eq!(images.len(), 1);
        let data = &pkg[images[0].data_offset as usize..][..1000];
        assert_eq!(sim_image_version(data).as_deref(), Some("1.0.1"));
    }

    #[test]
    fn every_corruption_is_caught_with_the_sdks_code() {
        let pkg = build(
            "2.0.0",
            &[(APP_IMAGE_ID, &sim_app_image("2.0.0", 300)), (FLASHBOOT_IMAGE_ID, &[7u8; 40])],
        );
        assert_eq!(verify_bytes(&pkg).unwrap().len(), 2);
        let code = |p: &[u8]| verify_bytes(p).unwrap_err();
        // A flipped bit anywhere that is checked: ids, both areas, table, headers, data.
        for (byte, result) in [
            (0x000, result::VERIFY_HEAD_FAILED),
            (0x050, result::VERIFY_HEAD_FAILED),
            (0x150, result::VERIFY_HEAD_FAILED),
            (0x210, result::VERIFY_HASH_TABLE_FAILED),
            (0x264, result::VERIFY_IMAGE_FAILED),
            (0x300, result::VERIFY_IMAGE_FAILED),
            (pkg.len() - 1, result::VERIFY_IMAGE_FAILED),
        ] {
            let e = code(&flip_bit(&pkg, byte * 8));
            assert_eq!((e.code, e.result), (sdk::ERRCODE_FAIL, result), "byte {byte:#x}");
        }
        // Bytes no check covers: the unused upper half of a signature field.
        assert!(verify_bytes(&flip_bit(&pkg, 0x0F0 * 8)).is_ok());
        // Truncated: the missing tail reads as erased flash.
        assert_eq!(code(&truncate(&pkg, pkg.len() - 16)).result, result::VERIFY_IMAGE_FAILED);
        assert_eq!(code(&truncate(&pkg, 100)).result, result::VERIFY_HEAD_FAILED);
        // An area that claims ECDSA must carry a signature that verifies.
        let mut ecdsa = pkg.clone();
        put(&mut ecdsa, 0x00C, 64);
        assert_eq!(
            (code(&ecdsa).code, code(&ecdsa).result),
            (sdk::ERRCODE_FAIL, result::VERIFY_HEAD_FAILED)
        );
        // A raw .bin is no package.
        assert_eq!(code(&sim_app_image("1.0.0", 4096)).code, sdk::ERRCODE_FAIL);
    }

    /// LZMA-decompresses a stored image as flashboot reads it (16-byte header).
    fn unlzma(stored: &[u8]) -> Vec<u8> {
        let mut alone = stored[..13].to_vec();
        alone.extend_from_slice(&stored[16..]);
        let mut dec = liblzma::stream::Stream::new_lzma_decoder(u64::MAX).unwrap();
        let size = get(stored, 5) as usize;
        let mut out = Vec::with_capacity(size + 64);
        dec.process_vec(&alone, &mut out, liblzma::stream::Action::Run).unwrap();
        out.truncate(size);
        out
    }

    #[test]
    fn the_sdks_default_package_signed_compressed_with_flashboot() {
        let key = keys::test_key("root");
        let pkg = Spec::sdk_default("2.0.0", 100_000, &key).build();
        let root = keys::raw_public_key(key.verifying_key());
        // Layout: ECDSA in both areas, two images, the app first, both compressed.
        assert_eq!((get(&pkg, 0x00C), get(&pkg, 0x018)), (64, KEY_ALG_ECDSA));
        assert_eq!(get(&pkg, 0x10C), 64);
        assert_eq!(&pkg[0x080..0x0C0], &root, "the sub-key (here the root key itself)");
        assert_eq!((get(&pkg, 0x148), get(&pkg, 0x124)), (2, 96));
        let images = verify_bytes_with(&pkg, &root).unwrap();
        assert_eq!(
            images.iter().map(|i| i.id).collect::<Vec<_>>(),
            [APP_IMAGE_ID, FLASHBOOT_IMAGE_ID]
        );
        for (img, size, kind) in
            [(&images[0], 100_000, SimImage::App), (&images[1], 16 * 1024, SimImage::Flashboot)]
        {
            assert_eq!(img.decompress_flag, DECOMPRESS_ZIP);
            assert_eq!(img.original_len, size);
            let stored = &pkg[img.data_offset as usize..][..img.data_len as usize];
            assert_eq!(img.data_len % 16, 0);
            assert_eq!(&stored[..5], &[0x5A, 0x00, 0x10, 0x00, 0x00], "lc0 lp0 pb2, 4 KiB");
            assert_eq!(get(stored, 5), size, "the real size");
            assert_eq!(&stored[9..16], &[0; 7], "size high bytes and the 3 padding bytes");
            assert!(img.data_len < size / 2 + 4096, "compressed: {} of {size}", img.data_len);
            let back = unlzma(stored);
            assert_eq!(sim_image_version_of(kind, &back).as_deref(), Some("2.0.0"));
        }
        // The hash table's lengths: header plus stored (compressed) data.
        assert_eq!(get(&pkg, 0x208), IMAGE_HEADER_LEN as u32 + images[0].data_len);

        let head = |p: &[u8], k: &RawPublicKey| verify_bytes_with(p, k).unwrap_err();
        // A board without a root key, or with another one, refuses it.
        assert_eq!(head(&pkg, &NO_ROOT_KEY).result, result::VERIFY_HEAD_FAILED);
        let other = keys::raw_public_key(keys::test_key("other").verifying_key());
        assert_eq!(head(&pkg, &other).result, result::VERIFY_HEAD_FAILED);
        // Signed by another root key, or an info area signed by another sub-key.
        let stranger = keys::test_key("stranger");
        let theirs = Spec::sdk_default("2.0.0", 100_000, &stranger).build();
        assert_eq!(head(&theirs, &root).result, result::VERIFY_HEAD_FAILED);
        let mixed = Spec {
            signing: Signing::Ecdsa { root: &key, sub: &stranger },
            ..Spec::sdk_default("2.0.0", 100_000, &key)
        }
        .build();
        assert!(verify_bytes_with(&mixed, &root).is_ok(), "a sub-key the root key vouches for");
        let mut forged = mixed.clone();
        forged[0x080..0x0C0].copy_from_slice(&root);
        assert_eq!(head(&forged, &root).result, result::VERIFY_HEAD_FAILED);
        // A flipped bit in either signature, the version, the compressed data, flashboot.
        for (at, want) in [
            (0x0D0, result::VERIFY_HEAD_FAILED),
            (0x0F8, result::VERIFY_HEAD_FAILED),
            (0x1E0, result::VERIFY_HEAD_FAILED),
            (0x150, result::VERIFY_HEAD_FAILED),
            (images[0].data_offset as usize + 40, result::VERIFY_IMAGE_FAILED),
            (images[1].data_offset as usize + 40, result::VERIFY_IMAGE_FAILED),
        ] {
            assert_eq!(head(&flip_bit(&pkg, at * 8), &root).result, want, "byte {at:#x}");
        }
        assert_eq!(
            head(&truncate(&pkg, pkg.len() - 100), &root).result,
            result::VERIFY_IMAGE_FAILED
        );
    }
}

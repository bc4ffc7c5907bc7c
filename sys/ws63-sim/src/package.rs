//! The SDK's update package (`update.fwpkg`): building one (SHA-256-only mode) for tests and
//! demos, and verifying one as the device does.
//!
//! ```text
//! 0x000  key area        256 B  image_id 0xCB8D154E, signature_length 32 = SHA-256 mode,
//!                               SHA-256(area[0..192]) at 0x0C0
//! 0x100  FOTA info area  256 B  image_id 0xCB8D154E, hash table addr/len/hash (0x120..0x148),
//!                               image_num (0x148), user_defined[112] (0x150: the version),
//!                               SHA-256(area[0..192]) at 0x1C0
//! 0x200  hash table      44 B per image {id, header offset, length, SHA-256(header)},
//!                               zero-padded to 16; its SHA-256 covers the padding
//! ...    per image: header 160 B (magic 0x464F5451, id, data offset, padded data length,
//!                               SHA-256(data)), then the data, zero-padded to 16
//! ```
//! All integers little-endian. Real packages come from the SDK's `build_ws63_update.py`; this
//! builder exists so the simulator can be exercised, and writes what that packager writes in
//! SHA-256 mode (`KeyAlg 0x2A13C856`), leaving the sign tool's fields zero.
//!
//! The simulator's app images start with the firmware's version record, so that the
//! version the firmware reports after a reboot comes from the installed image.

use sha2::{Digest, Sha256};
use ws63_sdk_sys as sdk;

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
/// A simulator app image's header size; its code follows.
pub const SIM_IMAGE_HEADER_LEN: usize = 0x100;

/// A simulator app image of exactly `size` bytes carrying `version`.
///
/// ```text
/// 0x000  "WS63SIM-APP-HDR\0"
/// 0x010  code length (u32)
/// 0x020  SHA-256 of the code
/// 0x100  code: the firmware's version record (`ws63_rt::version`, as the chip library
///        carries it), then filler
/// ```
///
/// Like a real app image's code-info header (whose `code_area_hash` flashboot checks at every
/// boot), the header lets the board's flashboot check the installed image before running it.
///
/// # Panics
/// If `version` is not a valid version or `size` is below 0x120 bytes.
pub fn sim_app_image(version: &str, size: usize) -> Vec<u8> {
    let min = SIM_IMAGE_HEADER_LEN + ws63_rt::version::RECORD_LEN;
    assert!(ws63_rt::version::is_valid(version) && size >= min, "bad image parameters");
    let mut code = Vec::with_capacity(size - SIM_IMAGE_HEADER_LEN);
    code.extend_from_slice(ws63_rt::version::Record::new(version).as_bytes());
    // Deterministic filler that is not all zeros or all 0xFF.
    let mut x: u32 = 0x9E37_79B9 ^ size as u32;
    while code.len() < size - SIM_IMAGE_HEADER_LEN {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        code.push(x as u8);
    }
    let mut img = vec![0u8; SIM_IMAGE_HEADER_LEN];
    img[..16].copy_from_slice(SIM_IMAGE_MAGIC);
    put(&mut img, 0x10, code.len() as u32);
    img[0x20..0x40].copy_from_slice(&sha(&code));
    img.extend_from_slice(&code);
    img
}

/// The code length a simulator app image's header declares, if `header` is one.
pub fn sim_image_code_len(header: &[u8]) -> Option<usize> {
    (header.get(..16)? == SIM_IMAGE_MAGIC).then(|| get(header, 0x10) as usize)
}

/// The version a simulator app image carries, if `image` is a whole, intact one (its code
/// hash matches, as flashboot checks before running an app).
pub fn sim_image_version(image: &[u8]) -> Option<String> {
    let len = sim_image_code_len(image)?;
    let code = image.get(SIM_IMAGE_HEADER_LEN..SIM_IMAGE_HEADER_LEN.checked_add(len)?)?;
    if sha(code)[..] != image[0x20..0x40] {
        return None;
    }
    ws63_rt::version::parse(code).map(str::to_string)
}

/// One image of a package to build.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    /// The image id.
    pub id: u32,
    /// Its data (stored as is, zero-padded to 16).
    pub data: &'a [u8],
    /// `decompress_flag` of its header (0: a raw image; [`DECOMPRESS_ZIP`]: LZMA).
    pub decompress_flag: u32,
}

/// Builds a SHA-256-mode package of `images` (id, data), with `version` in `user_defined`.
///
/// # Panics
/// If `version` is longer than [`MAX_VERSION_LEN`].
pub fn build(version: &str, images: &[(u32, &[u8])]) -> Vec<u8> {
    let specs: Vec<ImageSpec<'_>> =
        images.iter().map(|(id, data)| ImageSpec { id: *id, data, decompress_flag: 0 }).collect();
    build_images(version, &specs)
}

/// Builds a SHA-256-mode package of `images`, with `version` in `user_defined`.
///
/// # Panics
/// If `version` is longer than [`MAX_VERSION_LEN`].
pub fn build_images(version: &str, images: &[ImageSpec<'_>]) -> Vec<u8> {
    assert!(version.len() <= MAX_VERSION_LEN, "version longer than 16 bytes");
    let n = images.len();
    let table_len = align16(n * HASH_NODE_LEN);
    let mut pkg = vec![0u8; HEADER_LEN + table_len];
    let mut nodes = Vec::new();
    for ImageSpec { id, data, decompress_flag } in images {
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
        put(&mut hdr, 0x54, data.len() as u32);
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
    // Key area.
    put(&mut pkg, 0x000, HEADER_IMAGE_ID);
    put(&mut pkg, 0x004, 0x0001_0000);
    put(&mut pkg, 0x008, 256);
    put(&mut pkg, 0x00C, 32);
    put(&mut pkg, 0x018, KEY_ALG_SHA256);
    // FOTA info area.
    put(&mut pkg, 0x100, HEADER_IMAGE_ID);
    put(&mut pkg, 0x104, 0x0001_0000);
    put(&mut pkg, 0x108, 256);
    put(&mut pkg, 0x10C, 32);
    put(&mut pkg, 0x120, HEADER_LEN as u32);
    put(&mut pkg, 0x124, table_len as u32);
    let table_hash = sha(&pkg[HEADER_LEN..HEADER_LEN + table_len]);
    pkg[0x128..0x148].copy_from_slice(&table_hash);
    put(&mut pkg, 0x148, n as u32);
    pkg[USER_DEFINED.0..USER_DEFINED.0 + version.len()].copy_from_slice(version.as_bytes());
    let info_hash = sha(&pkg[0x100..0x1C0]);
    pkg[0x1C0..0x1E0].copy_from_slice(&info_hash);
    let key_hash = sha(&pkg[0x000..0x0C0]);
    pkg[0x0C0..0x0E0].copy_from_slice(&key_hash);
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
    /// Data length (padded to 16 by the packager).
    pub data_len: u32,
    /// `decompress_flag`.
    pub decompress_flag: u32,
}

/// Verifies a package the way `uapi_upg_verify_file` does, in its order, reading the package
/// through `read(offset, len)` (in place, as the device reads the mapped flash). Returns the
/// images on success. ECDSA-signed areas are refused with `ERRCODE_UPG_NOT_SUPPORTED`: the
/// simulator has no root key and does not check signatures.
///
/// # Errors
/// The first failing check, with the SDK's code: `ERRCODE_FAIL` for a wrong id or any hash
/// mismatch, `ERRCODE_UPG_INVALID_PARAMETER` for an empty image.
pub fn verify(read: &mut dyn FnMut(u32, usize) -> Vec<u8>) -> Result<Vec<ImageInfo>, VerifyError> {
    use result::*;
    let head = read(0, HEADER_LEN);
    if get(&head, 0x000) != HEADER_IMAGE_ID || get(&head, 0x100) != HEADER_IMAGE_ID {
        return Err(fail(sdk::ERRCODE_FAIL, VERIFY_HEAD_FAILED));
    }
    for area in [0x000, 0x100] {
        if get(&head, area + 0x0C) != 32 {
            eprintln!(
                "[ws63-sim] package {} area is ECDSA-signed: the simulator does not check \
                 signatures; build packages in SHA-256 mode (KeyAlg 0x2A13C856) to test on it",
                if area == 0 { "key" } else { "FOTA info" }
            );
            return Err(fail(sdk::ERRCODE_UPG_NOT_SUPPORTED, VERIFY_HEAD_FAILED));
        }
        if sha(&head[area..area + 0xC0])[..] != head[area + 0xC0..area + 0xE0] {
            return Err(fail(sdk::ERRCODE_FAIL, VERIFY_HEAD_FAILED));
        }
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
            decompress_flag: get(&hdr, 0x60),
        });
    }
    Ok(images)
}

/// [`verify`] over a package in memory (bytes past its end read as 0xFF, like erased flash).
///
/// # Errors
/// As [`verify`].
pub fn verify_bytes(pkg: &[u8]) -> Result<Vec<ImageInfo>, VerifyError> {
    verify(&mut |off, len| {
        let mut v = vec![0xFF; len];
        let start = (off as usize).min(pkg.len());
        let end = (off as usize).saturating_add(len).min(pkg.len());
        v[..end - start].copy_from_slice(&pkg[start..end]);
        v
    })
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
        // An ECDSA package is refused, not passed.
        let mut ecdsa = pkg.clone();
        put(&mut ecdsa, 0x00C, 64);
        assert_eq!(code(&ecdsa).code, sdk::ERRCODE_UPG_NOT_SUPPORTED);
        // A raw .bin is no package.
        assert_eq!(code(&sim_app_image("1.0.0", 4096)).code, sdk::ERRCODE_FAIL);
    }
}

//! The early look at an update package: its first 512 bytes (key area and FOTA info area) say
//! whether the download is a WS63 update package at all, before the rest is fetched and
//! before anything is erased; with the hash table after them, they also give the package's
//! length (for servers that do not send one). The device verifies everything again when the
//! upgrade is requested.

use sha2::{Digest, Sha256};

use crate::error::OtaError;

/// Size of the package header (key area + FOTA info area).
pub const HEADER_LEN: usize = 0x200;
/// Image id of both header areas.
pub const HEADER_IMAGE_ID: u32 = 0xCB8D_154E;
/// Size of one hash-table entry.
pub const HASH_NODE_LEN: usize = 44;
/// Most images in a package.
pub const MAX_IMAGES: u32 = 20;
/// Offset of `user_defined` (the packager's `--ver`) in the header.
pub const USER_DEFINED: usize = 0x150;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Images in the package.
    pub image_num: u32,
    /// Where the hash table ends (the bytes needed for [`package_len`]).
    pub table_end: usize,
    /// Whether both areas are in SHA-256 mode (else signed, checked only by the device).
    pub sha_mode: bool,
}

/// Checks the first 512 bytes of a package.
///
/// # Errors
/// [`OtaError::UnsupportedPackage`] when it is no WS63 update package (ids, structure);
/// [`OtaError::Rejected`] when a SHA-256-mode area's hash does not match (corrupt).
pub fn check_header(head: &[u8]) -> Result<HeaderInfo, OtaError> {
    if head.len() < HEADER_LEN {
        return Err(OtaError::UnsupportedPackage("shorter than a package header"));
    }
    if u32_at(head, 0x000) != HEADER_IMAGE_ID || u32_at(head, 0x100) != HEADER_IMAGE_ID {
        return Err(OtaError::UnsupportedPackage("not a WS63 update package (header ids)"));
    }
    let mut sha_mode = true;
    for area in [0x000, 0x100] {
        match u32_at(head, area + 0x0C) {
            32 => {
                let digest = Sha256::digest(&head[area..area + 0xC0]);
                if digest[..] != head[area + 0xC0..area + 0xE0] {
                    return Err(OtaError::Rejected(alloc::string::String::from(
                        "package header hash does not match",
                    )));
                }
            }
            64 => sha_mode = false,
            _ => return Err(OtaError::UnsupportedPackage("unknown signature length")),
        }
    }
    let image_num = u32_at(head, 0x148);
    if image_num == 0 || image_num > MAX_IMAGES {
        return Err(OtaError::UnsupportedPackage("image count"));
    }
    let table_addr = match u32_at(head, 0x120) {
        0 => HEADER_LEN,
        a => a as usize,
    };
    let table_len = u32_at(head, 0x124) as usize;
    let expected = (image_num as usize * HASH_NODE_LEN).div_ceil(16) * 16;
    if table_addr != HEADER_LEN || table_len != expected {
        return Err(OtaError::UnsupportedPackage("hash table layout"));
    }
    Ok(HeaderInfo { image_num, table_end: HEADER_LEN + table_len, sha_mode })
}

/// The package length its hash table implies (the end of its last image), from at least
/// `info.table_end` bytes of the package.
pub fn package_len(bytes: &[u8], info: &HeaderInfo) -> Option<u32> {
    if bytes.len() < info.table_end {
        return None;
    }
    (0..info.image_num as usize)
        .map(|i| {
            let node = HEADER_LEN + i * HASH_NODE_LEN;
            u32_at(bytes, node + 4).checked_add(u32_at(bytes, node + 8))
        })
        .try_fold(0u32, |m, e| e.map(|e| m.max(e)))
}

/// The version the packager wrote into `user_defined`, if it is printable.
pub fn package_version(head: &[u8]) -> Option<&str> {
    let f = head.get(USER_DEFINED..USER_DEFINED + 16)?;
    let end = f.iter().position(|b| *b == 0).unwrap_or(f.len());
    core::str::from_utf8(&f[..end]).ok().filter(|s| !s.is_empty())
}

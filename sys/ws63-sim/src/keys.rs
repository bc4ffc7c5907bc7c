//! The signing keys of update packages: ECDSA over brainpool P-256 (RFC 5639,
//! `brainpoolP256r1`) with SHA-256, as the SDK's packager signs and `upg_verify.c` checks.
//!
//! - Keys come as OpenSSL writes them: a private key in PEM, PKCS#8 (`openssl genpkey
//!   -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1`) or SEC1 with or without its
//!   `EC PARAMETERS` block (`openssl ecparam -name brainpoolP256r1 -genkey`); a public key as
//!   SubjectPublicKeyInfo (`openssl ec -pubout`), or the private key's PEM.
//! - In a package and in the board's root key area a public key is X‖Y, 32 + 32 bytes
//!   big-endian, and a signature is r‖s, 32 + 32 bytes big-endian (not DER), over the
//!   SHA-256 of the signed bytes.
//! - The board's root public key lives in flash partition 0x03 (flash 0x000000): a 0x80-byte
//!   structure whose key is at +0x40 ([`root_key_area`]); the device reads it from there.
//!
//! Tests and the demo make their own keys ([`test_key`]); the SDK's sample keys are never used.

use bp256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use bp256::BrainpoolP256r1;
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::{Digest, Sha256};

/// A brainpool P-256 private key.
pub type SigningKey = ecdsa::SigningKey<BrainpoolP256r1>;
/// A brainpool P-256 public key.
pub type VerifyingKey = ecdsa::VerifyingKey<BrainpoolP256r1>;

/// A public key as packages and the root key area hold it: X‖Y, big-endian.
pub type RawPublicKey = [u8; 64];

/// Reads a private key from its PEM text (PKCS#8 or SEC1).
///
/// # Errors
/// A text that is neither, or a key on another curve.
pub fn signing_key_from_pem(text: &str) -> Result<SigningKey, String> {
    if let Ok(k) = SigningKey::from_pkcs8_pem(text) {
        return Ok(k);
    }
    // SEC1, possibly after OpenSSL's `EC PARAMETERS` block.
    const SEC1: &str = "-----BEGIN EC PRIVATE KEY-----";
    if let Some(i) = text.find(SEC1) {
        let k = elliptic_curve::SecretKey::<BrainpoolP256r1>::from_sec1_pem(&text[i..])
            .map_err(|e| format!("not a brainpoolP256r1 EC private key: {e}"))?;
        return Ok(SigningKey::from(k));
    }
    Err("not a brainpoolP256r1 private key in PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE \
         KEY`)"
        .into())
}

/// Reads a public key from its PEM text (SubjectPublicKeyInfo), or derives it from a private
/// key's.
///
/// # Errors
/// A text that is none of these, or a key on another curve.
pub fn verifying_key_from_pem(text: &str) -> Result<VerifyingKey, String> {
    if let Ok(k) = VerifyingKey::from_public_key_pem(text) {
        return Ok(k);
    }
    signing_key_from_pem(text).map(|k| *k.verifying_key()).map_err(|_| {
        "not a brainpoolP256r1 public key in PEM (`PUBLIC KEY`), nor a private key".into()
    })
}

/// The private key as PKCS#8 PEM.
pub fn signing_key_pem(k: &SigningKey) -> String {
    k.to_pkcs8_pem(bp256::pkcs8::LineEnding::LF).map(|p| p.to_string()).unwrap_or_default()
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn verifying_key_pem(k: &VerifyingKey) -> String {
    k.to_public_key_pem(bp256::pkcs8::LineEnding::LF).unwrap_or_default()
}

/// A deterministic key for tests and demos, different for every `name`.
pub fn test_key(name: &str) -> SigningKey {
    (0u32..)
        .find_map(|i| {
            let seed = Sha256::new()
                .chain_update(b"ws63-sim test key\0")
                .chain_update(name.as_bytes())
                .chain_update(i.to_le_bytes())
                .finalize();
            let bytes: [u8; 32] = seed.into();
            SigningKey::from_bytes(&bytes.into()).ok()
        })
        .expect("a 256-bit hash is a valid scalar within a few tries")
}

/// X‖Y of a public key.
pub fn raw_public_key(k: &VerifyingKey) -> RawPublicKey {
    let p = k.to_sec1_point(false);
    let mut out = [0u8; 64];
    // Uncompressed SEC1: 0x04, X, Y.
    out.copy_from_slice(&p.as_bytes()[1..65]);
    out
}

/// The public key X‖Y stands for, if it is a point of the curve.
pub fn from_raw_public_key(xy: &RawPublicKey) -> Option<VerifyingKey> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 4;
    sec1[1..].copy_from_slice(xy);
    VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// The signature of `data` as the packager writes it: r‖s over SHA-256(`data`).
pub fn sign(k: &SigningKey, data: &[u8]) -> [u8; 64] {
    let digest: [u8; 32] = Sha256::digest(data).into();
    let sig: ecdsa::Signature<BrainpoolP256r1> =
        k.sign_prehash(&digest).expect("signing a 32-byte digest");
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    out
}

/// Whether `sig` (r‖s) is `key`'s signature of SHA-256(`data`), as the device checks it
/// (r and s in [1, n-1], then the ECDSA equation). A key that is no point of the curve (an
/// erased root key area reads 0xFF) verifies nothing.
pub fn verify(key: &RawPublicKey, data: &[u8], sig: &[u8; 64]) -> bool {
    let Some(k) = from_raw_public_key(key) else { return false };
    let Ok(sig) = ecdsa::Signature::<BrainpoolP256r1>::from_slice(sig) else { return false };
    let digest: [u8; 32] = Sha256::digest(data).into();
    k.verify_prehash(&digest, &sig).is_ok()
}

/// Where the root public key structure is in flash (partition 0x03).
pub const ROOT_KEY_AREA: u32 = 0x00_0000;
/// Where the key itself is (X‖Y), in flash.
pub const ROOT_KEY_OFFSET: u32 = ROOT_KEY_AREA + 0x40;

/// The 0x80-byte root public key structure the SDK burns at flash 0 (`root_public_key`:
/// image id 0x4BA5C31E, version 0x00010000, length 0x80, owner 1, key id 1, algorithm and
/// curve 0x2A13C812, key length 0x40, 32 reserved bytes, then X‖Y).
pub fn root_key_area(k: &VerifyingKey) -> [u8; 0x80] {
    let mut s = [0u8; 0x80];
    for (i, v) in
        [0x4BA5_C31Eu32, 0x0001_0000, 0x80, 1, 1, 0x2A13_C812, 0x2A13_C812, 0x40].iter().enumerate()
    {
        s[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    s[0x40..].copy_from_slice(&raw_public_key(k));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_signatures_verify_only_for_their_key_and_bytes() {
        let (a, b) = (test_key("a"), test_key("b"));
        assert_ne!(a.to_bytes(), b.to_bytes());
        let pem = signing_key_pem(&a);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(signing_key_from_pem(&pem).unwrap().to_bytes(), a.to_bytes());
        let pubpem = verifying_key_pem(a.verifying_key());
        assert_eq!(verifying_key_from_pem(&pubpem).unwrap(), *a.verifying_key());
        assert_eq!(verifying_key_from_pem(&pem).unwrap(), *a.verifying_key());
        assert!(signing_key_from_pem(&pubpem).is_err());

        let xy = raw_public_key(a.verifying_key());
        assert_eq!(from_raw_public_key(&xy).unwrap(), *a.verifying_key());
        let sig = sign(&a, b"area");
        assert!(verify(&xy, b"area", &sig));
        assert!(!verify(&xy, b"arEa", &sig));
        assert!(!verify(&raw_public_key(b.verifying_key()), b"area", &sig));
        let mut bad = sig;
        bad[40] ^= 1;
        assert!(!verify(&xy, b"area", &bad));
        assert!(!verify(&[0xFF; 64], b"area", &sig), "an erased key area verifies nothing");
        assert!(!verify(&xy, b"area", &[0; 64]), "r = s = 0 is out of range");
        let area = root_key_area(a.verifying_key());
        assert_eq!(&area[..4], &0x4BA5_C31Eu32.to_le_bytes());
        assert_eq!(&area[0x40..], &xy);
    }
}

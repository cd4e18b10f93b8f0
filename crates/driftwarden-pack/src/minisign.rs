//! The minisign formats, so that stock `minisign -Vm manifest.json -p signer.pub` verifies a pack.
//!
//! * Public key file: an untrusted comment line, then base64(`"Ed"` ‖ key id (8 bytes) ‖ Ed25519
//!   public key (32 bytes)).
//! * Signature file: an untrusted comment line; base64(`"ED"` ‖ key id ‖ signature (64)); a
//!   `trusted comment: …` line; base64(global signature (64)). `"ED"` is minisign's prehashed
//!   variant: the signature is over BLAKE2b-512 of the file. The global signature is over the
//!   signature bytes followed by the trusted comment's text, so the comment cannot be changed.
//! * Key id: the first 8 bytes of BLAKE2b-512 over the 32-byte public key. minisign prints it as
//!   the little-endian 64-bit number in upper-case hex (see [`key_id_hex`]).
//!
//! Both signatures are made by the `signer` callback: the exporting member's Ed25519 key, which
//! never leaves the core.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

pub const PUBKEY_ALG: &[u8; 2] = b"Ed";
pub const SIG_ALG_PREHASHED: &[u8; 2] = b"ED";
pub const SIG_ALG_LEGACY: &[u8; 2] = b"Ed";
const UNTRUSTED: &str = "untrusted comment: ";
const TRUSTED: &str = "trusted comment: ";

/// The key id of a public key: the first 8 bytes of BLAKE2b-512 of it.
pub fn key_id(public_key: &[u8; 32]) -> [u8; 8] {
    let digest = Blake2b512::digest(public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// The key id as minisign prints it (little-endian u64, upper-case hex).
pub fn key_id_hex(id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*id))
}

/// The text of `signer.pub`.
pub fn public_key_file(public_key: &[u8; 32]) -> String {
    let id = key_id(public_key);
    let mut raw = Vec::with_capacity(42);
    raw.extend_from_slice(PUBKEY_ALG);
    raw.extend_from_slice(&id);
    raw.extend_from_slice(public_key);
    format!(
        "{UNTRUSTED}minisign public key {}\n{}\n",
        key_id_hex(&id),
        B64.encode(raw)
    )
}

/// Parses a minisign public key file; returns (key id, public key).
pub fn parse_public_key_file(text: &str) -> Result<([u8; 8], [u8; 32]), String> {
    let mut lines = text.lines();
    let comment = lines.next().ok_or("the file is empty")?;
    if !comment.starts_with(UNTRUSTED) {
        return Err("the first line is not an untrusted comment".into());
    }
    let b64 = lines.next().ok_or("the key line is missing")?;
    let raw = B64
        .decode(b64.trim())
        .map_err(|_| "the key line is not base64")?;
    if raw.len() != 42 || &raw[..2] != PUBKEY_ALG {
        return Err("not an Ed25519 minisign public key".into());
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&raw[2..10]);
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&raw[10..42]);
    Ok((id, pk))
}

/// Signs `message` in minisign's prehashed format; returns the text of the `.minisig` file.
pub fn sign(
    message: &[u8],
    public_key: &[u8; 32],
    untrusted_comment: &str,
    trusted_comment: &str,
    signer: &dyn Fn(&[u8]) -> [u8; 64],
) -> String {
    let id = key_id(public_key);
    let prehash = Blake2b512::digest(message);
    let sig = signer(&prehash);
    let mut global_msg = Vec::with_capacity(64 + trusted_comment.len());
    global_msg.extend_from_slice(&sig);
    global_msg.extend_from_slice(trusted_comment.as_bytes());
    let global = signer(&global_msg);
    let mut raw = Vec::with_capacity(74);
    raw.extend_from_slice(SIG_ALG_PREHASHED);
    raw.extend_from_slice(&id);
    raw.extend_from_slice(&sig);
    format!(
        "{UNTRUSTED}{untrusted_comment}\n{}\n{TRUSTED}{trusted_comment}\n{}\n",
        B64.encode(raw),
        B64.encode(global)
    )
}

/// A parsed `.minisig` file.
pub struct SignatureFile {
    pub untrusted_comment: String,
    pub algorithm: [u8; 2],
    pub key_id: [u8; 8],
    pub signature: [u8; 64],
    pub trusted_comment: String,
    pub global_signature: [u8; 64],
}

pub fn parse_signature_file(text: &str) -> Result<SignatureFile, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    // Four lines, each ended by a newline (so the split leaves one empty piece at the end).
    if lines.len() != 5 || !lines[4].is_empty() {
        return Err("expected exactly four lines".into());
    }
    let untrusted_comment = lines[0]
        .strip_prefix(UNTRUSTED)
        .ok_or("the first line is not an untrusted comment")?;
    let raw = B64
        .decode(lines[1])
        .map_err(|_| "the signature line is not base64")?;
    if raw.len() != 74 {
        return Err("the signature line has the wrong length".into());
    }
    let trusted_comment = lines[2]
        .strip_prefix(TRUSTED)
        .ok_or("the third line is not a trusted comment")?;
    let global = B64
        .decode(lines[3])
        .map_err(|_| "the global signature line is not base64")?;
    let global_signature: [u8; 64] = global
        .try_into()
        .map_err(|_| "the global signature has the wrong length")?;
    let mut algorithm = [0u8; 2];
    algorithm.copy_from_slice(&raw[..2]);
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&raw[2..10]);
    let mut signature = [0u8; 64];
    signature.copy_from_slice(&raw[10..74]);
    Ok(SignatureFile {
        untrusted_comment: untrusted_comment.to_string(),
        algorithm,
        key_id,
        signature,
        trusted_comment: trusted_comment.to_string(),
        global_signature,
    })
}

/// Verifies a minisign signature as `minisign -V` does (both the prehashed and the legacy
/// variant), plus the global signature over the trusted comment.
pub fn verify(
    message: &[u8],
    sig: &SignatureFile,
    key_id: &[u8; 8],
    public_key: &[u8; 32],
) -> Result<(), String> {
    if &sig.key_id != key_id {
        return Err(format!(
            "signed by key {}, not by key {}",
            key_id_hex(&sig.key_id),
            key_id_hex(key_id)
        ));
    }
    let vk = VerifyingKey::from_bytes(public_key).map_err(|_| "the public key is malformed")?;
    let signed: Vec<u8> = match &sig.algorithm {
        a if a == SIG_ALG_PREHASHED => Blake2b512::digest(message).to_vec(),
        a if a == SIG_ALG_LEGACY => message.to_vec(),
        _ => return Err("unknown signature algorithm".into()),
    };
    vk.verify(&signed, &Signature::from_bytes(&sig.signature))
        .map_err(|_| "the signature does not match the file")?;
    let mut global_msg = sig.signature.to_vec();
    global_msg.extend_from_slice(sig.trusted_comment.as_bytes());
    vk.verify(&global_msg, &Signature::from_bytes(&sig.global_signature))
        .map_err(|_| "the trusted comment's signature does not verify")?;
    Ok(())
}

//! Key slots: how a member's passphrase unlocks the registry's data key and their signing key.
//!
//! * The **data key** is a random 256-bit raw SQLCipher key.
//! * Argon2id (64 MiB, parameters stored in the slot and bound as associated data) turns the
//!   member's passphrase into a key-encryption key (KEK). The KEK wraps, with
//!   XChaCha20-Poly1305, the member's own secrets: an X25519 secret and an Ed25519 signing seed.
//!   The signing key is therefore protected by the member's passphrase, not by the shared data key.
//! * The data key is wrapped with XChaCha20-Poly1305 under a key agreed by X25519 between a fresh
//!   ephemeral key and the member's X25519 public key (HKDF-SHA256). This lets an admin re-wrap a
//!   new data key for every remaining member when offboarding someone, without their passphrases,
//!   while the offboarded member, who only ever knew the old data key, cannot unwrap the new one.
//!
//! Slot files are JSON, written to a temporary file, synced, then renamed over the old one.

use std::fs;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::canonical::canonical_bytes;
use crate::error::{CoreError, Result};

pub const SLOT_FORMAT: &str = "driftwarden-slot";
pub const SLOT_VERSION: u32 = 1;
/// Argon2id memory cost in KiB: 64 MiB, the floor required by the design.
pub const KDF_MIN_M_COST_KIB: u32 = 64 * 1024;
pub const KDF_DEFAULT_T_COST: u32 = 3;
pub const KDF_DEFAULT_P_COST: u32 = 1;
/// Ceilings on the parameters a slot may name: a tampered slot asking for terabytes of memory or
/// billions of passes would otherwise abort the app on allocation or hang it on open.
pub const KDF_MAX_M_COST_KIB: u32 = 1024 * 1024;
pub const KDF_MAX_T_COST: u32 = 64;
pub const KDF_MAX_P_COST: u32 = 16;
pub const MIN_PASSPHRASE_CHARS: usize = 10;

/// The registry's 256-bit data key. Zeroed when dropped.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }

    /// Accepts exactly 32 bytes; anything else is refused (SQLCipher would silently treat a
    /// malformed raw key as a passphrase).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CoreError::Tampered("data key is not 32 bytes".into()))?;
        Ok(DataKey(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `x'<64 hex>'`, the SQLCipher raw-key literal, in a zeroizing buffer.
    pub fn sqlcipher_literal(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(hex::encode(self.0.as_ref()));
        let lit = Zeroizing::new(format!("\"x'{}'\"", hex.as_str()));
        hex.zeroize();
        lit
    }
}

/// A member's unlocked secrets. Both keys zeroize on drop.
pub struct MemberKeys {
    pub box_secret: StaticSecret,
    pub signing: SigningKey,
}

impl MemberKeys {
    pub fn generate() -> Self {
        MemberKeys {
            box_secret: StaticSecret::random_from_rng(OsRng),
            signing: SigningKey::generate(&mut OsRng),
        }
    }
    pub fn box_public(&self) -> PublicKey {
        PublicKey::from(&self.box_secret)
    }
    pub fn signing_public_b64(&self) -> String {
        B64.encode(self.signing.verifying_key().to_bytes())
    }
    pub fn box_public_b64(&self) -> String {
        B64.encode(self.box_public().as_bytes())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KdfParams {
    pub alg: String,
    pub version: u32,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt: String,
}

impl KdfParams {
    fn new_random() -> Self {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        KdfParams {
            alg: "argon2id".into(),
            version: 0x13,
            m_cost_kib: KDF_MIN_M_COST_KIB,
            t_cost: KDF_DEFAULT_T_COST,
            p_cost: KDF_DEFAULT_P_COST,
            salt: B64.encode(salt),
        }
    }

    /// Parameters with the default cost, for work that must take as long as a real unlock.
    pub fn dummy() -> Self {
        Self::new_random()
    }

    /// Checks the parameters as [`KdfParams::derive`] does, without deriving anything.
    pub fn check(&self) -> Result<()> {
        self.checked().map(|_| ())
    }

    fn checked(&self) -> Result<(Params, Vec<u8>)> {
        if self.alg != "argon2id" || self.version != 0x13 {
            return Err(CoreError::Tampered("key slot names an unknown KDF".into()));
        }
        if self.m_cost_kib < KDF_MIN_M_COST_KIB || self.t_cost < 1 || self.p_cost < 1 {
            return Err(CoreError::Tampered(
                "key slot KDF parameters are below the minimum".into(),
            ));
        }
        if self.m_cost_kib > KDF_MAX_M_COST_KIB
            || self.t_cost > KDF_MAX_T_COST
            || self.p_cost > KDF_MAX_P_COST
        {
            return Err(CoreError::Tampered(
                "key slot KDF parameters are above the maximum".into(),
            ));
        }
        let salt = b64_decode(&self.salt, "kdf salt")?;
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| CoreError::Tampered(format!("key slot KDF parameters: {e}")))?;
        Ok((params, salt))
    }

    /// Derives the key-encryption key. Refuses parameters weaker than the design allows, so a
    /// tampered slot cannot downgrade the KDF.
    pub fn derive(&self, passphrase: &str) -> Result<Zeroizing<[u8; 32]>> {
        let (params, salt) = self.checked()?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
            .map_err(|e| CoreError::Tampered(format!("key derivation failed: {e}")))?;
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sealed {
    pub nonce: String,
    pub ct: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WrappedDataKey {
    pub ephemeral_public: String,
    pub nonce: String,
    pub ct: String,
}

/// The on-disk slot file. Contains no plaintext identifier: the member is named by a hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlotFile {
    pub format: String,
    pub version: u32,
    pub registry_id: String,
    pub member_id: String,
    pub kdf: KdfParams,
    pub box_public: String,
    pub signing_public: String,
    pub secrets: Sealed,
    pub data_key: WrappedDataKey,
}

/// A member's slot id: SHA-256 of the normalised email, hex. Used as the slot's file name.
pub fn member_slot_id(email: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"driftwarden member slot v1\0");
    h.update(email.trim().to_lowercase().as_bytes());
    hex::encode(h.finalize())
}

pub fn slot_dir(registry: &Path) -> PathBuf {
    registry.join("slots")
}

pub fn slot_path(registry: &Path, email: &str) -> PathBuf {
    slot_dir(registry).join(format!("{}.slot", member_slot_id(email)))
}

/// Where the re-wrapped slot waits during a data-key rotation (see `Registry::offboard_member`).
pub fn pending_slot_path(registry: &Path, email: &str) -> PathBuf {
    slot_dir(registry).join(format!("{}.slot.next", member_slot_id(email)))
}

fn b64_decode(s: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(s)
        .map_err(|_| CoreError::Tampered(format!("key slot field {what} is not base64")))
}

fn secrets_aad(slot: &SlotFile) -> Vec<u8> {
    canonical_bytes(&json!({
        "purpose": "member-secrets",
        "format": slot.format,
        "version": slot.version,
        "registry_id": slot.registry_id,
        "member_id": slot.member_id,
        "kdf": slot.kdf,
        "box_public": slot.box_public,
        "signing_public": slot.signing_public,
    }))
}

fn data_key_aad(slot: &SlotFile, ephemeral_public: &str) -> Vec<u8> {
    canonical_bytes(&json!({
        "purpose": "data-key",
        "registry_id": slot.registry_id,
        "member_id": slot.member_id,
        "box_public": slot.box_public,
        "ephemeral_public": ephemeral_public,
    }))
}

fn wrap_key(shared: &[u8; 32], ephemeral: &[u8; 32], member: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(member);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut okm = Zeroizing::new([0u8; 32]);
    hk.expand(b"driftwarden data-key wrap v1", okm.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    okm
}

fn random_nonce() -> [u8; 24] {
    let mut n = [0u8; 24];
    OsRng.fill_bytes(&mut n);
    n
}

/// Validates a new passphrase (length only; strength is shown by the UI's meter).
pub fn check_new_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(CoreError::invalid(
            "passphrase",
            format!("must be at least {MIN_PASSPHRASE_CHARS} characters"),
        ));
    }
    Ok(())
}

impl SlotFile {
    /// Creates a slot for a member: seals `keys` under the passphrase and wraps `data_key` to them.
    pub fn create(
        registry_id: &str,
        email: &str,
        passphrase: &str,
        keys: &MemberKeys,
        data_key: &DataKey,
    ) -> Result<SlotFile> {
        check_new_passphrase(passphrase)?;
        let kdf = KdfParams::new_random();
        let mut slot = SlotFile {
            format: SLOT_FORMAT.into(),
            version: SLOT_VERSION,
            registry_id: registry_id.into(),
            member_id: member_slot_id(email),
            kdf,
            box_public: keys.box_public_b64(),
            signing_public: keys.signing_public_b64(),
            secrets: Sealed {
                nonce: String::new(),
                ct: String::new(),
            },
            data_key: WrappedDataKey {
                ephemeral_public: String::new(),
                nonce: String::new(),
                ct: String::new(),
            },
        };
        let kek = slot.kdf.derive(passphrase)?;
        let mut plain = Zeroizing::new([0u8; 64]);
        plain[..32].copy_from_slice(&keys.box_secret.to_bytes());
        plain[32..].copy_from_slice(&keys.signing.to_bytes());
        let nonce = random_nonce();
        let aad = secrets_aad(&slot);
        let ct = XChaCha20Poly1305::new(kek.as_ref().into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| CoreError::Tampered("sealing member secrets failed".into()))?;
        slot.secrets = Sealed {
            nonce: B64.encode(nonce),
            ct: B64.encode(ct),
        };
        slot.wrap_data_key(data_key)?;
        Ok(slot)
    }

    /// Wraps `data_key` to this slot's X25519 public key with a fresh ephemeral key.
    pub fn wrap_data_key(&mut self, data_key: &DataKey) -> Result<()> {
        let member_pub: [u8; 32] = b64_decode(&self.box_public, "box_public")?
            .try_into()
            .map_err(|_| CoreError::Tampered("key slot public key has the wrong length".into()))?;
        let eph = StaticSecret::random_from_rng(OsRng);
        let eph_pub = PublicKey::from(&eph);
        let shared = eph.diffie_hellman(&PublicKey::from(member_pub));
        let key = wrap_key(shared.as_bytes(), eph_pub.as_bytes(), &member_pub);
        let eph_b64 = B64.encode(eph_pub.as_bytes());
        let aad = data_key_aad(self, &eph_b64);
        let nonce = random_nonce();
        let ct = XChaCha20Poly1305::new(key.as_ref().into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: data_key.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CoreError::Tampered("wrapping the data key failed".into()))?;
        self.data_key = WrappedDataKey {
            ephemeral_public: eph_b64,
            nonce: B64.encode(nonce),
            ct: B64.encode(ct),
        };
        Ok(())
    }

    /// Unlocks the slot: the member's keys and the data key. A wrong passphrase is
    /// `WrongPassphrase`; a slot whose bytes were changed is `Tampered`.
    pub fn unlock(&self, passphrase: &str) -> Result<(MemberKeys, DataKey)> {
        if self.format != SLOT_FORMAT || self.version != SLOT_VERSION {
            return Err(CoreError::NotARegistry("unknown key slot format".into()));
        }
        let kek = self.kdf.derive(passphrase)?;
        let nonce = b64_decode(&self.secrets.nonce, "secrets.nonce")?;
        let ct = b64_decode(&self.secrets.ct, "secrets.ct")?;
        if nonce.len() != 24 {
            return Err(CoreError::Tampered(
                "key slot nonce has the wrong length".into(),
            ));
        }
        let aad = secrets_aad(self);
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new(kek.as_ref().into())
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ct,
                        aad: &aad,
                    },
                )
                .map_err(|_| CoreError::WrongPassphrase)?,
        );
        if plain.len() != 64 {
            return Err(CoreError::Tampered(
                "key slot secrets have the wrong length".into(),
            ));
        }
        let mut box_bytes = Zeroizing::new([0u8; 32]);
        box_bytes.copy_from_slice(&plain[..32]);
        let mut sign_bytes = Zeroizing::new([0u8; 32]);
        sign_bytes.copy_from_slice(&plain[32..]);
        let keys = MemberKeys {
            box_secret: StaticSecret::from(*box_bytes),
            signing: SigningKey::from_bytes(&sign_bytes),
        };
        if keys.box_public_b64() != self.box_public
            || keys.signing_public_b64() != self.signing_public
        {
            return Err(CoreError::Tampered(
                "key slot public keys do not match its secrets".into(),
            ));
        }
        let data_key = self.unwrap_data_key(&keys)?;
        Ok((keys, data_key))
    }

    fn unwrap_data_key(&self, keys: &MemberKeys) -> Result<DataKey> {
        let eph: [u8; 32] = b64_decode(&self.data_key.ephemeral_public, "ephemeral_public")?
            .try_into()
            .map_err(|_| {
                CoreError::Tampered("key slot ephemeral key has the wrong length".into())
            })?;
        let nonce = b64_decode(&self.data_key.nonce, "data_key.nonce")?;
        if nonce.len() != 24 {
            return Err(CoreError::Tampered(
                "key slot nonce has the wrong length".into(),
            ));
        }
        let ct = b64_decode(&self.data_key.ct, "data_key.ct")?;
        let shared = keys.box_secret.diffie_hellman(&PublicKey::from(eph));
        let key = wrap_key(shared.as_bytes(), &eph, keys.box_public().as_bytes());
        let aad = data_key_aad(self, &self.data_key.ephemeral_public);
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new(key.as_ref().into())
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ct,
                        aad: &aad,
                    },
                )
                .map_err(|_| CoreError::Tampered("the key slot's data key was altered".into()))?,
        );
        DataKey::from_slice(&plain)
    }

    pub fn read(path: &Path) -> Result<SlotFile> {
        let bytes = fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CoreError::NotFound("no key slot at this path".into()),
            _ => CoreError::io(format!("reading key slot {}", path.display()), e),
        })?;
        Self::parse(&bytes, &path.display().to_string())
    }

    /// Parses the bytes of a slot file; `name` says where they came from in the error.
    pub fn parse(bytes: &[u8], name: &str) -> Result<SlotFile> {
        serde_json::from_slice(bytes)
            .map_err(|e| CoreError::Tampered(format!("key slot {name} is not valid: {e}")))
    }

    /// Writes the slot new-then-rename (see `fsutil::write_atomic`).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::fsutil::write_atomic(
            path,
            &serde_json::to_vec_pretty(self).expect("slot serialises"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_round_trip_and_wrong_passphrase() {
        let dk = DataKey::generate();
        let keys = MemberKeys::generate();
        let slot =
            SlotFile::create("reg", "a@example.com", "correct horse battery", &keys, &dk).unwrap();
        let (k2, dk2) = slot.unlock("correct horse battery").unwrap();
        assert_eq!(dk2.as_bytes(), dk.as_bytes());
        assert_eq!(k2.signing_public_b64(), keys.signing_public_b64());
        assert!(matches!(
            slot.unlock("wrong horse battery"),
            Err(CoreError::WrongPassphrase)
        ));
    }

    #[test]
    fn rewrapped_slot_yields_new_key_and_weakened_kdf_is_refused() {
        let dk = DataKey::generate();
        let keys = MemberKeys::generate();
        let mut slot =
            SlotFile::create("reg", "a@example.com", "correct horse battery", &keys, &dk).unwrap();
        let dk_new = DataKey::generate();
        slot.wrap_data_key(&dk_new).unwrap();
        let (_, got) = slot.unlock("correct horse battery").unwrap();
        assert_eq!(got.as_bytes(), dk_new.as_bytes());
        let mut weak = slot.clone();
        weak.kdf.m_cost_kib = 1024;
        assert!(matches!(
            weak.unlock("correct horse battery"),
            Err(CoreError::Tampered(_))
        ));
    }

    #[test]
    fn absurd_kdf_parameters_are_refused_before_deriving() {
        // Found while writing the key-slot fuzz target: without a ceiling, these made unlock
        // allocate terabytes (the process aborts) or run for days.
        let dk = DataKey::generate();
        let keys = MemberKeys::generate();
        let slot =
            SlotFile::create("reg", "a@example.com", "correct horse battery", &keys, &dk).unwrap();
        assert!(slot.kdf.check().is_ok());
        for (m, t, p) in [
            (u32::MAX, KDF_DEFAULT_T_COST, KDF_DEFAULT_P_COST),
            (KDF_MIN_M_COST_KIB, u32::MAX, KDF_DEFAULT_P_COST),
            (KDF_MIN_M_COST_KIB, KDF_DEFAULT_T_COST, 0xFF_FFFF),
        ] {
            let mut bad = slot.clone();
            bad.kdf.m_cost_kib = m;
            bad.kdf.t_cost = t;
            bad.kdf.p_cost = p;
            let started = std::time::Instant::now();
            assert!(matches!(
                bad.unlock("correct horse battery"),
                Err(CoreError::Tampered(_))
            ));
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }

    #[test]
    fn sqlcipher_literal_is_64_hex_digits() {
        let dk = DataKey::from_slice(&[0xab; 32]).unwrap();
        assert_eq!(
            dk.sqlcipher_literal().as_str(),
            format!("\"x'{}'\"", "ab".repeat(32))
        );
        assert!(DataKey::from_slice(&[0u8; 31]).is_err());
    }
}

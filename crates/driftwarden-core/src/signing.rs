//! Sign-offs: Ed25519 signatures over the RFC 8785 canonical bytes of a statement. The statement
//! is rebuilt from the signed record's current columns whenever it is verified, so changing any
//! signed field in the database makes the check fail.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use crate::canonical::{canonical_bytes, canonical_string};
use crate::error::Result;
use crate::registry::Tx;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SignoffView {
    pub id: i64,
    /// approval, disposition or cosign
    pub kind: String,
    pub signer: String,
    pub signer_name: String,
    pub signed_at: String,
    /// The statement that was signed (canonical JSON).
    #[ts(type = "unknown")]
    pub statement: Value,
    /// Base64 Ed25519 signature over the statement's canonical bytes.
    pub signature: String,
    /// The signer's public key (base64).
    pub public_key: String,
    /// True when the signature verifies over the statement rebuilt from the record as it is now.
    pub valid: bool,
    pub problem: Option<String>,
}

/// Signs `statement` as the acting member and stores the sign-off.
pub(crate) fn sign(
    w: &Tx<'_>,
    kind: &str,
    entity_type: &str,
    entity_id: i64,
    statement: &Value,
) -> Result<i64> {
    let bytes = canonical_bytes(statement);
    let sig = w.keys.signing.sign(&bytes);
    w.execute(
        "INSERT INTO signoffs (kind, entity_type, entity_id, signer_id, signed_at, statement, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            kind,
            entity_type,
            entity_id,
            w.actor.id,
            w.now,
            canonical_string(statement),
            B64.encode(sig.to_bytes())
        ],
    )?;
    Ok(w.last_insert_rowid())
}

/// Verifies every sign-off of a record. `expected` rebuilds the statement of a sign-off of the
/// given kind (and signer email, signed_at) from the record as it is now.
pub(crate) fn verify_all(
    conn: &Connection,
    entity_type: &str,
    entity_id: i64,
    expected: &dyn Fn(&str, &str, &str) -> Result<Value>,
) -> Result<Vec<SignoffView>> {
    let mut st = conn.prepare(
        "SELECT s.id, s.kind, m.email, m.name, s.signed_at, s.statement, s.signature, m.signing_public_key
         FROM signoffs s JOIN members m ON m.id = s.signer_id
         WHERE s.entity_type = ?1 AND s.entity_id = ?2 ORDER BY s.id",
    )?;
    let rows = st
        .query_map(params![entity_type, entity_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (id, kind, signer, signer_name, signed_at, statement, signature, public_key) in rows {
        let stored: Value = serde_json::from_str(&statement).unwrap_or(Value::Null);
        let rebuilt = expected(&kind, &signer, &signed_at)?;
        let problem = check(&rebuilt, &stored, &signature, &public_key);
        out.push(SignoffView {
            id,
            kind,
            signer,
            signer_name,
            signed_at,
            statement: stored,
            signature,
            public_key,
            valid: problem.is_none(),
            problem,
        });
    }
    Ok(out)
}

fn check(rebuilt: &Value, stored: &Value, signature: &str, public_key: &str) -> Option<String> {
    if rebuilt != stored {
        return Some("the record no longer matches the statement that was signed".into());
    }
    let key: [u8; 32] = match B64.decode(public_key).ok().and_then(|k| k.try_into().ok()) {
        Some(k) => k,
        None => return Some("the signer's public key is malformed".into()),
    };
    let Ok(vk) = VerifyingKey::from_bytes(&key) else {
        return Some("the signer's public key is malformed".into());
    };
    let sig: [u8; 64] = match B64.decode(signature).ok().and_then(|s| s.try_into().ok()) {
        Some(s) => s,
        None => return Some("the signature is malformed".into()),
    };
    match vk.verify(&canonical_bytes(rebuilt), &Signature::from_bytes(&sig)) {
        Ok(()) => None,
        Err(_) => Some("the signature does not verify".into()),
    }
}

//! The audit log: append-only and hash-chained. Every state change appends its event inside the
//! same transaction as the change itself.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::canonical::{canonical_bytes, canonical_string};
use crate::error::{CoreError, Result};

/// The hash that precedes the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an operation records about itself.
pub struct NewEvent {
    pub operation: &'static str,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub payload: Value,
}

/// The bytes an event's hash covers after the previous hash.
pub fn event_canonical_bytes(
    seq: i64,
    at: &str,
    actor: &str,
    operation: &str,
    entity_type: &str,
    entity_id: &str,
    payload: &Value,
) -> Vec<u8> {
    canonical_bytes(&json!({
        "seq": seq,
        "at": at,
        "actor": actor,
        "operation": operation,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "payload": payload,
    }))
}

pub fn chain_hash(prev_hash_hex: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash_hex.as_bytes());
    h.update(canonical);
    hex::encode(h.finalize())
}

/// Appends one event in `tx`; returns its sequence number.
pub fn append(tx: &Transaction<'_>, at: &str, actor: &str, ev: NewEvent) -> Result<i64> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS_HASH.to_string()),
    };
    let bytes = event_canonical_bytes(
        seq,
        at,
        actor,
        ev.operation,
        ev.entity_type,
        &ev.entity_id,
        &ev.payload,
    );
    let hash = chain_hash(&prev, &bytes);
    tx.prepare_cached(
        "INSERT INTO audit_events (seq, at, actor, operation, entity_type, entity_id, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
            seq,
            at,
            actor,
            ev.operation,
            ev.entity_type,
            ev.entity_id,
            canonical_string(&ev.payload),
            prev,
            hash
        ],
    )?;
    Ok(seq)
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AuditEventView {
    /// Same as `seq`.
    pub id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub operation: String,
    pub entity_type: String,
    pub entity_id: String,
    #[ts(type = "unknown")]
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct VerifyReport {
    pub ok: bool,
    /// Events checked.
    pub events: i64,
    /// Hash of the last event (the chain head), or the genesis hash for an empty log.
    pub head: String,
    /// The first sequence number whose event does not verify.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

fn row_view(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AuditEventView, String)> {
    let payload_text: String = r.get(6)?;
    let seq: i64 = r.get(0)?;
    Ok((
        AuditEventView {
            id: seq,
            seq,
            at: r.get(1)?,
            actor: r.get(2)?,
            operation: r.get(3)?,
            entity_type: r.get(4)?,
            entity_id: r.get(5)?,
            payload: Value::Null,
            prev_hash: r.get(7)?,
            hash: r.get(8)?,
        },
        payload_text,
    ))
}

const SELECT_EVENTS: &str =
    "SELECT seq, at, actor, operation, entity_type, entity_id, payload, prev_hash, hash FROM audit_events";

/// Lists events, newest last, optionally for one entity.
pub fn list(
    conn: &Connection,
    entity: Option<(&str, &str)>,
    limit: Option<i64>,
) -> Result<Vec<AuditEventView>> {
    let limit = limit.unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut push = |(mut v, text): (AuditEventView, String)| {
        v.payload = serde_json::from_str(&text).unwrap_or(Value::String(text));
        out.push(v);
    };
    match entity {
        Some((t, id)) => {
            let mut st = conn.prepare(&format!(
                "{SELECT_EVENTS} WHERE entity_type = ?1 AND entity_id = ?2 ORDER BY seq LIMIT ?3"
            ))?;
            for row in st.query_map(params![t, id, limit], row_view)? {
                push(row?);
            }
        }
        None => {
            let mut st = conn.prepare(&format!(
                "SELECT * FROM ({SELECT_EVENTS} ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
            ))?;
            for row in st.query_map(params![limit], row_view)? {
                push(row?);
            }
        }
    }
    Ok(out)
}

/// Recomputes the whole chain. Names the first sequence number that does not verify.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    let mut st = conn.prepare(&format!("{SELECT_EVENTS} ORDER BY seq"))?;
    let mut rows = st.query([])?;
    let mut prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1i64;
    let mut count = 0i64;
    let bad = |seq: i64, count: i64, head: &str, problem: String| VerifyReport {
        ok: false,
        events: count,
        head: head.to_string(),
        first_bad_seq: Some(seq),
        problem: Some(problem),
    };
    while let Some(r) = rows.next()? {
        let (v, text) = row_view(r)?;
        if v.seq != expected_seq {
            return Ok(bad(
                expected_seq,
                count,
                &prev,
                format!("event {expected_seq} is missing (found {} next)", v.seq),
            ));
        }
        if v.prev_hash != prev {
            return Ok(bad(
                v.seq,
                count,
                &prev,
                format!("event {} does not link to event {}", v.seq, v.seq - 1),
            ));
        }
        let payload: Value = match serde_json::from_str(&text) {
            Ok(p) => p,
            Err(_) => {
                return Ok(bad(
                    v.seq,
                    count,
                    &prev,
                    format!("event {} has an unreadable payload", v.seq),
                ))
            }
        };
        let bytes = event_canonical_bytes(
            v.seq,
            &v.at,
            &v.actor,
            &v.operation,
            &v.entity_type,
            &v.entity_id,
            &payload,
        );
        let h = chain_hash(&prev, &bytes);
        if h != v.hash {
            return Ok(bad(
                v.seq,
                count,
                &prev,
                format!("event {} was altered (hash mismatch)", v.seq),
            ));
        }
        prev = h;
        expected_seq += 1;
        count += 1;
    }
    Ok(VerifyReport {
        ok: true,
        events: count,
        head: prev,
        first_bad_seq: None,
        problem: None,
    })
}

/// The current chain head (hash of the last event).
pub fn head(conn: &Connection) -> Result<(i64, String)> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(CoreError::from)?
        .unwrap_or((0, GENESIS_HASH.to_string())))
}

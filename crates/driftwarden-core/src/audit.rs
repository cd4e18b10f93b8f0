//! The audit log: append-only and hash-chained. Every state change appends its event inside the
//! same transaction as the change itself.

use rusqlite::{params, Connection, OptionalExtension};
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
pub fn append(tx: &Connection, at: &str, actor: &str, ev: NewEvent) -> Result<i64> {
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

/// Calls `f` with every event, oldest first, one at a time (nothing is collected).
pub fn for_each(conn: &Connection, mut f: impl FnMut(AuditEventView) -> Result<()>) -> Result<()> {
    let mut st = conn.prepare(&format!("{SELECT_EVENTS} ORDER BY seq"))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (mut v, text) = row_view(r)?;
        v.payload = serde_json::from_str(&text).unwrap_or(Value::String(text));
        f(v)?;
    }
    Ok(())
}

/// The `limit` events before sequence `before` (from the head when absent), newest first.
pub fn page(conn: &Connection, before: Option<i64>, limit: i64) -> Result<Vec<AuditEventView>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT_EVENTS} WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![before.unwrap_or(i64::MAX), limit], row_view)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut v, text) = row?;
        v.payload = serde_json::from_str(&text).unwrap_or(Value::String(text));
        out.push(v);
    }
    Ok(out)
}

/// Recomputes the whole chain. Names the first sequence number that does not verify.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    verify_range(conn, 0, GENESIS_HASH)
}

/// Verifies the chain from a head verified earlier (`seq`, `hash`): checks that event `seq` still
/// has that hash, then recomputes every later event. `events` in the report counts the whole
/// chain up to its head. Events before `seq` are not recomputed: a full `verify` still is the
/// check of the whole history.
pub fn verify_from(conn: &Connection, seq: i64, hash: &str) -> Result<VerifyReport> {
    if seq <= 0 {
        return verify(conn);
    }
    let stored: Option<String> = conn
        .query_row("SELECT hash FROM audit_events WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?;
    match stored {
        Some(h) if h == hash => verify_range(conn, seq, hash),
        Some(_) => Ok(VerifyReport {
            ok: false,
            events: seq - 1,
            head: hash.to_string(),
            first_bad_seq: Some(seq),
            problem: Some(format!(
                "event {seq} no longer has the hash verified earlier (history rewritten)"
            )),
        }),
        None => Ok(VerifyReport {
            ok: false,
            events: seq - 1,
            head: hash.to_string(),
            first_bad_seq: Some(seq),
            problem: Some(format!("event {seq}, verified earlier, is missing")),
        }),
    }
}

/// Appends `s` as an RFC 8785 JSON string (the ECMAScript escaping: `"`, `\\` and control
/// characters; everything else as is).
fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The canonical bytes of an event whose payload is stored as canonical JSON text, built without
/// parsing it (keys in RFC 8785 order). Equal to `event_canonical_bytes` whenever `payload_text`
/// is the canonical form of the payload, which is how `append` stores it.
#[allow(clippy::too_many_arguments)]
fn stored_event_bytes(
    out: &mut Vec<u8>,
    seq: i64,
    at: &str,
    actor: &str,
    operation: &str,
    entity_type: &str,
    entity_id: &str,
    payload_text: &str,
) {
    out.clear();
    out.extend_from_slice(b"{\"actor\":");
    push_json_string(out, actor);
    out.extend_from_slice(b",\"at\":");
    push_json_string(out, at);
    out.extend_from_slice(b",\"entity_id\":");
    push_json_string(out, entity_id);
    out.extend_from_slice(b",\"entity_type\":");
    push_json_string(out, entity_type);
    out.extend_from_slice(b",\"operation\":");
    push_json_string(out, operation);
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(payload_text.as_bytes());
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.push(b'}');
}

fn hash_hex(prev_hex: &[u8], canonical: &[u8]) -> [u8; 64] {
    let mut h = Sha256::new();
    h.update(prev_hex);
    h.update(canonical);
    let mut out = [0u8; 64];
    hex::encode_to_slice(h.finalize(), &mut out).expect("64 hex digits");
    out
}

/// Recomputes the chain after event `after_seq`, whose hash is `after_hash`. Each event's bytes
/// are built from its stored canonical payload text without parsing it; only when that hash does
/// not match is the payload parsed and canonicalised again (the reference computation), so the
/// outcome is exactly that of recomputing every event from its parsed fields.
fn verify_range(conn: &Connection, after_seq: i64, after_hash: &str) -> Result<VerifyReport> {
    let mut st = conn.prepare(&format!("{SELECT_EVENTS} WHERE seq > ?1 ORDER BY seq"))?;
    let mut rows = st.query([after_seq])?;
    let mut prev: Vec<u8> = after_hash.as_bytes().to_vec();
    let mut expected_seq = after_seq + 1;
    let mut count = after_seq;
    let mut buf = Vec::with_capacity(1024);
    let head = |prev: &[u8]| String::from_utf8_lossy(prev).into_owned();
    let bad = |seq: i64, count: i64, head: String, problem: String| VerifyReport {
        ok: false,
        events: count,
        head,
        first_bad_seq: Some(seq),
        problem: Some(problem),
    };
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let text = |i: usize| -> Result<&str> {
            r.get_ref(i)?
                .as_str()
                .map_err(|e| CoreError::Storage(format!("audit event {seq}: {e}")))
        };
        let (at, actor, operation, entity_type, entity_id, payload_text, prev_hash, hash) = (
            text(1)?,
            text(2)?,
            text(3)?,
            text(4)?,
            text(5)?,
            text(6)?,
            text(7)?,
            text(8)?,
        );
        if seq != expected_seq {
            return Ok(bad(
                expected_seq,
                count,
                head(&prev),
                format!("event {expected_seq} is missing (found {seq} next)"),
            ));
        }
        if prev_hash.as_bytes() != prev.as_slice() {
            return Ok(bad(
                seq,
                count,
                head(&prev),
                format!("event {} does not link to event {}", seq, seq - 1),
            ));
        }
        stored_event_bytes(
            &mut buf,
            seq,
            at,
            actor,
            operation,
            entity_type,
            entity_id,
            payload_text,
        );
        let mut h = hash_hex(&prev, &buf);
        if h.as_slice() != hash.as_bytes() {
            // Not the stored canonical form: the reference computation decides.
            let payload: Value = match serde_json::from_str(payload_text) {
                Ok(p) => p,
                Err(_) => {
                    return Ok(bad(
                        seq,
                        count,
                        head(&prev),
                        format!("event {seq} has an unreadable payload"),
                    ))
                }
            };
            let bytes =
                event_canonical_bytes(seq, at, actor, operation, entity_type, entity_id, &payload);
            h = hash_hex(&prev, &bytes);
            if h.as_slice() != hash.as_bytes() {
                return Ok(bad(
                    seq,
                    count,
                    head(&prev),
                    format!("event {seq} was altered (hash mismatch)"),
                ));
            }
        }
        prev.clear();
        prev.extend_from_slice(&h);
        expected_seq += 1;
        count += 1;
    }
    Ok(VerifyReport {
        ok: true,
        events: count,
        head: head(&prev),
        first_bad_seq: None,
        problem: None,
    })
}

/// The reference verification (before the fast path): parses and canonicalises every event.
/// Kept for the tests, which check that `verify` agrees with it, and for the benchmark.
#[cfg(any(test, feature = "bench-plaintext"))]
pub fn verify_reference(conn: &Connection) -> Result<VerifyReport> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(n: i64) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
             operation TEXT NOT NULL, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL,
             payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        )
        .unwrap();
        for i in 0..n {
            append(
                &conn,
                "2026-11-20T09:00:00Z",
                "ana@acme.test",
                NewEvent {
                    operation: "model.add",
                    entity_type: "model",
                    entity_id: i.to_string(),
                    payload: json!({ "name": format!("m\"{i}\u{1}é"), "v": i as f64 / 3.0, "list": [i, null, true] }),
                },
            )
            .unwrap();
        }
        conn
    }

    fn same(a: &VerifyReport, b: &VerifyReport) {
        assert_eq!(
            (a.ok, a.events, &a.head, a.first_bad_seq, &a.problem),
            (b.ok, b.events, &b.head, b.first_bad_seq, &b.problem)
        );
    }

    #[test]
    fn fast_verification_agrees_with_the_reference() {
        let conn = log_of(50);
        same(&verify(&conn).unwrap(), &verify_reference(&conn).unwrap());
        assert!(verify(&conn).unwrap().ok);
        // A payload stored in another (non-canonical) form of the same JSON still verifies, as
        // it always did; a changed value does not; nor does a changed actor or a gap.
        let edits = [
            "UPDATE audit_events SET payload = ' ' || payload WHERE seq = 7",
            "UPDATE audit_events SET payload = replace(payload, '\"v\":', '\"v\": ') WHERE seq = 9",
            "UPDATE audit_events SET payload = replace(payload, 'true', 'false') WHERE seq = 20",
            "UPDATE audit_events SET actor = 'eve@acme.test' WHERE seq = 30",
            "UPDATE audit_events SET payload = 'not json' WHERE seq = 33",
            "DELETE FROM audit_events WHERE seq = 40",
        ];
        for (i, edit) in edits.iter().enumerate() {
            let conn = log_of(50);
            conn.execute_batch(edit).unwrap();
            let (fast, reference) = (verify(&conn).unwrap(), verify_reference(&conn).unwrap());
            same(&fast, &reference);
            assert_eq!(fast.ok, i < 2, "{edit}: {fast:?}");
        }
    }

    #[test]
    fn verification_from_a_known_head() {
        let conn = log_of(30);
        let full = verify(&conn).unwrap();
        let h10: String = conn
            .query_row("SELECT hash FROM audit_events WHERE seq = 10", [], |r| {
                r.get(0)
            })
            .unwrap();
        let part = verify_from(&conn, 10, &h10).unwrap();
        same(&part, &full);
        // A rewritten event after the head is found; one at the head is reported as rewritten.
        conn.execute_batch("UPDATE audit_events SET actor = 'eve@acme.test' WHERE seq = 12")
            .unwrap();
        assert_eq!(
            verify_from(&conn, 10, &h10).unwrap().first_bad_seq,
            Some(12)
        );
        assert_eq!(
            verify_from(&conn, 10, &"0".repeat(64))
                .unwrap()
                .first_bad_seq,
            Some(10)
        );
        assert!(!verify_from(&conn, 99, &h10).unwrap().ok);
    }

    #[test]
    fn stored_bytes_equal_the_reference_canonical_bytes() {
        let payloads = [
            json!({}),
            json!({ "a": 1, "b": [1.5, "x\u{1}\"\\\n\t\u{7f}é😀\u{2028}"], "c": null, "z": { "y": true } }),
            json!({ "rows": 1_000_000, "value": 0.1, "neg": -3e-9, "big": 1e21 }),
        ];
        let strings = [
            "plain",
            "quote \" back \\ slash",
            "ctrl \u{0}\u{8}\u{c}\u{1f}\r",
            "ünï 😀 \u{2028}",
        ];
        for p in &payloads {
            for s in strings {
                let reference = event_canonical_bytes(42, s, s, "op.x", "model", s, p);
                let mut fast = Vec::new();
                stored_event_bytes(
                    &mut fast,
                    42,
                    s,
                    s,
                    "op.x",
                    "model",
                    s,
                    &canonical_string(p),
                );
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&reference)
                );
            }
        }
    }
}

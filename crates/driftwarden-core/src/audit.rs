//! The audit log: append-only and hash-chained. Every state change appends its event inside the
//! same transaction as the change itself.

use std::io::Write as _;

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
    let out = match entity {
        Some((t, id)) => {
            let mut st = conn.prepare(&format!(
                "{SELECT_EVENTS} WHERE entity_type = ?1 AND entity_id = ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let rows = st.query_map(params![t, id, limit], row_view)?;
            rows.map(|r| r.map(with_payload))
                .collect::<rusqlite::Result<_>>()?
        }
        None => {
            let mut st = conn.prepare(&format!(
                "SELECT * FROM ({SELECT_EVENTS} ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
            ))?;
            let rows = st.query_map(params![limit], row_view)?;
            rows.map(|r| r.map(with_payload))
                .collect::<rusqlite::Result<_>>()?
        }
    };
    Ok(out)
}

/// An event read by `row_view` with its payload parsed (kept as a string if it is not JSON).
fn with_payload((mut v, text): (AuditEventView, String)) -> AuditEventView {
    v.payload = serde_json::from_str(&text).unwrap_or(Value::String(text));
    v
}

/// A model's decision timeline: its record's events, oldest first, and the sign-offs they refer
/// to (by `signoff_id` in their payload), verified.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ModelTimeline {
    pub events: Vec<AuditEventView>,
    pub signoffs: Vec<crate::SignoffView>,
}

/// The events of one model's decision record, oldest first: the model's own, its thresholds'
/// and its exceptions' (one query over the entity index).
pub fn list_for_model(conn: &Connection, model_id: i64) -> Result<Vec<AuditEventView>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT_EVENTS} WHERE (entity_type = 'model' AND entity_id = CAST(?1 AS TEXT))
           OR (entity_type = 'threshold' AND entity_id IN
                (SELECT CAST(id AS TEXT) FROM thresholds WHERE model_id = ?1))
           OR (entity_type = 'exception' AND entity_id IN
                (SELECT CAST(id AS TEXT) FROM exceptions WHERE model_id = ?1))
         ORDER BY seq"
    ))?;
    let rows = st.query_map([model_id], row_view)?;
    Ok(rows
        .map(|r| r.map(with_payload))
        .collect::<rusqlite::Result<_>>()?)
}

/// Calls `f` with every event, oldest first, one at a time (nothing is collected).
pub fn for_each(conn: &Connection, mut f: impl FnMut(AuditEventView) -> Result<()>) -> Result<()> {
    let mut st = conn.prepare(&format!("{SELECT_EVENTS} ORDER BY seq"))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        f(with_payload(row_view(r)?))?;
    }
    Ok(())
}

/// The `limit` events before sequence `before` (from the head when absent), newest first.
pub fn page(conn: &Connection, before: Option<i64>, limit: i64) -> Result<Vec<AuditEventView>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT_EVENTS} WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![before.unwrap_or(i64::MAX), limit], row_view)?;
    Ok(rows
        .map(|r| r.map(with_payload))
        .collect::<rusqlite::Result<_>>()?)
}

/// Recomputes the whole chain. Names the first sequence number that does not verify.
pub fn verify(conn: &Connection) -> Result<VerifyReport> {
    verify_range(conn, 0, GENESIS_HASH)
}

/// `verify`, split over threads as `split` allows; the same report.
pub fn verify_parallel(conn: &Connection, split: &Split<'_>) -> Result<VerifyReport> {
    verify_range_split(conn, 0, GENESIS_HASH, split)
}

/// Verifies the chain from a head verified earlier (`seq`, `hash`): checks that event `seq` still
/// has that hash, then recomputes every later event. `events` in the report counts the whole
/// chain up to its head. Events before `seq` are not recomputed: a full `verify` still is the
/// check of the whole history.
pub fn verify_from(conn: &Connection, seq: i64, hash: &str) -> Result<VerifyReport> {
    let one = Split {
        threads: 1,
        min_events: 1,
        open: &|| unreachable!("one thread"),
    };
    verify_from_parallel(conn, seq, hash, &one)
}

/// `verify_from`, split over threads as `split` allows (see `verify_parallel`).
pub fn verify_from_parallel(
    conn: &Connection,
    seq: i64,
    hash: &str,
    split: &Split<'_>,
) -> Result<VerifyReport> {
    if seq <= 0 {
        return verify_range_split(conn, 0, GENESIS_HASH, split);
    }
    let stored: Option<String> = conn
        .query_row("SELECT hash FROM audit_events WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .optional()?;
    match stored {
        Some(h) if h == hash => verify_range_split(conn, seq, hash, split),
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
fn push_json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
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
    at: &[u8],
    actor: &[u8],
    operation: &[u8],
    entity_type: &[u8],
    entity_id: &[u8],
    payload_text: &[u8],
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
    out.extend_from_slice(payload_text);
    out.extend_from_slice(b",\"seq\":");
    let _ = write!(out, "{seq}");
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

/// Where a piece of the chain starts.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// After event `seq`, whose hash is `hash` (the start of the range verified).
    After { seq: i64, hash: &'a str },
    /// At the piece's first event, taking its stored `prev_hash` as given: joining the pieces
    /// checks it against the hash the previous piece ended with.
    Unanchored,
}

/// What verifying one piece of the chain found.
struct Piece {
    /// The piece's first event: its sequence number and stored `prev_hash`.
    first: Option<(i64, String)>,
    /// Events verified (for the first piece, counting from the event it starts after).
    count: i64,
    /// The hash of the last event verified (hex).
    head: Vec<u8>,
    /// The sequence number expected next.
    next_seq: i64,
    /// The first event that does not verify, and why.
    bad: Option<(i64, String)>,
}

impl Piece {
    fn report(self) -> VerifyReport {
        VerifyReport {
            ok: self.bad.is_none(),
            events: self.count,
            head: String::from_utf8_lossy(&self.head).into_owned(),
            first_bad_seq: self.bad.as_ref().map(|b| b.0),
            problem: self.bad.map(|b| b.1),
        }
    }

    /// Appends `next`, the piece that follows this one, as if both had been verified in one
    /// pass: the first problem in chain order wins.
    fn join(mut self, next: Result<Piece>) -> Result<Piece> {
        if self.bad.is_some() {
            return Ok(self);
        }
        let next = next?;
        let Some((seq, prev_hash)) = &next.first else {
            return Ok(self);
        };
        if *seq != self.next_seq {
            self.bad = Some((
                self.next_seq,
                format!("event {} is missing (found {seq} next)", self.next_seq),
            ));
            return Ok(self);
        }
        if prev_hash.as_bytes() != self.head.as_slice() {
            self.bad = Some((
                *seq,
                format!("event {} does not link to event {}", seq, seq - 1),
            ));
            return Ok(self);
        }
        Ok(Piece {
            first: self.first,
            count: self.count + next.count,
            head: next.head,
            next_seq: next.next_seq,
            bad: next.bad,
        })
    }
}

/// Recomputes the events with `lo < seq <= hi` (no upper bound when `hi` is `None`). Each event's
/// bytes are built from its stored canonical payload text without parsing it; only when that
/// hash does not match is the payload parsed and canonicalised again (the reference
/// computation), so the outcome is exactly that of recomputing every event from its parsed
/// fields.
fn verify_piece(conn: &Connection, lo: i64, hi: Option<i64>, start: Start<'_>) -> Result<Piece> {
    let mut st = conn.prepare(&format!(
        "{SELECT_EVENTS} WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let mut rows = st.query(params![lo, hi.unwrap_or(i64::MAX)])?;
    let (mut prev, mut expected_seq, mut count) = match start {
        Start::After { seq, hash } => (hash.as_bytes().to_vec(), seq + 1, seq),
        Start::Unanchored => (Vec::new(), lo + 1, 0),
    };
    let mut piece = Piece {
        first: None,
        count,
        head: Vec::new(),
        next_seq: expected_seq,
        bad: None,
    };
    let mut buf = Vec::with_capacity(1024);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        // The stored bytes as they are (hashing needs no UTF-8 check; the reference path below
        // makes it when the hash does not match).
        let text = |i: usize| -> Result<&[u8]> {
            r.get_ref(i)?
                .as_bytes()
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
        if piece.first.is_none() {
            piece.first = Some((seq, String::from_utf8_lossy(prev_hash).into_owned()));
            if matches!(start, Start::Unanchored) {
                prev.extend_from_slice(prev_hash);
                expected_seq = seq;
            }
        }
        let problem = if seq != expected_seq {
            Some((
                expected_seq,
                format!("event {expected_seq} is missing (found {seq} next)"),
            ))
        } else if prev_hash != prev.as_slice() {
            Some((
                seq,
                format!("event {} does not link to event {}", seq, seq - 1),
            ))
        } else {
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
            let mut problem = None;
            if h.as_slice() != hash {
                // Not the stored canonical form: the reference computation decides.
                let fields = (|| {
                    let s = |b| std::str::from_utf8(b).ok();
                    Some((
                        s(at)?,
                        s(actor)?,
                        s(operation)?,
                        s(entity_type)?,
                        s(entity_id)?,
                        serde_json::from_slice::<Value>(payload_text).ok()?,
                    ))
                })();
                match fields {
                    None => problem = Some((seq, format!("event {seq} has an unreadable payload"))),
                    Some((at, actor, operation, entity_type, entity_id, payload)) => {
                        let bytes = event_canonical_bytes(
                            seq,
                            at,
                            actor,
                            operation,
                            entity_type,
                            entity_id,
                            &payload,
                        );
                        h = hash_hex(&prev, &bytes);
                        if h.as_slice() != hash {
                            problem =
                                Some((seq, format!("event {seq} was altered (hash mismatch)")));
                        }
                    }
                }
            }
            if problem.is_none() {
                prev.clear();
                prev.extend_from_slice(&h);
            }
            problem
        };
        if problem.is_some() {
            piece.bad = problem;
            break;
        }
        expected_seq += 1;
        count += 1;
    }
    piece.count = count;
    piece.head = prev;
    piece.next_seq = expected_seq;
    Ok(piece)
}

/// Recomputes the chain after event `after_seq`, whose hash is `after_hash`, in one pass.
fn verify_range(conn: &Connection, after_seq: i64, after_hash: &str) -> Result<VerifyReport> {
    let start = Start::After {
        seq: after_seq,
        hash: after_hash,
    };
    Ok(verify_piece(conn, after_seq, None, start)?.report())
}

/// Opens another (read-only) connection to the same database, for one thread.
pub type OpenReader<'a> = dyn Fn() -> Result<Connection> + Sync + 'a;

/// How verification may be split over threads.
pub struct Split<'a> {
    /// At most this many threads (pieces of the sequence range).
    pub threads: usize,
    /// At least this many events per piece.
    pub min_events: i64,
    /// A connection for each thread but the caller's.
    pub open: &'a OpenReader<'a>,
}

impl Split<'_> {
    /// One thread per core (at most 8), each with at least `MIN_EVENTS_PER_THREAD` events.
    pub fn per_core<'a>(open: &'a OpenReader<'a>) -> Split<'a> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Split {
            threads: cores.min(8),
            min_events: MIN_EVENTS_PER_THREAD,
            open,
        }
    }
}

/// Below this many events per piece, splitting costs more (a connection per thread) than it
/// saves.
pub const MIN_EVENTS_PER_THREAD: i64 = 20_000;

/// `verify_range` split into pieces of the sequence range, each verified on its own thread with
/// its own connection (the first piece uses `conn`). Every event is recomputed from its stored
/// `prev_hash`, and the pieces are joined in order, checking that each piece's first event
/// follows and links to the event the previous piece ended with, so the report is the one a
/// single pass gives: same first bad sequence, problem, count and head.
fn verify_range_split(
    conn: &Connection,
    after_seq: i64,
    after_hash: &str,
    split: &Split<'_>,
) -> Result<VerifyReport> {
    // Inside a transaction `conn` may see events the other connections cannot yet.
    if split.threads <= 1 || !conn.is_autocommit() {
        return verify_range(conn, after_seq, after_hash);
    }
    let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM audit_events", [], |r| {
        r.get(0)
    })?;
    let span = last - after_seq;
    let parts = (split.threads as i64).min(span / split.min_events.max(1));
    if parts <= 1 {
        return verify_range(conn, after_seq, after_hash);
    }
    let open = split.open;
    // Piece k holds after_seq + span*k/parts < seq <= after_seq + span*(k+1)/parts; the last one
    // has no upper bound (events appended meanwhile belong to it).
    let bound = |k: i64| after_seq + span * k / parts;
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..parts)
            .map(|k| {
                let (lo, hi) = (bound(k), (k + 1 < parts).then(|| bound(k + 1)));
                // `None`: no second connection (say, a read-only folder without the WAL's
                // shared-memory file); then one pass on `conn` does it all.
                scope.spawn(move || -> Option<Result<Piece>> {
                    let reader = open()
                        .inspect_err(|e| {
                            tracing::debug!("verifying on one thread: no second connection: {e}")
                        })
                        .ok()?;
                    Some(verify_piece(&reader, lo, hi, Start::Unanchored))
                })
            })
            .collect();
        let start = Start::After {
            seq: after_seq,
            hash: after_hash,
        };
        // The first piece on a reader of its own too, when one opens: a scan of the log would
        // otherwise turn over `conn`'s page cache, which holds what the screens read.
        let own = open().ok();
        let mut piece = verify_piece(
            own.as_ref().unwrap_or(conn),
            after_seq,
            Some(bound(1)),
            start,
        );
        let mut one_pass = false;
        for handle in others {
            match handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            {
                Some(next) => piece = piece.and_then(|p| p.join(next)),
                None => one_pass = true,
            }
        }
        if one_pass {
            return verify_range(conn, after_seq, after_hash);
        }
        Ok(piece?.report())
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

    /// Every kind of break at every position, on a log in a file: verified in 2 to 5 pieces
    /// (each piece on its own thread and connection) the report equals the single pass's.
    #[test]
    fn verification_in_pieces_equals_one_pass_for_a_break_anywhere() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log.db");
        let n = 23;
        {
            let mem = log_of(n);
            mem.execute("VACUUM INTO ?1", [path.display().to_string()])
                .unwrap();
        }
        let pristine = std::fs::read(&path).unwrap();
        let open = || Ok(Connection::open(&path)?);
        let edits = [
            "UPDATE audit_events SET actor = 'eve@acme.test' WHERE seq = {}",
            "UPDATE audit_events SET prev_hash = hash WHERE seq = {}",
            "UPDATE audit_events SET hash = prev_hash WHERE seq = {}",
            "UPDATE audit_events SET payload = 'not json' WHERE seq = {}",
            "UPDATE audit_events SET payload = ' ' || payload WHERE seq = {}",
            "DELETE FROM audit_events WHERE seq = {}",
            "DELETE FROM audit_events WHERE seq >= {}",
        ];
        let mut cases = 0;
        for edit in edits {
            for seq in 0..=n + 1 {
                std::fs::write(&path, &pristine).unwrap();
                let conn = Connection::open(&path).unwrap();
                conn.execute_batch(&edit.replace("{}", &seq.to_string()))
                    .unwrap();
                let one = verify(&conn).unwrap();
                same(&one, &verify_reference(&conn).unwrap());
                for threads in 2..=5 {
                    let split = Split {
                        threads,
                        min_events: 1,
                        open: &open,
                    };
                    let many = verify_parallel(&conn, &split).unwrap();
                    same(&many, &one);
                    cases += 1;
                }
                // Without a second connection, one pass on the first.
                let no_reader = || Err(CoreError::Storage("no second connection".into()));
                let split = Split {
                    threads: 3,
                    min_events: 1,
                    open: &no_reader,
                };
                same(&verify_parallel(&conn, &split).unwrap(), &one);
                // From a head verified earlier, in pieces too.
                if let Ok(h) =
                    conn.query_row("SELECT hash FROM audit_events WHERE seq = 5", [], |r| {
                        r.get::<_, String>(0)
                    })
                {
                    let split = Split {
                        threads: 3,
                        min_events: 1,
                        open: &open,
                    };
                    same(
                        &verify_from_parallel(&conn, 5, &h, &split).unwrap(),
                        &verify_from(&conn, 5, &h).unwrap(),
                    );
                }
            }
        }
        assert_eq!(cases, edits.len() * (n as usize + 2) * 4);
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
                    s.as_bytes(),
                    s.as_bytes(),
                    b"op.x",
                    b"model",
                    s.as_bytes(),
                    canonical_string(p).as_bytes(),
                );
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&reference)
                );
            }
        }
    }
}

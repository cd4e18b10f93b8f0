//! The audit-log extract (`audit-log.jsonl`): one JSON object per line.
//!
//! * first line: `{"type":"header","format":"driftwarden-audit-extract-v1","registry_id",
//!   "genesis_hash","events_total","scope"}`
//! * then, in sequence order, `{"type":"event", …the full event…, "prev_hash", "hash"}` for events
//!   in scope and `{"type":"gap","first_seq","last_seq","prev_hash","hash"}` for each run of
//!   events outside it (the hash before the run and the hash of its last event);
//! * last line: `{"type":"head","seq","hash"}`, the chain head at export time.
//!
//! Verification walks the lines from the genesis hash: every line links to the one before,
//! sequence numbers have no holes, every full event's hash is recomputed, and the last line's
//! hash is the head.

use driftwarden_core::audit::{chain_hash, event_canonical_bytes, GENESIS_HASH};
use driftwarden_core::{AuditEntry, PackData};
use serde_json::{json, Value};

use crate::PackError;

pub const EXTRACT_FORMAT: &str = "driftwarden-audit-extract-v1";

pub struct Extract {
    pub bytes: Vec<u8>,
    /// Events in full, and gap lines.
    pub events: usize,
    pub gaps: usize,
    /// The first and last event times (read by the report).
    #[cfg_attr(not(feature = "report"), allow(dead_code))]
    pub first_at: Option<String>,
    #[cfg_attr(not(feature = "report"), allow(dead_code))]
    pub last_at: Option<String>,
}

pub fn render(data: &PackData) -> Result<Extract, PackError> {
    let mut out = Vec::with_capacity(data.audit.len() * 300 + 512);
    let line = |out: &mut Vec<u8>, v: &Value| -> Result<(), PackError> {
        serde_json::to_writer(&mut *out, v).map_err(|e| PackError::Data(e.to_string()))?;
        out.push(b'\n');
        Ok(())
    };
    line(
        &mut out,
        &json!({
            "type": "header",
            "format": EXTRACT_FORMAT,
            "registry_id": data.registry_id,
            "genesis_hash": GENESIS_HASH,
            "events_total": data.audit_chain.events_total,
            "scope": data.scope,
        }),
    )?;
    let (mut events, mut gaps) = (0, 0);
    let (mut first_at, mut last_at) = (None, None);
    let mut last_seq = 0i64;
    for entry in &data.audit {
        match entry {
            AuditEntry::Event(e) => {
                events += 1;
                if first_at.is_none() {
                    first_at = Some(e.at.clone());
                }
                last_at = Some(e.at.clone());
                last_seq = e.seq;
                line(
                    &mut out,
                    &json!({
                        "type": "event", "seq": e.seq, "at": e.at, "actor": e.actor,
                        "operation": e.operation, "entity_type": e.entity_type,
                        "entity_id": e.entity_id, "payload": e.payload,
                        "prev_hash": e.prev_hash, "hash": e.hash,
                    }),
                )?;
            }
            AuditEntry::Gap { last_seq: l, .. } => {
                gaps += 1;
                last_seq = *l;
                serde_json::to_writer(&mut out, entry)
                    .map_err(|e| PackError::Data(e.to_string()))?;
                out.push(b'\n');
            }
        }
    }
    let head = if data.audit.is_empty() {
        GENESIS_HASH.to_string()
    } else {
        data.audit_chain.head.clone()
    };
    line(
        &mut out,
        &json!({ "type": "head", "seq": last_seq, "hash": head }),
    )?;
    Ok(Extract {
        bytes: out,
        events,
        gaps,
        first_at,
        last_at,
    })
}

/// What a verified extract holds.
pub struct ExtractCheck {
    pub events: usize,
    pub gaps: usize,
    pub head_seq: i64,
    pub head: String,
}

fn field<'a>(v: &'a Value, key: &str, lineno: usize) -> Result<&'a Value, String> {
    v.get(key)
        .ok_or_else(|| format!("line {lineno}: no {key:?}"))
}

fn str_field<'a>(v: &'a Value, key: &str, lineno: usize) -> Result<&'a str, String> {
    field(v, key, lineno)?
        .as_str()
        .ok_or_else(|| format!("line {lineno}: {key:?} is not a string"))
}

fn int_field(v: &Value, key: &str, lineno: usize) -> Result<i64, String> {
    field(v, key, lineno)?
        .as_i64()
        .ok_or_else(|| format!("line {lineno}: {key:?} is not an integer"))
}

/// Verifies an extract on its own. The error names the line (1-based) and what is wrong.
pub fn verify(text: &str) -> Result<ExtractCheck, String> {
    if !text.ends_with('\n') {
        return Err("the file does not end with a newline (truncated?)".into());
    }
    let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
    if lines.len() < 2 {
        return Err("fewer than two lines (header and head)".into());
    }
    let parse = |i: usize| -> Result<Value, String> {
        serde_json::from_str(lines[i]).map_err(|e| format!("line {}: not JSON ({e})", i + 1))
    };
    let header = parse(0)?;
    if header.get("type").and_then(Value::as_str) != Some("header")
        || header.get("format").and_then(Value::as_str) != Some(EXTRACT_FORMAT)
    {
        return Err(format!("line 1: not a {EXTRACT_FORMAT} header"));
    }
    let genesis = str_field(&header, "genesis_hash", 1)?;
    if genesis != GENESIS_HASH {
        return Err("line 1: unexpected genesis hash".into());
    }
    let events_total = int_field(&header, "events_total", 1)?;
    let mut prev = GENESIS_HASH.to_string();
    let mut next_seq = 1i64;
    let (mut events, mut gaps) = (0usize, 0usize);
    let last = lines.len() - 1;
    for (i, text) in lines.iter().enumerate().take(last).skip(1) {
        let n = i + 1;
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("line {n}: not JSON ({e})"))?;
        let prev_hash = str_field(&v, "prev_hash", n)?;
        let hash = str_field(&v, "hash", n)?;
        match v.get("type").and_then(Value::as_str) {
            Some("event") => {
                let seq = int_field(&v, "seq", n)?;
                if seq != next_seq {
                    return Err(format!(
                        "line {n}: event {seq} where event {next_seq} was expected"
                    ));
                }
                if prev_hash != prev {
                    return Err(format!(
                        "line {n}: event {seq} does not link to the line before"
                    ));
                }
                let bytes = event_canonical_bytes(
                    seq,
                    str_field(&v, "at", n)?,
                    str_field(&v, "actor", n)?,
                    str_field(&v, "operation", n)?,
                    str_field(&v, "entity_type", n)?,
                    str_field(&v, "entity_id", n)?,
                    field(&v, "payload", n)?,
                );
                if chain_hash(&prev, &bytes) != hash {
                    return Err(format!("line {n}: event {seq} was altered (hash mismatch)"));
                }
                next_seq = seq + 1;
                events += 1;
            }
            Some("gap") => {
                let first = int_field(&v, "first_seq", n)?;
                let last_seq = int_field(&v, "last_seq", n)?;
                if first != next_seq || last_seq < first {
                    return Err(format!(
                        "line {n}: gap {first}–{last_seq} where event {next_seq} was expected"
                    ));
                }
                if prev_hash != prev {
                    return Err(format!(
                        "line {n}: gap {first}–{last_seq} does not link to the line before"
                    ));
                }
                next_seq = last_seq + 1;
                gaps += 1;
            }
            _ => return Err(format!("line {n}: neither an event nor a gap")),
        }
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("line {n}: malformed hash"));
        }
        prev = hash.to_string();
    }
    let head = parse(last)?;
    let n = last + 1;
    if head.get("type").and_then(Value::as_str) != Some("head") {
        return Err(format!("line {n}: the last line is not the chain head"));
    }
    let head_seq = int_field(&head, "seq", n)?;
    let head_hash = str_field(&head, "hash", n)?;
    if head_seq != next_seq - 1 || head_hash != prev {
        return Err(format!("line {n}: the head does not match the last event"));
    }
    if head_seq != events_total {
        return Err(format!(
            "line {n}: the head is event {head_seq} but the header counts {events_total} events"
        ));
    }
    Ok(ExtractCheck {
        events,
        gaps,
        head_seq,
        head: prev,
    })
}

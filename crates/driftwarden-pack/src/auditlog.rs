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

use crate::{FileEntry, FileOut, PackError};

pub const EXTRACT_FORMAT: &str = "driftwarden-audit-extract-v1";

/// What the extract holds, once written.
pub struct Extract {
    pub entry: FileEntry,
    /// Events in full, and gap lines.
    pub events: usize,
    pub gaps: usize,
    /// The first and last event times (read by the report).
    #[cfg_attr(not(feature = "report"), allow(dead_code))]
    pub first_at: Option<String>,
    #[cfg_attr(not(feature = "report"), allow(dead_code))]
    pub last_at: Option<String>,
}

/// Writes the extract line by line as the entries arrive.
pub struct ExtractWriter {
    out: FileOut,
    events: usize,
    gaps: usize,
    first_at: Option<String>,
    last_at: Option<String>,
    last_seq: i64,
}

fn line(out: &mut FileOut, v: &impl serde::Serialize) -> Result<(), PackError> {
    serde_json::to_writer(&mut *out, v).map_err(|e| out.error(e))?;
    out.write_bytes(b"\n")
}

impl ExtractWriter {
    pub fn create(dir: &std::path::Path, data: &PackData) -> Result<Self, PackError> {
        let mut out = FileOut::create(dir, crate::AUDIT_LOG)?;
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
        Ok(ExtractWriter {
            out,
            events: 0,
            gaps: 0,
            first_at: None,
            last_at: None,
            last_seq: 0,
        })
    }

    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), PackError> {
        match entry {
            AuditEntry::Event(e) => {
                self.events += 1;
                if self.first_at.is_none() {
                    self.first_at = Some(e.at.clone());
                }
                self.last_at = Some(e.at.clone());
                self.last_seq = e.seq;
                line(
                    &mut self.out,
                    &json!({
                        "type": "event", "seq": e.seq, "at": e.at, "actor": e.actor,
                        "operation": e.operation, "entity_type": e.entity_type,
                        "entity_id": e.entity_id, "payload": e.payload,
                        "prev_hash": e.prev_hash, "hash": e.hash,
                    }),
                )
            }
            AuditEntry::Gap { last_seq: l, .. } => {
                self.gaps += 1;
                self.last_seq = *l;
                line(&mut self.out, entry)
            }
        }
    }

    pub fn finish(mut self, data: &PackData) -> Result<Extract, PackError> {
        let head = if self.events + self.gaps == 0 {
            GENESIS_HASH.to_string()
        } else {
            data.audit_chain.head.clone()
        };
        line(
            &mut self.out,
            &json!({ "type": "head", "seq": self.last_seq, "hash": head }),
        )?;
        Ok(Extract {
            entry: self.out.finish()?,
            events: self.events,
            gaps: self.gaps,
            first_at: self.first_at,
            last_at: self.last_at,
        })
    }
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

/// Verifies an extract on its own, reading it line by line (memory does not grow with its
/// length). The error names the line (1-based) and what is wrong.
pub fn verify_reader(mut r: impl std::io::BufRead) -> Result<ExtractCheck, String> {
    // Reads the next line (without its newline); None at the end. `ended` tells whether the
    // line read last ended with a newline.
    let mut ended = true;
    let mut next = |ended: &mut bool| -> Result<Option<String>, String> {
        let mut buf = String::new();
        let n = r.read_line(&mut buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                "is not UTF-8".to_string()
            } else {
                format!("cannot be read ({e})")
            }
        })?;
        if n == 0 {
            return Ok(None);
        }
        *ended = buf.ends_with('\n');
        if *ended {
            buf.pop();
        }
        Ok(Some(buf))
    };
    let first = next(&mut ended)?;
    let Some(first) = first else {
        return Err("the file does not end with a newline (truncated?)".into());
    };
    let mut pending = match next(&mut ended)? {
        Some(l) => l,
        None if !ended => {
            return Err("the file does not end with a newline (truncated?)".into());
        }
        None => return Err("fewer than two lines (header and head)".into()),
    };
    let parse = |text: &str, n: usize| -> Result<Value, String> {
        serde_json::from_str(text).map_err(|e| format!("line {n}: not JSON ({e})"))
    };
    let header = parse(&first, 1)?;
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
    let mut n = 1usize;
    while let Some(following) = next(&mut ended)? {
        n += 1;
        let text = std::mem::replace(&mut pending, following);
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("line {n}: not JSON ({e})"))?;
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
    if !ended {
        return Err("the file does not end with a newline (truncated?)".into());
    }
    let n = n + 1;
    let head = parse(&pending, n)?;
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

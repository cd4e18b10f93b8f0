//! Rollback detection. Each member's app remembers, outside the registry, the audit-log head it
//! last verified. A registry whose log is now shorter, or whose event at that sequence has another
//! hash, went backwards (an older copy swapped in) or had its history rewritten.

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, Result};
use crate::registry::Registry;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownHead {
    seq: i64,
    hash: String,
    verified_at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HeadCheck {
    /// first (nothing remembered yet), ok, rolled-back, diverged, broken
    pub status: String,
    pub known_seq: Option<i64>,
    pub current_seq: i64,
    pub current_head: String,
    pub message: String,
}

/// Where the app keeps per-member state outside any registry: `DRIFTWARDEN_STATE_DIR`, else the
/// platform's local data folder.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DRIFTWARDEN_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("org", "Driftwarden", "driftwarden")
        .map(|p| p.data_local_dir().join("state"))
        .unwrap_or_else(|| PathBuf::from("driftwarden-state"))
}

impl Registry {
    fn head_file(&self, state_dir: &Path) -> PathBuf {
        let who = crate::keys::member_slot_id(&self.actor.email);
        state_dir
            .join("heads")
            .join(format!("{}-{}.json", self.registry_id, &who[..16]))
    }

    /// Verifies the chain, compares it with the head this member last verified, and remembers the
    /// new head when all is well.
    pub fn check_head(&self, state_dir: &Path) -> Result<HeadCheck> {
        let report = self.verify_log()?;
        self.check_head_against(state_dir, report)
    }

    /// `check_head` with a verification just made (`verify_log`), so a caller that reports the
    /// verification itself does not recompute the chain twice.
    pub fn check_head_against(
        &self,
        state_dir: &Path,
        report: crate::audit::VerifyReport,
    ) -> Result<HeadCheck> {
        let path = self.head_file(state_dir);
        let known: Option<KnownHead> = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(CoreError::io(format!("reading {}", path.display()), e)),
        };
        let mut check = HeadCheck {
            status: "ok".into(),
            known_seq: known.as_ref().map(|k| k.seq),
            current_seq: report.events,
            current_head: report.head.clone(),
            message: String::new(),
        };
        if !report.ok {
            check.status = "broken".into();
            check.message = format!(
                "the audit log does not verify at sequence {}",
                report.first_bad_seq.unwrap_or_default()
            );
            return Ok(check);
        }
        if let Some(k) = &known {
            if report.events < k.seq {
                check.status = "rolled-back".into();
                check.message = format!(
                    "this registry went backwards: you last verified {} events (on {}), it now has {}; an older copy may have been restored",
                    k.seq, k.verified_at, report.events
                );
                return Ok(check);
            }
            let hash: Option<String> = self
                .conn
                .query_row(
                    "SELECT hash FROM audit_events WHERE seq = ?1",
                    [k.seq],
                    |r| r.get(0),
                )
                .optional()?;
            if k.seq > 0 && hash.as_deref() != Some(k.hash.as_str()) {
                check.status = "diverged".into();
                check.message = format!(
                    "the history you verified on {} was rewritten: event {} has another hash now",
                    k.verified_at, k.seq
                );
                return Ok(check);
            }
        } else {
            check.status = "first".into();
        }
        check.message = format!(
            "{} events verified, head {}",
            report.events,
            &report.head[..16]
        );
        let head = KnownHead {
            seq: report.events,
            hash: report.head,
            verified_at: crate::clock::format_time(self.clock.now()),
        };
        crate::fsutil::write_atomic(
            &path,
            &serde_json::to_vec_pretty(&head).expect("head serialises"),
        )?;
        Ok(check)
    }
}

//! The registry: a folder holding the SQLCipher database and the members' key slots, and the
//! unlocked session through which every operation runs as one member.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{
    params, Connection, OptionalExtension, Savepoint, Transaction, TransactionBehavior,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use crate::audit::{self, NewEvent};
use crate::clock::{format_time, Clock};
use crate::db;
use crate::domain::{check_email, check_text, Role};
use crate::error::{CoreError, Result};
use crate::keys::{pending_slot_path, slot_path, DataKey, MemberKeys, SlotFile};
use crate::ops::members::MemberView;

pub const HEADER_FILE: &str = "driftwarden.json";
const HEADER_FORMAT: &str = "driftwarden-registry";

/// The plaintext header: it says "this folder is a registry" and how its database is encrypted,
/// and nothing about its content.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    registry_id: String,
    /// The database's cipher profile (`db::CipherProfile`); absent in headers written before
    /// profiles were recorded, which means the SQLCipher 4 defaults. A header edited to name
    /// another profile than the database's fails like a wrong key: the page MACs do not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cipher: Option<String>,
}

/// Input of `Registry::create`.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct CreateRegistry {
    /// Organisation name shown on reports.
    pub org: String,
    /// The first member (an admin).
    pub email: String,
    pub name: String,
    /// Roles of the first member; empty means `admin` and `owner`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Who is signed in, and to what.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SessionInfo {
    pub registry_id: String,
    pub org: String,
    pub dir: String,
    pub schema_version: u32,
    pub member: MemberView,
}

/// The signed-in member.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub id: i64,
    pub email: String,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuses unless the actor holds one of `roles`.
    pub fn require_any(&self, roles: &[Role], action: &str) -> Result<()> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(CoreError::Forbidden(format!(
            "{action} requires the role {}; you have {}",
            names.join(" or "),
            if self.roles.is_empty() {
                "none".to_string()
            } else {
                self.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )))
    }
}

/// The database scope of one operation: its own `BEGIN IMMEDIATE` transaction, or a savepoint
/// inside the transaction of a `Registry::batch`.
pub(crate) enum TxScope<'a> {
    Top(Transaction<'a>),
    Nested(Savepoint<'a>),
}

impl TxScope<'_> {
    pub fn commit(self) -> rusqlite::Result<()> {
        match self {
            TxScope::Top(t) => t.commit(),
            TxScope::Nested(s) => s.commit(),
        }
    }
}

impl std::ops::Deref for TxScope<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            TxScope::Top(t) => t,
            TxScope::Nested(s) => s,
        }
    }
}

/// One write transaction, as the signed-in member, at one instant.
pub(crate) struct Tx<'a> {
    pub tx: TxScope<'a>,
    pub actor: &'a Actor,
    pub keys: &'a MemberKeys,
    pub registry_id: &'a str,
    pub now: String,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl Tx<'_> {
    /// Appends the audit event of this change, in this transaction.
    pub fn record(
        &self,
        operation: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
        payload: Value,
    ) -> Result<i64> {
        audit::append(
            &self.tx,
            &self.now,
            &self.actor.email,
            NewEvent {
                operation,
                entity_type,
                entity_id: entity_id.to_string(),
                payload,
            },
        )
    }
}

pub struct Registry {
    pub(crate) dir: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) registry_id: String,
    pub(crate) actor: Actor,
    pub(crate) keys: MemberKeys,
    pub(crate) data_key: DataKey,
    /// How the database is encrypted (from the header).
    pub(crate) profile: db::CipherProfile,
    /// Only the benchmark's unencrypted floor (feature `bench-plaintext`) opens without a key.
    pub(crate) encrypted: bool,
    /// Inside `Registry::batch`: each operation runs in a savepoint of the batch's transaction.
    pub(crate) batching: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("dir", &self.dir)
            .field("member", &self.actor.email)
            .finish_non_exhaustive()
    }
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join(db::DB_FILE)
}

fn read_header(dir: &Path) -> Result<Header> {
    let path = dir.join(HEADER_FILE);
    let bytes = fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CoreError::NotARegistry(format!(
            "{} has no {HEADER_FILE}; create a registry there first",
            dir.display()
        )),
        _ => CoreError::io(format!("reading {}", path.display()), e),
    })?;
    let h: Header = serde_json::from_slice(&bytes).map_err(|_| {
        CoreError::NotARegistry(format!("{} is not a registry header", path.display()))
    })?;
    if h.format != HEADER_FORMAT {
        return Err(CoreError::NotARegistry(format!(
            "{} is not a registry header",
            path.display()
        )));
    }
    Ok(h)
}

pub(crate) fn parse_roles(field: &str, roles: &[String]) -> Result<Vec<Role>> {
    let mut out: Vec<Role> = Vec::new();
    for r in roles {
        for word in r.split(',').filter(|w| !w.trim().is_empty()) {
            let role = Role::parse(field, word)?;
            if !out.contains(&role) {
                out.push(role);
            }
        }
    }
    if out.is_empty() {
        return Err(CoreError::invalid(field, "at least one role is required"));
    }
    out.sort();
    Ok(out)
}

pub(crate) fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()).expect("roles")
}

pub(crate) fn roles_from_json(s: &str) -> Vec<Role> {
    let words: Vec<String> = serde_json::from_str(s).unwrap_or_default();
    words
        .iter()
        .filter_map(|w| Role::parse("roles", w).ok())
        .collect()
}

impl Registry {
    /// Creates a new registry in `dir` (which must be empty or absent) with its first member, an
    /// admin, and returns it unlocked as that member.
    pub fn create(
        dir: &Path,
        input: &CreateRegistry,
        passphrase: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Registry> {
        let org = check_text("org", &input.org, true, 200)?;
        let email = check_email("email", &input.email)?;
        let name = check_text("name", &input.name, true, 200)?;
        let roles = if input.roles.is_empty() {
            vec![Role::Admin, Role::Owner]
        } else {
            let mut r = parse_roles("role", &input.roles)?;
            if !r.contains(&Role::Admin) {
                r.push(Role::Admin);
                r.sort();
            }
            r
        };
        crate::keys::check_new_passphrase(passphrase)?;
        if dir.exists() {
            let mut entries = fs::read_dir(dir)
                .map_err(|e| CoreError::io(format!("reading {}", dir.display()), e))?;
            if dir.join(HEADER_FILE).exists() || db_path(dir).exists() {
                return Err(CoreError::AlreadyExists(format!(
                    "{} already holds a registry; open it instead",
                    dir.display()
                )));
            }
            if entries.next().is_some() {
                return Err(CoreError::invalid(
                    "folder",
                    format!(
                        "{} is not empty; choose an empty or new folder",
                        dir.display()
                    ),
                ));
            }
        }
        fs::create_dir_all(dir)
            .map_err(|e| CoreError::io(format!("creating {}", dir.display()), e))?;

        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let registry_id = hex::encode(id);
        let data_key = DataKey::generate();
        let keys = MemberKeys::generate();
        let slot = SlotFile::create(&registry_id, &email, passphrase, &keys, &data_key)?;

        let profile = db::CipherProfile::NEW;
        let mut conn = db::open(&db_path(dir), &data_key, profile, true)?;
        let now = format_time(clock.now());
        let actor;
        {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('registry_id', ?1), ('org', ?2), ('created_at', ?3)",
                params![registry_id, org, now],
            )?;
            tx.execute(
                "INSERT INTO members (email, name, roles, status, signing_public_key, box_public_key, created_at)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6)",
                params![email, name, roles_json(&roles), keys.signing_public_b64(), keys.box_public_b64(), now],
            )?;
            actor = Actor {
                id: tx.last_insert_rowid(),
                email: email.clone(),
                roles: roles.clone(),
            };
            let w = Tx {
                tx: TxScope::Top(tx),
                actor: &actor,
                keys: &keys,
                registry_id: &registry_id,
                now: now.clone(),
            };
            w.record(
                "registry.create",
                "registry",
                &registry_id,
                json!({ "org": org }),
            )?;
            w.record(
                "member.add",
                "member",
                actor.id,
                json!({ "email": email, "name": name, "roles": roles, "signing_public_key": keys.signing_public_b64() }),
            )?;
            slot.write(&slot_path(dir, &email))?;
            w.tx.commit()?;
        }
        let header = Header {
            format: HEADER_FORMAT.into(),
            registry_id: registry_id.clone(),
            cipher: profile.header_name().map(str::to_string),
        };
        crate::fsutil::write_atomic(
            &dir.join(HEADER_FILE),
            &serde_json::to_vec_pretty(&header).expect("header"),
        )?;
        Ok(Registry {
            dir: dir.to_path_buf(),
            conn,
            clock,
            registry_id,
            actor,
            keys,
            data_key,
            profile,
            encrypted: true,
            batching: false,
        })
    }

    /// Unlocks the registry in `dir` as the member `email`. A wrong passphrase fails before the
    /// database is touched, so it changes no byte on disk.
    pub fn open(
        dir: &Path,
        email: &str,
        passphrase: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Registry> {
        let mut reg = Self::open_unswept(dir, email, passphrase, clock)?;
        // Deadlines and expiries pass while nobody has the registry open: catch up on every open.
        // A failed sweep (say, another program holds the write lock) must not lock the member
        // out; it runs again on the next open, the next interval or `driftwarden sweep`.
        if let Err(e) = reg.sweep() {
            tracing::warn!(code = e.code(), "escalation sweep on open did not run: {e}");
        }
        Ok(reg)
    }

    /// Like `open`, without the escalation sweep (for a caller that runs `sweep` itself and
    /// reports what it did).
    pub fn open_unswept(
        dir: &Path,
        email: &str,
        passphrase: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Registry> {
        Self::open_impl(dir, email, passphrase, clock, true)
    }

    fn open_impl(
        dir: &Path,
        email: &str,
        passphrase: &str,
        clock: Arc<dyn Clock>,
        encrypted: bool,
    ) -> Result<Registry> {
        let header = read_header(dir)?;
        let profile = db::CipherProfile::from_header(header.cipher.as_deref())?;
        let email = check_email("email", email)?;
        let slot_file = slot_path(dir, &email);
        // An unknown member gets the same answer, after the same work, as a wrong passphrase:
        // the error does not tell who is a member.
        let slot = match SlotFile::read(&slot_file) {
            Err(CoreError::NotFound(_)) => {
                let _ = crate::keys::KdfParams::dummy().derive(passphrase);
                return Err(CoreError::WrongPassphrase);
            }
            other => other?,
        };
        if slot.registry_id != header.registry_id {
            return Err(CoreError::Tampered(
                "the key slot belongs to another registry".into(),
            ));
        }
        let (keys, data_key) = slot.unlock(passphrase)?;
        let opened = if encrypted {
            db::open(&db_path(dir), &data_key, profile, false)
        } else {
            db::open_with(&db_path(dir), None, false)
        };
        let (conn, keys, data_key) = match opened {
            Ok(conn) => (conn, keys, data_key),
            Err(CoreError::Tampered(msg)) => {
                // A data-key rotation may have stopped between re-encrypting the database and
                // renaming the re-wrapped slots into place: finish it for this member.
                let pending = pending_slot_path(dir, &email);
                if !pending.exists() {
                    return Err(CoreError::Tampered(msg));
                }
                let next = SlotFile::read(&pending)?;
                let (keys, data_key) = next.unlock(passphrase)?;
                let conn = db::open(&db_path(dir), &data_key, profile, false)?;
                fs::rename(&pending, &slot_file)
                    .map_err(|e| CoreError::io("finishing a key rotation", e))?;
                (conn, keys, data_key)
            }
            Err(e) => return Err(e),
        };
        let stored_id: String = conn.query_row(
            "SELECT value FROM meta WHERE key = 'registry_id'",
            [],
            |r| r.get(0),
        )?;
        if stored_id != header.registry_id {
            return Err(CoreError::Tampered(
                "the database belongs to another registry".into(),
            ));
        }
        let row: Option<(i64, String, String, String)> = conn
            .query_row(
                "SELECT id, roles, status, signing_public_key FROM members WHERE email = ?1",
                [&email],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (id, roles, status, signing_public) = row.ok_or_else(|| {
            CoreError::NotFound("no member with this email in this registry".into())
        })?;
        if status != "active" {
            return Err(CoreError::Forbidden(
                "this member has been offboarded".into(),
            ));
        }
        if signing_public != keys.signing_public_b64() {
            return Err(CoreError::Tampered(
                "the key slot does not match the member record".into(),
            ));
        }
        let actor = Actor {
            id,
            email,
            roles: roles_from_json(&roles),
        };
        Ok(Registry {
            dir: dir.to_path_buf(),
            conn,
            clock,
            registry_id: header.registry_id,
            actor,
            keys,
            data_key,
            profile,
            encrypted,
            batching: false,
        })
    }

    /// Runs `f` in one immediate write transaction as the signed-in member; `f` records the audit
    /// event(s) of its change through `Tx::record`, and both commit together or not at all.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let now = format_time(self.clock.now());
        let tx = if self.batching {
            TxScope::Nested(self.conn.savepoint()?)
        } else {
            TxScope::Top(
                self.conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?,
            )
        };
        let w = Tx {
            tx,
            actor: &self.actor,
            keys: &self.keys,
            registry_id: &self.registry_id,
            now,
        };
        let out = f(&w)?;
        w.tx.commit()?;
        Ok(out)
    }

    /// Runs many operations in one `BEGIN IMMEDIATE` transaction (bulk loads: `dev seed`,
    /// benchmarks). Every operation inside still checks its rules and records its audit event in
    /// that transaction, in its own savepoint: an operation that fails leaves nothing behind and
    /// the batch may go on. If `f` returns an error, the whole batch rolls back. Operations that
    /// write files next to the database (adding, offboarding a member, changing a passphrase)
    /// are refused inside a batch. A nested `batch` joins the outer one.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
        if self.batching {
            return f(self);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.batching = true;
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        self.batching = false;
        match out {
            Ok(Ok(v)) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(e.into())
                }
            },
            Ok(Err(e)) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
            Err(panic) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Benchmarks only (feature `bench-plaintext`): writes an UNENCRYPTED copy of the registry
    /// (database via `sqlcipher_export`, header and key slots) into the new folder `dest`, the
    /// floor the scale benchmark compares SQLCipher with. Admin only.
    #[cfg(feature = "bench-plaintext")]
    pub fn export_unencrypted_copy(&self, dest: &Path) -> Result<()> {
        self.actor
            .require_any(&[Role::Admin], "writing an unencrypted copy")?;
        if dest.exists() {
            return Err(CoreError::AlreadyExists(format!("{}", dest.display())));
        }
        fs::create_dir_all(dest.join("slots"))
            .map_err(|e| CoreError::io("creating the copy", e))?;
        fs::copy(self.dir.join(HEADER_FILE), dest.join(HEADER_FILE))
            .map_err(|e| CoreError::io("copying the header", e))?;
        let slots = fs::read_dir(self.dir.join("slots"))
            .map_err(|e| CoreError::io("reading the slots", e))?;
        for entry in slots {
            let entry = entry.map_err(|e| CoreError::io("reading the slots", e))?;
            fs::copy(entry.path(), dest.join("slots").join(entry.file_name()))
                .map_err(|e| CoreError::io("copying a slot", e))?;
        }
        let target = db_path(dest);
        // The connection was opened without SQLITE_OPEN_CREATE, and ATTACH inherits that: an
        // empty file is an empty database.
        fs::File::create(&target).map_err(|e| CoreError::io("creating the copy", e))?;
        self.conn.execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [target.display().to_string()],
        )?;
        let version: u32 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        self.conn
            .query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))?;
        self.conn.execute_batch(&format!(
            "PRAGMA plain.user_version = {version}; DETACH DATABASE plain;"
        ))?;
        Ok(())
    }

    /// Benchmarks only (feature `bench-plaintext`): `open_unswept` of a copy written by
    /// `export_unencrypted_copy` (the key slot still unlocks; the database takes no key).
    #[cfg(feature = "bench-plaintext")]
    pub fn open_unencrypted_copy(
        dir: &Path,
        email: &str,
        passphrase: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Registry> {
        Self::open_impl(dir, email, passphrase, clock, false)
    }

    /// How the database file is encrypted (see `db::CipherProfile`).
    pub fn cipher_profile(&self) -> db::CipherProfile {
        self.profile
    }

    /// Refuses an operation that writes files beside the database inside a batch (a rolled-back
    /// batch could not take the files back).
    pub(crate) fn refuse_in_batch(&self, what: &str) -> Result<()> {
        if self.batching {
            return Err(CoreError::Conflict(format!(
                "{what} cannot run inside a batch of operations"
            )));
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn member_email(&self) -> &str {
        &self.actor.email
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Who is signed in to which registry.
    pub fn session(&self) -> Result<SessionInfo> {
        let org: String =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'org'", [], |r| r.get(0))?;
        Ok(SessionInfo {
            registry_id: self.registry_id.clone(),
            org,
            dir: self.dir.display().to_string(),
            schema_version: db::SCHEMA_VERSION,
            member: self.member_by_id(self.actor.id)?,
        })
    }

    /// Audit events, oldest first (the newest `limit` when given).
    pub fn audit_log(&self, limit: Option<i64>) -> Result<Vec<audit::AuditEventView>> {
        audit::list(&self.conn, None, limit)
    }

    /// Audit events of one record, oldest first.
    pub fn audit_log_for(
        &self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<audit::AuditEventView>> {
        audit::list(&self.conn, Some((entity_type, entity_id)), None)
    }

    /// A model's decision timeline (what the model page shows, in one call): the audit events of
    /// the model, of its thresholds and of its exceptions, oldest first, and the verified
    /// sign-offs of its approvals and exceptions that those events refer to.
    pub fn model_timeline(&self, model: &str) -> Result<audit::ModelTimeline> {
        let id = crate::ops::models::resolve_model(&self.conn, model)?;
        let events = audit::list_for_model(&self.conn, id)?;
        let reference: String = self.conn.query_row(
            "SELECT name || '@' || version FROM models WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let mut signoffs: Vec<crate::SignoffView> = self
            .list_approvals(&reference)?
            .into_iter()
            .flat_map(|a| a.signoffs)
            .collect();
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT s.entity_id FROM signoffs s JOIN exceptions e ON e.id = s.entity_id
             WHERE s.entity_type = 'exception' AND e.model_id = ?1 ORDER BY s.entity_id",
        )?;
        let signed: Vec<i64> = st
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for exception in signed {
            signoffs.extend(self.exception_signoffs(exception)?);
        }
        signoffs.sort_by_key(|s| s.id);
        Ok(audit::ModelTimeline { events, signoffs })
    }

    /// Sets this connection's page cache to `mib` MiB (1..=1024; 64 by default) and gives the
    /// memory above it back to the system. The desktop keeps a smaller cache than the CLI: it
    /// lives for hours, and its memory counts against the app's budget.
    pub fn set_page_cache_mib(&self, mib: i64) -> Result<()> {
        if !(1..=1024).contains(&mib) {
            return Err(CoreError::invalid("page_cache", "must be 1 to 1024 MiB"));
        }
        db::restore_cache(&self.conn, -mib * 1024)
    }

    /// Recomputes the hash chain (split over the cores, each thread with its own read-only
    /// connection, when the log is long).
    pub fn verify_log(&self) -> Result<audit::VerifyReport> {
        let open = self.reader_opener();
        audit::verify_parallel(&self.conn, &audit::Split::per_core(&open))
    }

    /// `verify_log` split into exactly `threads` pieces (when there are that many events), one
    /// thread each: the same report as one pass. For tests and benchmarks of the split.
    pub fn verify_log_in(&self, threads: usize) -> Result<audit::VerifyReport> {
        let open = self.reader_opener();
        let split = audit::Split {
            threads,
            min_events: 1,
            open: &open,
        };
        audit::verify_parallel(&self.conn, &split)
    }

    /// Opens read-only connections to this database from any thread.
    fn reader_opener(&self) -> impl Fn() -> Result<Connection> + Sync + '_ {
        let path = db_path(&self.dir);
        let key = self.encrypted.then_some((&self.data_key, self.profile));
        move || db::open_reader(&path, key)
    }

    /// Benchmarks only: the reference verification (every event parsed and canonicalised).
    #[cfg(feature = "bench-plaintext")]
    pub fn verify_log_reference(&self) -> Result<audit::VerifyReport> {
        audit::verify_reference(&self.conn)
    }

    /// Verifies the chain from a head verified earlier (its `seq` and `hash`, e.g. as remembered
    /// by `check_head`): event `seq` must still carry `hash`, and every later event is
    /// recomputed. Cheap on open; `verify_log` remains the check of the whole history.
    pub fn verify_log_from(&self, seq: i64, hash: &str) -> Result<audit::VerifyReport> {
        let open = self.reader_opener();
        audit::verify_from_parallel(&self.conn, seq, hash, &audit::Split::per_core(&open))
    }
}

//! Members: add, list, change roles, offboard (which rotates the data key).

use std::fs;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::db;
use crate::domain::{check_email, check_text, MemberStatus, Role};
use crate::error::{CoreError, Result};
use crate::keys::{pending_slot_path, slot_path, DataKey, MemberKeys, SlotFile};
use crate::registry::{parse_roles, roles_from_json, roles_json, Registry};

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MemberView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub status: MemberStatus,
    /// Ed25519 public key (base64) that verifies this member's sign-offs.
    pub signing_public_key: String,
    pub created_at: String,
    pub offboarded_at: Option<String>,
    pub offboard_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AddMember {
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
}

const MEMBER_COLUMNS: &str = "id, email, name, roles, status, signing_public_key, created_at, offboarded_at, offboard_reason";

fn member_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MemberView> {
    let roles: String = r.get(3)?;
    let status: String = r.get(4)?;
    Ok(MemberView {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        roles: roles_from_json(&roles),
        status: if status == "active" {
            MemberStatus::Active
        } else {
            MemberStatus::Offboarded
        },
        signing_public_key: r.get(5)?,
        created_at: r.get(6)?,
        offboarded_at: r.get(7)?,
        offboard_reason: r.get(8)?,
    })
}

/// Looks up an active member by email for use in a field (owner, validator, ...).
pub(crate) fn active_member_id(
    conn: &rusqlite::Connection,
    field: &str,
    email: &str,
) -> Result<i64> {
    let email = check_email(field, email)?;
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, status FROM members WHERE email = ?1",
            [&email],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Err(CoreError::invalid(
            field,
            format!("{email} is not a member of this registry"),
        )),
        Some((_, s)) if s != "active" => Err(CoreError::invalid(
            field,
            format!("{email} has been offboarded"),
        )),
        Some((id, _)) => Ok(id),
    }
}

/// Roles of a member by id.
pub(crate) fn member_roles(conn: &rusqlite::Connection, id: i64) -> Result<Vec<Role>> {
    let roles: String = conn.query_row("SELECT roles FROM members WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    Ok(roles_from_json(&roles))
}

pub(crate) fn email_of(conn: &rusqlite::Connection, id: i64) -> Result<String> {
    Ok(
        conn.query_row("SELECT email FROM members WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

impl Registry {
    pub(crate) fn member_by_id(&self, id: i64) -> Result<MemberView> {
        Ok(self.conn.query_row(
            &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?1"),
            [id],
            member_row,
        )?)
    }

    pub fn member(&self, email: &str) -> Result<MemberView> {
        let email = check_email("email", email)?;
        self.conn
            .query_row(
                &format!("SELECT {MEMBER_COLUMNS} FROM members WHERE email = ?1"),
                [&email],
                member_row,
            )
            .optional()?
            .ok_or_else(|| CoreError::NotFound(format!("member {email}")))
    }

    /// Every member, active and offboarded, in the order they were added.
    pub fn list_members(&self) -> Result<Vec<MemberView>> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {MEMBER_COLUMNS} FROM members ORDER BY id"))?;
        let rows = st
            .query_map([], member_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Adds a member with their own passphrase (admin only). Writes their key slot.
    pub fn add_member(&mut self, input: &AddMember, passphrase: &str) -> Result<MemberView> {
        self.refuse_in_batch("adding a member")?;
        self.actor.require_any(&[Role::Admin], "adding a member")?;
        let email = check_email("email", &input.email)?;
        let name = check_text("name", &input.name, true, 200)?;
        let roles = parse_roles("role", &input.roles)?;
        crate::keys::check_new_passphrase(passphrase)?;
        let keys = MemberKeys::generate();
        let slot = SlotFile::create(&self.registry_id, &email, passphrase, &keys, &self.data_key)?;
        let dir = self.dir.clone();
        let id = self.write(|w| {
            let exists: Option<String> = w
                .query_row("SELECT status FROM members WHERE email = ?1", [&email], |r| r.get(0))
                .optional()?;
            if let Some(status) = exists {
                return Err(CoreError::AlreadyExists(format!("member {email} ({status})")));
            }
            w.execute(
                "INSERT INTO members (email, name, roles, status, signing_public_key, box_public_key, created_at)
                 VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6)",
                params![email, name, roles_json(&roles), keys.signing_public_b64(), keys.box_public_b64(), w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record(
                "member.add",
                "member",
                id,
                json!({ "email": email, "name": name, "roles": roles, "signing_public_key": keys.signing_public_b64() }),
            )?;
            // The slot is written before the commit: if the commit fails, an unused slot remains
            // (it opens nothing without a member row); a committed member always has a slot.
            slot.write(&slot_path(&dir, &email))?;
            Ok(id)
        })?;
        self.member_by_id(id)
    }

    /// Replaces a member's roles (admin only). The last active admin keeps `admin`.
    pub fn set_member_roles(&mut self, email: &str, roles: &[String]) -> Result<MemberView> {
        self.actor.require_any(&[Role::Admin], "changing roles")?;
        let email = check_email("email", email)?;
        let roles = parse_roles("role", roles)?;
        let id = self.write(|w| {
            let id = active_member_id(w, "email", &email)?;
            let before = member_roles(w, id)?;
            if before.contains(&Role::Admin)
                && !roles.contains(&Role::Admin)
                && other_admins(w, id)? == 0
            {
                return Err(CoreError::Conflict(
                    "this is the last admin; make someone else an admin first".into(),
                ));
            }
            w.execute(
                "UPDATE members SET roles = ?1 WHERE id = ?2",
                params![roles_json(&roles), id],
            )?;
            w.record(
                "member.roles",
                "member",
                id,
                json!({ "email": email, "from": before, "to": roles }),
            )?;
            Ok(id)
        })?;
        if id == self.actor.id {
            self.actor.roles = roles;
        }
        self.member_by_id(id)
    }

    /// Offboards a member (admin only): marks them offboarded, rotates the data key
    /// (SQLCipher `rekey`) and re-wraps it for every remaining member, then drops their slot.
    /// Their passphrase, and any copy of their old slot, no longer opens the registry.
    ///
    /// Order, so that a crash at any point leaves a registry that opens: (1) write every remaining
    /// member's re-wrapped slot as `<slot>.next`; (2) re-encrypt the database under the new key;
    /// (3) record the offboarding; (4) rename each `.next` over its slot and remove the
    /// offboarded member's slot. `Registry::open` finishes (4) for a member if it was interrupted.
    pub fn offboard_member(&mut self, email: &str, reason: &str) -> Result<MemberView> {
        self.refuse_in_batch("offboarding a member")?;
        self.actor
            .require_any(&[Role::Admin], "offboarding a member")?;
        let email = check_email("email", email)?;
        let reason = check_text("reason", reason, true, 2000)?;
        let target = active_member_id(&self.conn, "email", &email)?;
        if target == self.actor.id {
            return Err(CoreError::Conflict(
                "you cannot offboard yourself; ask another admin".into(),
            ));
        }
        if member_roles(&self.conn, target)?.contains(&Role::Admin)
            && other_admins(&self.conn, target)? == 0
        {
            return Err(CoreError::Conflict("this is the last admin".into()));
        }
        // Everything they own must have a new owner first (an NHI may instead have its orphaned
        // finding accepted as a risk).
        let owned_models: Vec<String> = {
            let mut st = self.conn.prepare(
                "SELECT name || '@' || version FROM models WHERE owner_id = ?1 AND status != 'retired' ORDER BY name",
            )?;
            let rows = st
                .query_map([target], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            rows
        };
        let owned_nhis: Vec<String> = {
            let mut st = self.conn.prepare(
                "SELECT name FROM nhis n WHERE owner_id = ?1 AND status = 'active' AND NOT EXISTS (
                    SELECT 1 FROM nhi_acceptances a WHERE a.nhi_id = n.id AND a.finding = 'orphaned' AND a.until > ?2)
                 ORDER BY name",
            )?;
            let today = self.clock.now().date_naive().to_string();
            let rows = st
                .query_map(params![target, today], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            rows
        };
        if !owned_models.is_empty() || !owned_nhis.is_empty() {
            let mut parts = Vec::new();
            if !owned_models.is_empty() {
                parts.push(format!("models {}", owned_models.join(", ")));
            }
            if !owned_nhis.is_empty() {
                parts.push(format!("NHIs {}", owned_nhis.join(", ")));
            }
            return Err(CoreError::Conflict(format!(
                "{email} still owns {}; re-assign them (or accept the NHIs' orphaned finding) before offboarding",
                parts.join(" and ")
            )));
        }
        let remaining: Vec<String> = {
            let mut st = self.conn.prepare(
                "SELECT email FROM members WHERE status = 'active' AND id != ?1 ORDER BY id",
            )?;
            let rows = st
                .query_map([target], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            rows
        };
        let new_key = DataKey::generate();
        for m in &remaining {
            let mut slot = SlotFile::read(&slot_path(&self.dir, m))?;
            slot.wrap_data_key(&new_key)?;
            slot.write(&pending_slot_path(&self.dir, m))?;
        }
        crate::fsutil::fault_point("offboard:after-pending-slots");
        db::rekey(&self.conn, &new_key)?;
        crate::fsutil::fault_point("offboard:after-rekey");
        self.data_key = new_key;
        self.write(|w| {
            w.execute(
                "UPDATE members SET status = 'offboarded', offboarded_at = ?1, offboard_reason = ?2 WHERE id = ?3",
                params![w.now, reason, target],
            )?;
            w.execute("UPDATE alert_recipients SET active = 0 WHERE member_id = ?1", [target])?;
            w.record(
                "member.offboard",
                "member",
                target,
                json!({ "email": email, "reason": reason, "data_key_rotated": true }),
            )?;
            Ok(())
        })?;
        crate::fsutil::fault_point("offboard:after-record");
        for m in &remaining {
            fs::rename(pending_slot_path(&self.dir, m), slot_path(&self.dir, m))
                .map_err(|e| CoreError::io("installing a re-wrapped key slot", e))?;
        }
        crate::fsutil::fault_point("offboard:after-rename");
        let old = slot_path(&self.dir, &email);
        if old.exists() {
            fs::remove_file(&old)
                .map_err(|e| CoreError::io("removing the offboarded member's key slot", e))?;
        }
        self.member_by_id(target)
    }
}

impl Registry {
    /// Changes the signed-in member's passphrase. The old one must be right; the member's keys and
    /// the data key stay the same, re-sealed under the new passphrase in a new slot file.
    pub fn change_passphrase(&mut self, old: &str, new: &str) -> Result<()> {
        self.refuse_in_batch("changing a passphrase")?;
        let path = slot_path(&self.dir, &self.actor.email);
        let current = SlotFile::read(&path)?;
        current.unlock(old).map_err(|e| match e {
            CoreError::WrongPassphrase => {
                CoreError::invalid("old_passphrase", "is not your current passphrase")
            }
            other => other,
        })?;
        crate::keys::check_new_passphrase(new).map_err(|e| {
            CoreError::invalid(
                "new_passphrase",
                e.to_string().trim_start_matches("passphrase: ").to_string(),
            )
        })?;
        if old == new {
            return Err(CoreError::invalid(
                "new_passphrase",
                "is the same as the current one",
            ));
        }
        let slot = SlotFile::create(
            &self.registry_id,
            &self.actor.email,
            new,
            &self.keys,
            &self.data_key,
        )?;
        let id = self.actor.id;
        self.write(|w| {
            w.record(
                "member.passphrase",
                "member",
                id,
                json!({ "email": w.actor.email, "changed": true }),
            )?;
            // Written inside the transaction: if the slot cannot be written, nothing is recorded.
            slot.write(&path)?;
            Ok(())
        })
    }
}

fn other_admins(conn: &rusqlite::Connection, except: i64) -> Result<i64> {
    let mut st = conn.prepare("SELECT roles FROM members WHERE status = 'active' AND id != ?1")?;
    let n = st
        .query_map([except], |r| r.get::<_, String>(0))?
        .filter_map(|r| r.ok())
        .filter(|roles| roles_from_json(roles).contains(&Role::Admin))
        .count();
    Ok(n as i64)
}

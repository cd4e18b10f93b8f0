//! Non-human identities: metadata only, never the secret value. Add, link to models, list, show.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::domain::{check_text, parse_date, NhiKind, NhiStatus, Role};
use crate::error::{CoreError, Result};
use crate::ops::members::active_member_id;
use crate::ops::models::{require_owner_or_admin, resolve_model};
use crate::registry::Registry;
use crate::secrets::refuse_secret;

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AddNhi {
    pub name: String,
    pub kind: String,
    pub system: String,
    pub owner: String,
    pub rotation_days: i64,
    /// `YYYY-MM-DD`.
    pub last_rotated: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires: Option<String>,
    pub environment: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiView {
    pub id: i64,
    pub name: String,
    pub kind: NhiKind,
    pub system: String,
    pub owner: String,
    pub environment: Option<String>,
    pub scopes: Vec<String>,
    pub rotation_days: i64,
    pub last_rotated: Option<String>,
    pub expires: Option<String>,
    pub status: NhiStatus,
    /// Display names of the models that depend on it.
    pub linked_models: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiLinkView {
    pub id: i64,
    pub nhi_id: i64,
    pub nhi: String,
    pub model_id: i64,
    pub model: String,
    pub usage: String,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct NhiDetail {
    #[serde(flatten)]
    pub nhi: NhiView,
    pub links: Vec<NhiLinkView>,
}

const NHI_SELECT: &str = "SELECT n.id, n.name, n.kind, n.system, o.email, n.environment, n.scopes,
    n.rotation_days, n.last_rotated, n.expires, n.status, n.created_at, n.updated_at
    FROM nhis n JOIN members o ON o.id = n.owner_id";

fn nhi_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NhiView> {
    let kind: String = r.get(2)?;
    let scopes: String = r.get(6)?;
    let status: String = r.get(10)?;
    Ok(NhiView {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: NhiKind::parse("kind", &kind).unwrap_or(NhiKind::Secret),
        system: r.get(3)?,
        owner: r.get(4)?,
        environment: r.get(5)?,
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        rotation_days: r.get(7)?,
        last_rotated: r.get(8)?,
        expires: r.get(9)?,
        status: NhiStatus::parse("status", &status).unwrap_or(NhiStatus::Active),
        linked_models: Vec::new(),
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

const LINK_SELECT: &str = "SELECT l.id, l.nhi_id, n.name, l.model_id, m.name, m.version,
    (SELECT count(*) FROM models m2 WHERE m2.name = m.name), l.usage, c.email, l.created_at
    FROM nhi_links l JOIN nhis n ON n.id = l.nhi_id JOIN models m ON m.id = l.model_id
    JOIN members c ON c.id = l.created_by";

fn link_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NhiLinkView> {
    let name: String = r.get(4)?;
    let version: String = r.get(5)?;
    let versions: i64 = r.get(6)?;
    Ok(NhiLinkView {
        id: r.get(0)?,
        nhi_id: r.get(1)?,
        nhi: r.get(2)?,
        model_id: r.get(3)?,
        model: if versions > 1 {
            format!("{name}@{version}")
        } else {
            name
        },
        usage: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn nhi_id(conn: &rusqlite::Connection, name: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM nhis WHERE name = ?1", [name.trim()], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| CoreError::NotFound(format!("NHI {}", name.trim())))
}

impl Registry {
    pub(crate) fn nhi_links_of_model(&self, model_id: i64) -> Result<Vec<NhiLinkView>> {
        let mut st = self.conn.prepare(&format!(
            "{LINK_SELECT} WHERE l.model_id = ?1 ORDER BY n.name"
        ))?;
        let rows = st
            .query_map([model_id], link_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn nhi_links_of_nhi(&self, nhi_id: i64) -> Result<Vec<NhiLinkView>> {
        let mut st = self.conn.prepare(&format!(
            "{LINK_SELECT} WHERE l.nhi_id = ?1 ORDER BY m.name, m.version"
        ))?;
        let rows = st
            .query_map([nhi_id], link_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn nhi_by_id(&self, id: i64) -> Result<NhiView> {
        let mut v = self
            .conn
            .query_row(&format!("{NHI_SELECT} WHERE n.id = ?1"), [id], nhi_row)?;
        v.linked_models = self
            .nhi_links_of_nhi(id)?
            .into_iter()
            .map(|l| l.model)
            .collect();
        Ok(v)
    }

    pub fn list_nhis(&self) -> Result<Vec<NhiView>> {
        let mut st = self
            .conn
            .prepare(&format!("{NHI_SELECT} ORDER BY n.name"))?;
        let mut rows = st
            .query_map([], nhi_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut links = self
            .conn
            .prepare(&format!("{LINK_SELECT} ORDER BY m.name, m.version"))?;
        let mut by_nhi: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for l in links.query_map([], link_row)? {
            let l = l?;
            by_nhi.entry(l.nhi_id).or_default().push(l.model);
        }
        for v in &mut rows {
            v.linked_models = by_nhi.remove(&v.id).unwrap_or_default();
        }
        Ok(rows)
    }

    pub fn show_nhi(&self, name: &str) -> Result<NhiDetail> {
        let id = nhi_id(&self.conn, name)?;
        Ok(NhiDetail {
            nhi: self.nhi_by_id(id)?,
            links: self.nhi_links_of_nhi(id)?,
        })
    }

    /// Registers an NHI (admin, owner or engineer). Metadata only: fields that look like a secret
    /// value are refused.
    pub fn add_nhi(&mut self, input: &AddNhi) -> Result<NhiView> {
        self.actor.require_any(
            &[Role::Admin, Role::Owner, Role::Engineer],
            "registering an NHI",
        )?;
        let name = check_text("name", &input.name, true, 200)?;
        refuse_secret("name", &name)?;
        let kind = NhiKind::parse("kind", &input.kind)?;
        let system = check_text("system", &input.system, true, 200)?;
        refuse_secret("system", &system)?;
        if input.rotation_days < 1 {
            return Err(CoreError::invalid(
                "rotation_days",
                "must be a whole number of days, at least 1",
            ));
        }
        if input.rotation_days > 3650 {
            return Err(CoreError::invalid(
                "rotation_days",
                "must be at most 3650 days",
            ));
        }
        let last_rotated = input
            .last_rotated
            .as_deref()
            .map(|d| parse_date("last_rotated", d))
            .transpose()?;
        if let Some(d) = last_rotated {
            if d > self.clock.now().date_naive() {
                return Err(CoreError::invalid("last_rotated", "is in the future"));
            }
        }
        let expires = input
            .expires
            .as_deref()
            .map(|d| parse_date("expires", d))
            .transpose()?;
        let environment = input
            .environment
            .as_deref()
            .map(|e| check_text("environment", e, true, 100))
            .transpose()?;
        if let Some(e) = &environment {
            refuse_secret("environment", e)?;
        }
        let mut scopes = Vec::new();
        for s in &input.scopes {
            let s = check_text("scope", s, true, 500)?;
            refuse_secret("scope", &s)?;
            scopes.push(s);
        }
        let id = self.write(|w| {
            let owner = active_member_id(w, "owner", &input.owner)?;
            let dup: Option<i64> =
                w.query_row("SELECT id FROM nhis WHERE name = ?1", [&name], |r| r.get(0)).optional()?;
            if dup.is_some() {
                return Err(CoreError::invalid("name", format!("an NHI named {name} is already registered")));
            }
            let last = last_rotated.map(|d| d.to_string());
            let exp = expires.map(|d| d.to_string());
            w.execute(
                "INSERT INTO nhis (name, kind, system, owner_id, environment, scopes, rotation_days, last_rotated,
                 expires, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10, ?10)",
                params![name, kind.as_str(), system, owner, environment, serde_json::to_string(&scopes).expect("scopes"),
                        input.rotation_days, last, exp, w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record(
                "nhi.add",
                "nhi",
                id,
                json!({
                    "name": name, "kind": kind, "system": system, "owner": input.owner.trim().to_lowercase(),
                    "environment": environment, "scopes": scopes, "rotation_days": input.rotation_days,
                    "last_rotated": last, "expires": exp,
                }),
            )?;
            Ok(id)
        })?;
        self.nhi_by_id(id)
    }

    /// Links an NHI to a model that depends on it (the model's accountable owner or an admin).
    pub fn link_nhi(&mut self, nhi: &str, model: &str, usage: &str) -> Result<NhiLinkView> {
        let nid = nhi_id(&self.conn, nhi)?;
        let mid = resolve_model(&self.conn, model)?;
        require_owner_or_admin(self, mid, "linking an NHI to a model")?;
        let usage = check_text("usage", usage, true, 1000)?;
        refuse_secret("usage", &usage)?;
        let id = self.write(|w| {
            let dup: Option<i64> = w
                .query_row("SELECT id FROM nhi_links WHERE nhi_id = ?1 AND model_id = ?2", params![nid, mid], |r| r.get(0))
                .optional()?;
            if dup.is_some() {
                return Err(CoreError::AlreadyExists("this NHI is already linked to this model".into()));
            }
            w.execute(
                "INSERT INTO nhi_links (nhi_id, model_id, usage, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![nid, mid, usage, w.actor.id, w.now],
            )?;
            let id = w.last_insert_rowid();
            w.record("nhi.link", "nhi", nid, json!({ "link_id": id, "model_id": mid, "usage": usage }))?;
            Ok(id)
        })?;
        Ok(self
            .conn
            .query_row(&format!("{LINK_SELECT} WHERE l.id = ?1"), [id], link_row)?)
    }
}

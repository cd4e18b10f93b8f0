//! Backups: one file holding an online copy of the encrypted database (SQLite backup API, still
//! encrypted under the registry key, with the registry's cipher profile), the key slots and the
//! header. Nothing in it is plaintext but the header's format, registry id and cipher profile.
//! Restoring unpacks it into a new folder.

use std::fs;
use std::path::{Component, Path};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use serde_json::json;
use ts_rs::TS;

use crate::db::DB_FILE;
use crate::domain::Role;
use crate::error::{CoreError, Result};
use crate::keys::slot_dir;
use crate::registry::{Registry, HEADER_FILE};

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BackupReport {
    pub file: String,
    pub bytes: u64,
    pub slots: usize,
    /// Audit events in the copy.
    pub events: i64,
}

impl Registry {
    /// Writes an encrypted online backup of the registry to `out` (admin or compliance).
    pub fn backup(&mut self, out: &Path) -> Result<BackupReport> {
        self.actor
            .require_any(&[Role::Admin, Role::Compliance], "backing up the registry")?;
        if out.exists() {
            return Err(CoreError::AlreadyExists(format!(
                "{} exists; choose a new file",
                out.display()
            )));
        }
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = tempfile_dir(parent)?;
        let result = (|| -> Result<BackupReport> {
            // The copy is keyed like the original, so the backup API copies encrypted pages.
            let copy_path = staging.join(DB_FILE);
            (|| -> Result<()> {
                let mut dst = Connection::open_with_flags(
                    &copy_path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                )?;
                dst.execute_batch("PRAGMA cipher_log_level = NONE;")?;
                // Same key and cipher profile as the original (the header in the backup names it).
                crate::db::apply_key(&dst, &self.data_key, self.profile)?;
                let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst)?;
                backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
                Ok(())
            })()
            .map_err(|e| {
                CoreError::Io(format!(
                    "writing the backup copy of the database failed ({e}); is the disk full?"
                ))
            })?;
            let events: i64 =
                self.conn
                    .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))?;
            let tmp_out = staging.join("backup.tar");
            let file =
                fs::File::create(&tmp_out).map_err(|e| CoreError::io("creating the backup", e))?;
            let mut tar = tar::Builder::new(file);
            let io = |e: std::io::Error| CoreError::io("writing the backup", e);
            tar.append_path_with_name(self.dir.join(HEADER_FILE), HEADER_FILE)
                .map_err(io)?;
            let mut slots = 0;
            let mut names: Vec<_> = fs::read_dir(slot_dir(&self.dir))
                .map_err(io)?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".slot"))
                .collect();
            names.sort();
            for name in names {
                tar.append_path_with_name(slot_dir(&self.dir).join(&name), format!("slots/{name}"))
                    .map_err(io)?;
                slots += 1;
            }
            tar.append_path_with_name(&copy_path, DB_FILE).map_err(io)?;
            tar.into_inner().map_err(io)?.sync_all().map_err(io)?;
            let bytes = fs::metadata(&tmp_out).map_err(io)?.len();
            fs::rename(&tmp_out, out)
                .map_err(|e| CoreError::io(format!("writing {}", out.display()), e))?;
            Ok(BackupReport {
                file: out.display().to_string(),
                bytes,
                slots,
                events,
            })
        })();
        let _ = fs::remove_dir_all(&staging);
        let report = result?;
        self.write(|w| {
            w.record(
                "registry.backup",
                "registry",
                "backup",
                json!({ "file": report.file, "bytes": report.bytes, "events": report.events }),
            )?;
            Ok(())
        })?;
        Ok(report)
    }
}

fn tempfile_dir(parent: &Path) -> Result<std::path::PathBuf> {
    let mut n = 0u32;
    loop {
        let p = parent.join(format!(".driftwarden-backup-{}-{n}", std::process::id()));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => {
                return Err(CoreError::io(
                    format!("creating a folder in {}", parent.display()),
                    e,
                ))
            }
        }
    }
}

/// Restores a backup file into `dir` (which must not exist or be empty). Open it afterwards with a
/// member's passphrase; its audit log verifies as it was when the backup was taken.
pub fn restore_backup(file: &Path, dir: &Path) -> Result<usize> {
    if dir.exists()
        && fs::read_dir(dir)
            .map_err(|e| CoreError::io(format!("reading {}", dir.display()), e))?
            .next()
            .is_some()
    {
        return Err(CoreError::invalid(
            "to",
            format!("{} is not empty; restore into a new folder", dir.display()),
        ));
    }
    let f = fs::File::open(file)
        .map_err(|e| CoreError::invalid("file", format!("cannot open {}: {e}", file.display())))?;
    let mut archive = tar::Archive::new(f);
    let bad = |why: &str| {
        CoreError::invalid(
            "file",
            format!("{} is not a Driftwarden backup: {why}", file.display()),
        )
    };
    let staging = dir.with_extension("restoring");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(staging.join("slots"))
        .map_err(|e| CoreError::io("creating the restore folder", e))?;
    let result = (|| -> Result<usize> {
        let mut count = 0;
        let (mut header, mut db) = (false, false);
        for entry in archive.entries().map_err(|_| bad("unreadable archive"))? {
            let mut entry = entry.map_err(|_| bad("unreadable entry"))?;
            let path = entry
                .path()
                .map_err(|_| bad("bad entry name"))?
                .into_owned();
            // Only the three kinds of file a backup holds, and no path that leaves the folder.
            if path
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(bad("an entry points outside the folder"));
            }
            let name = path.to_string_lossy().into_owned();
            let ok = name == HEADER_FILE
                || name == DB_FILE
                || (name.starts_with("slots/")
                    && name.ends_with(".slot")
                    && path.components().count() == 2);
            if !ok {
                return Err(bad(&format!("unexpected entry {name}")));
            }
            header |= name == HEADER_FILE;
            db |= name == DB_FILE;
            entry
                .unpack(staging.join(&path))
                .map_err(|e| CoreError::io("restoring", e))?;
            count += 1;
        }
        if !header || !db {
            return Err(bad("the header or the database is missing"));
        }
        Ok(count)
    })();
    match result {
        Ok(count) => {
            if dir.exists() {
                fs::remove_dir(dir)
                    .map_err(|e| CoreError::io(format!("replacing {}", dir.display()), e))?;
            }
            fs::rename(&staging, dir)
                .map_err(|e| CoreError::io(format!("restoring into {}", dir.display()), e))?;
            Ok(count)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

//! The one database opener: keys SQLCipher with the raw data key, sets pragmas, runs versioned
//! migrations (`PRAGMA user_version`) and refuses a registry written by a newer schema.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{CoreError, Result};
use crate::keys::DataKey;

/// Schema migrations in order; entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/v1.sql"),
    include_str!("migrations/v2.sql"),
    include_str!("migrations/v3.sql"),
    include_str!("migrations/v4.sql"),
];

/// The newest schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub const DB_FILE: &str = "registry.db";

/// The page cache of a connection (64 MiB); bulk imports raise it for their transaction.
pub(crate) const CACHE_SIZE_PRAGMA: &str = "PRAGMA cache_size = -65536;";

/// Opens (or, with `create`, creates) the encrypted database and brings its schema up to date.
pub fn open(path: &Path, key: &DataKey, create: bool) -> Result<Connection> {
    open_with(path, Some(key), create)
}

/// `open`; without a key only for the benchmark's unencrypted floor (feature `bench-plaintext`).
pub(crate) fn open_with(path: &Path, key: Option<&DataKey>, create: bool) -> Result<Connection> {
    if !create && !path.exists() {
        return Err(CoreError::NotARegistry(format!(
            "{} does not exist",
            path.display()
        )));
    }
    // SQLite treats an empty file as a new database: a registry truncated to nothing would be
    // "migrated" into a fresh, empty one. Refuse it instead.
    if !create && std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(CoreError::Tampered(format!(
            "{} is empty (truncated or replaced); restore it from a backup",
            path.display()
        )));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    // SQLCipher logs "hmac check failed" to stderr on a wrong key; we report it ourselves.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    if let Some(key) = key {
        let literal = key.sqlcipher_literal();
        let stmt = zeroize::Zeroizing::new(format!("PRAGMA key = {};", literal.as_str()));
        conn.execute_batch(&stmt)?;
    }
    // `PRAGMA key` always succeeds; the first read tells whether the key is right.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => CoreError::Tampered(
                "the database does not open with this key (stale key slot, or a damaged or replaced database)".into(),
            ),
            _ => CoreError::from(e),
        })?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.execute_batch(CACHE_SIZE_PRAGMA)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&conn)?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(CoreError::RegistryNewer {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let to = i as u32 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {to};\nCOMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK;");
            CoreError::Storage(format!("migrating the registry to schema {to}: {e}"))
        })?;
    }
    Ok(())
}

/// Re-encrypts every page under `new_key` (SQLCipher `PRAGMA rekey`).
pub fn rekey(conn: &Connection, new_key: &DataKey) -> Result<()> {
    let literal = new_key.sqlcipher_literal();
    let stmt = zeroize::Zeroizing::new(format!("PRAGMA rekey = {};", literal.as_str()));
    conn.execute_batch(&stmt)?;
    Ok(())
}

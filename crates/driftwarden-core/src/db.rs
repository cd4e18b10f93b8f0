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
    include_str!("migrations/v5.sql"),
    include_str!("migrations/v6.sql"),
    include_str!("migrations/v7.sql"),
    include_str!("migrations/v8.sql"),
];

/// The newest schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub const DB_FILE: &str = "registry.db";

/// The page cache of a connection (64 MiB); bulk imports raise it for their transaction.
pub(crate) const CACHE_SIZE_PRAGMA: &str = "PRAGMA cache_size = -65536;";

/// Sets the connection's page cache (`cache_size`: negative = KiB), e.g. back after a bulk
/// operation raised it, and gives the memory
/// back: SQLite frees the pages beyond the cache (and its unused ones), and glibc returns the
/// freed heap to the system (without `malloc_trim` it keeps it, and the process stays at its
/// peak).
pub(crate) fn restore_cache(conn: &Connection, cache_size: i64) -> Result<()> {
    conn.execute_batch(&format!("PRAGMA cache_size = {cache_size};"))?;
    conn.execute_batch("PRAGMA shrink_memory;")?;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: glibc's malloc_trim only releases free heap pages; it takes no pointers.
        unsafe {
            malloc_trim(0);
        }
    }
    Ok(())
}

/// How the database file is encrypted: SQLCipher's per-page settings, recorded in the registry
/// header (`"cipher"`) so that every opener applies them before the first read instead of
/// guessing. A registry keeps the profile it was created with (backups, restores and `rekey`
/// carry it); new registries get [`CipherProfile::NEW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherProfile {
    /// SQLCipher 4's defaults: 4096-byte pages, AES-256-CBC, HMAC-SHA512 per page. Registries
    /// created before the header named a profile (no `"cipher"` field) use it.
    Sqlcipher4,
    /// 4096-byte pages, AES-256-CBC, HMAC-SHA256 per page: the same construction with a MAC
    /// that CPUs with SHA extensions compute about three times faster than SHA-512.
    Sqlcipher4HmacSha256,
}

impl CipherProfile {
    /// The profile of new registries.
    pub const NEW: CipherProfile = CipherProfile::Sqlcipher4HmacSha256;
    const SHA256_NAME: &'static str = "sqlcipher4-hmac-sha256";

    /// The profile named in a registry header (`None`: a header from before profiles, the
    /// SQLCipher 4 defaults).
    pub fn from_header(name: Option<&str>) -> Result<CipherProfile> {
        match name {
            None => Ok(CipherProfile::Sqlcipher4),
            Some(Self::SHA256_NAME) => Ok(CipherProfile::Sqlcipher4HmacSha256),
            Some(other) => Err(CoreError::NotARegistry(format!(
                "its database uses the storage profile {other:?}, which this version of Driftwarden does not know; update Driftwarden to open it"
            ))),
        }
    }

    /// The name the header records (`None` for the SQLCipher 4 defaults, as older headers).
    pub fn header_name(self) -> Option<&'static str> {
        match self {
            CipherProfile::Sqlcipher4 => None,
            CipherProfile::Sqlcipher4HmacSha256 => Some(Self::SHA256_NAME),
        }
    }

    /// The SQLCipher pragmas, run after `PRAGMA key` and before the first read.
    fn pragmas(self) -> &'static str {
        match self {
            CipherProfile::Sqlcipher4 => "",
            CipherProfile::Sqlcipher4HmacSha256 => {
                "PRAGMA cipher_page_size = 4096; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;"
            }
        }
    }
}

/// Keys a connection with `key` under `profile` (nothing is read yet).
pub(crate) fn apply_key(conn: &Connection, key: &DataKey, profile: CipherProfile) -> Result<()> {
    // Page cryptography for the connection's codec, created by `PRAGMA key` (see page_crypto).
    crate::page_crypto::install();
    let literal = key.sqlcipher_literal();
    let stmt = zeroize::Zeroizing::new(format!("PRAGMA key = {};", literal.as_str()));
    conn.execute_batch(&stmt)?;
    conn.execute_batch(profile.pragmas())?;
    Ok(())
}

/// The first read tells whether the key (and profile) is right: `PRAGMA key` always succeeds.
fn check_readable(conn: &Connection) -> Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => CoreError::Tampered(
                "the database does not open with this key (stale key slot, or a damaged or replaced database)".into(),
            ),
            _ => CoreError::from(e),
        })?;
    Ok(())
}

/// Opens (or, with `create`, creates) the encrypted database and brings its schema up to date.
pub fn open(
    path: &Path,
    key: &DataKey,
    profile: CipherProfile,
    create: bool,
) -> Result<Connection> {
    open_with(path, Some((key, profile)), create)
}

/// A second, read-only connection to an open registry's database (no migration: the first
/// connection did that); for work split over threads, such as verifying the audit chain. `None`
/// only for the benchmark's unencrypted floor.
pub(crate) fn open_reader(
    path: &Path,
    key: Option<(&DataKey, CipherProfile)>,
) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    if let Some((key, profile)) = key {
        apply_key(&conn, key, profile)?;
    }
    check_readable(&conn)?;
    // Readers scan (the log, in order): a small cache holds the B-tree path; a large one would
    // only be filled and turned over, page faults and all.
    conn.execute_batch("PRAGMA cache_size = -2048;")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// `open`; without a key only for the benchmark's unencrypted floor (feature `bench-plaintext`).
pub(crate) fn open_with(
    path: &Path,
    key: Option<(&DataKey, CipherProfile)>,
    create: bool,
) -> Result<Connection> {
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
    if let Some((key, profile)) = key {
        apply_key(&conn, key, profile)?;
    }
    check_readable(&conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.execute_batch(CACHE_SIZE_PRAGMA)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Before migrating: schema 7 fills its NHI flags with these functions.
    crate::ops::nhis::register_sql_functions(&conn)?;
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
    if found < SCHEMA_VERSION {
        // A migration may rewrite a large table (schema 7 does): move it into the database file
        // and empty the write-ahead log now, rather than have every read of this session look
        // its pages up in the log.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Re-encrypts every page under `new_key` (SQLCipher `PRAGMA rekey`), keeping the connection's
/// cipher profile.
pub fn rekey(conn: &Connection, new_key: &DataKey) -> Result<()> {
    let literal = new_key.sqlcipher_literal();
    let stmt = zeroize::Zeroizing::new(format!("PRAGMA rekey = {};", literal.as_str()));
    conn.execute_batch(&stmt)?;
    Ok(())
}

//! Typed errors with a stable `code`. The code is what adapters and the UI branch on; the message
//! is for people. Messages never contain passphrases, keys or secret values.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("wrong passphrase, or this member has no key in this registry")]
    WrongPassphrase,
    #[error("not a Driftwarden registry: {0}")]
    NotARegistry(String),
    #[error("this registry was written by a newer Driftwarden (schema {found}; this version reads up to {supported}); update Driftwarden to open it")]
    RegistryNewer { found: u32, supported: u32 },
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Conflict(String),
    #[error("cannot approve {model}: missing {}", missing.join("; "))]
    GateRefused { model: String, missing: Vec<String> },
    #[error("integrity check failed: {0}")]
    Tampered(String),
    #[error("{0}")]
    Io(String),
    #[error("registry is busy (another program holds the write lock); try again")]
    Busy,
    #[error("storage error: {0}")]
    Storage(String),
}

impl CoreError {
    /// Stable machine-readable code; never changes meaning across versions.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::WrongPassphrase => "wrong_passphrase",
            CoreError::NotARegistry(_) => "not_a_registry",
            CoreError::RegistryNewer { .. } => "registry_newer",
            CoreError::Forbidden(_) => "forbidden",
            CoreError::InvalidInput { .. } => "invalid_input",
            CoreError::NotFound(_) => "not_found",
            CoreError::AlreadyExists(_) => "already_exists",
            CoreError::Conflict(_) => "conflict",
            CoreError::GateRefused { .. } => "gate_refused",
            CoreError::Tampered(_) => "tampered",
            CoreError::Io(_) => "io",
            CoreError::Busy => "busy",
            CoreError::Storage(_) => "storage",
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field an `invalid_input` error is about, so a form can show it next to that field.
    pub fn field(&self) -> Option<&str> {
        match self {
            CoreError::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl std::fmt::Display, err: std::io::Error) -> Self {
        CoreError::Io(format!("{context}: {err}"))
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => CoreError::Busy,
            Some(ErrorCode::NotADatabase) => CoreError::Tampered(
                "the database does not match its key (wrong key or damaged file)".into(),
            ),
            Some(ErrorCode::DatabaseCorrupt) => {
                CoreError::Tampered("the database file is damaged".into())
            }
            Some(ErrorCode::DiskFull) => {
                CoreError::Io("disk full while writing the registry".into())
            }
            Some(ErrorCode::ReadOnly) => CoreError::Io("the registry folder is read-only".into()),
            Some(ErrorCode::SystemIoFailure) => CoreError::Io(format!(
                "reading or writing the registry database failed ({err}): the disk may be full, read-only or failing"
            )),
            Some(ErrorCode::CannotOpen) => CoreError::Io(format!(
                "the registry database cannot be opened for writing ({err}): the registry folder may be read-only or not accessible"
            )),
            _ => CoreError::Storage(err.to_string()),
        }
    }
}

/// The one error shape that crosses the boundary (Tauri commands, CLI `--json`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// For `invalid_input`: the field the message is about.
    pub field: Option<String>,
}

/// The longest message that crosses the boundary: messages quote input (a path, a name), and a
/// caller that sent megabytes must not get megabytes back.
pub const MAX_MESSAGE_BYTES: usize = 2000;

impl From<CoreError> for ErrorBody {
    fn from(err: CoreError) -> Self {
        let mut message = err.to_string();
        if message.len() > MAX_MESSAGE_BYTES {
            let mut cut = MAX_MESSAGE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str("… (shortened)");
        }
        ErrorBody {
            code: err.code().to_string(),
            field: err.field().map(str::to_string),
            message,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

//! Errors of the drift engine. Every input error names the file, and where there is one the line
//! (1-based, the header being line 1) and the column.

use std::fmt;

/// Which input a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Reference,
    Current,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Reference => "reference",
            Side::Current => "current",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("{file}: cannot read: {message}")]
    Io {
        side: Side,
        file: String,
        message: String,
    },
    #[error("{file}: the file is empty (a header row is needed)")]
    Empty { side: Side, file: String },
    #[error("{file}: line {line}: no data rows after the header")]
    NoRows { side: Side, file: String, line: u64 },
    #[error("{file}: line {line}, column {column}: {message}")]
    Ragged {
        side: Side,
        file: String,
        line: u64,
        column: String,
        message: String,
    },
    #[error("{file}: line {line}, column {column}: not valid UTF-8")]
    NotUtf8 {
        side: Side,
        file: String,
        line: u64,
        column: String,
    },
    #[error("{file}: line {line}, column {column}: {value:?} is not a number, but the column is numeric")]
    NotNumeric {
        side: Side,
        file: String,
        line: u64,
        column: String,
        value: String,
    },
    #[error("{file}: line 1: column {column:?} appears more than once in the header")]
    DuplicateColumn {
        side: Side,
        file: String,
        column: String,
    },
    #[error("{file}: line 1: column {column:?} of the reference is missing from the current file's header")]
    MissingColumn {
        side: Side,
        file: String,
        column: String,
    },
    #[error("{file}: column {column}: no values to compare (all {missing} rows are missing)")]
    EmptyColumn {
        side: Side,
        file: String,
        column: String,
        missing: u64,
    },
    #[error("column type override: {column:?} is not a column of {file}")]
    UnknownColumn { file: String, column: String },
    #[error("column type override: {column:?} is given as both numeric and categorical")]
    ConflictingOverride { column: String },
    #[error("{file}: line {line}: {message}")]
    Csv {
        side: Side,
        file: String,
        line: u64,
        message: String,
    },
}

impl DriftError {
    /// The input the error is about: `reference`, `current`, or `column` for a column-type
    /// override. Adapters show the message next to that input.
    pub fn field(&self) -> &'static str {
        match self {
            DriftError::UnknownColumn { .. } | DriftError::ConflictingOverride { .. } => "column",
            DriftError::Io { side, .. }
            | DriftError::Empty { side, .. }
            | DriftError::NoRows { side, .. }
            | DriftError::Ragged { side, .. }
            | DriftError::NotUtf8 { side, .. }
            | DriftError::NotNumeric { side, .. }
            | DriftError::DuplicateColumn { side, .. }
            | DriftError::MissingColumn { side, .. }
            | DriftError::EmptyColumn { side, .. }
            | DriftError::Csv { side, .. } => side.as_str(),
        }
    }

    /// The line (1-based, header = 1) the error is on, where it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            DriftError::NoRows { line, .. }
            | DriftError::Ragged { line, .. }
            | DriftError::NotUtf8 { line, .. }
            | DriftError::NotNumeric { line, .. }
            | DriftError::Csv { line, .. } => Some(*line),
            DriftError::DuplicateColumn { .. } | DriftError::MissingColumn { .. } => Some(1),
            _ => None,
        }
    }

    /// The column the error is about, where it is about one.
    pub fn column(&self) -> Option<&str> {
        match self {
            DriftError::Ragged { column, .. }
            | DriftError::NotUtf8 { column, .. }
            | DriftError::NotNumeric { column, .. }
            | DriftError::DuplicateColumn { column, .. }
            | DriftError::MissingColumn { column, .. }
            | DriftError::EmptyColumn { column, .. }
            | DriftError::UnknownColumn { column, .. }
            | DriftError::ConflictingOverride { column } => Some(column),
            _ => None,
        }
    }
}

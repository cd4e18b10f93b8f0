//! Streaming CSV input. One `ByteRecord` is reused for the whole file; a numeric cell becomes an
//! `f64` pushed onto its column, a categorical cell a count in its column's map (a key is
//! allocated only the first time a category is seen). Nothing else is allocated per row.
//!
//! Missing values follow pandas' `read_csv` defaults, which is what Evidently sees: the cell is
//! one of pandas' NA tokens (the empty string, `NA`, `NaN`, `null`, …). In a numeric column ±inf
//! are missing too (Evidently replaces them by NaN and drops them). Missing cells are counted per
//! column, never silently dropped.
//!
//! Type inference follows pandas as well: a column is numeric when every non-missing cell of it
//! parses as a number in both files, else categorical (its values are then the cells' text, as
//! in a pandas `object` column). A column whose first cells are numbers and a later one is not is
//! re-read as categorical: the only case that needs a second pass over a file.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use crate::error::{DriftError, Side};

/// What to do with one column while reading a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Numeric while every value parses as a number; categorical otherwise.
    Infer,
    /// Numeric, and a cell that is not a number is an error (a `--numeric` override).
    Numeric,
    /// Categorical, counted by text (a `--categorical` override, or a re-read).
    Categorical,
    /// Not read (only in a re-read).
    Skip,
}

pub(crate) type Counts = FxHashMap<Box<[u8]>, u64>;

pub(crate) enum Acc {
    Numeric {
        values: Vec<f64>,
        /// Every cell so far is an integer literal (pandas would give the column an int dtype
        /// if there are no missing cells either).
        all_int: bool,
        /// A ±inf was read (and counted missing): if the column turns out not to be numeric,
        /// those cells are text categories, so the column must be re-read.
        saw_inf: bool,
    },
    Categorical(Counts),
    /// Was numeric, then a cell was not a number: to be re-read as categorical.
    Demoted,
    Skipped,
}

pub(crate) struct ColAcc {
    pub acc: Acc,
    pub missing: u64,
}

impl ColAcc {
    /// pandas would read this column with an integer dtype.
    pub fn int_dtype(&self) -> bool {
        matches!(self.acc, Acc::Numeric { all_int: true, .. }) && self.missing == 0
    }
}

pub(crate) struct FileData {
    pub rows: u64,
    /// One per reference column, in reference order.
    pub cols: Vec<ColAcc>,
}

/// Counts bytes as they are read, for the progress callback.
struct Counting<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub(crate) struct Input<'a> {
    pub side: Side,
    pub path: &'a Path,
    pub file: String,
}

impl Input<'_> {
    fn io(&self, e: impl std::fmt::Display) -> DriftError {
        DriftError::Io {
            side: self.side,
            file: self.file.clone(),
            message: e.to_string(),
        }
    }

    fn csv_error(&self, e: csv::Error) -> DriftError {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            csv::ErrorKind::Io(io) => self.io(io),
            other => DriftError::Csv {
                side: self.side,
                file: self.file.clone(),
                line,
                message: format!("{other:?}"),
            },
        }
    }

    fn open<'c>(
        &self,
        counter: &'c AtomicU64,
    ) -> Result<csv::Reader<Counting<'c, File>>, DriftError> {
        let f = File::open(self.path).map_err(|e| self.io(e))?;
        Ok(csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(Counting { inner: f, counter }))
    }

    pub fn size(&self) -> u64 {
        std::fs::metadata(self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// The header row: column names, checked for UTF-8 and duplicates.
    pub fn header(&self) -> Result<Vec<String>, DriftError> {
        let counter = AtomicU64::new(0);
        let mut rdr = self.open(&counter)?;
        let mut rec = csv::ByteRecord::new();
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| self.csv_error(e))?
        {
            return Err(DriftError::Empty {
                side: self.side,
                file: self.file.clone(),
            });
        }
        let mut names = Vec::with_capacity(rec.len());
        for (i, field) in rec.iter().enumerate() {
            let field = if i == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            let name = std::str::from_utf8(field).map_err(|_| DriftError::NotUtf8 {
                side: self.side,
                file: self.file.clone(),
                line: 1,
                column: format!("#{} (header)", i + 1),
            })?;
            if names.iter().any(|n: &String| n == name) {
                return Err(DriftError::DuplicateColumn {
                    side: self.side,
                    file: self.file.clone(),
                    column: name.to_string(),
                });
            }
            names.push(name.to_string());
        }
        Ok(names)
    }

    /// Reads every data row. `slot_of_field[i]` is the reference column that field `i` of this
    /// file feeds (None: not read); `header` is this file's header (for error messages).
    pub fn read(
        &self,
        header: &[String],
        slot_of_field: &[Option<usize>],
        plans: &[Plan],
        counter: &AtomicU64,
        progress: &(dyn Fn() + Sync),
    ) -> Result<FileData, DriftError> {
        let mut cols: Vec<ColAcc> = plans
            .iter()
            .map(|p| ColAcc {
                acc: match p {
                    Plan::Infer | Plan::Numeric => Acc::Numeric {
                        values: Vec::new(),
                        all_int: true,
                        saw_inf: false,
                    },
                    Plan::Categorical => Acc::Categorical(Counts::default()),
                    Plan::Skip => Acc::Skipped,
                },
                missing: 0,
            })
            .collect();
        let total = self.size();
        let mut rdr = self.open(counter)?;
        let mut rec = csv::ByteRecord::new();
        // The header (already checked).
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| self.csv_error(e))?
        {
            return Err(DriftError::Empty {
                side: self.side,
                file: self.file.clone(),
            });
        }
        let width = header.len();
        let mut rows: u64 = 0;
        let mut next_progress: u64 = 1 << 23;
        while rdr
            .read_byte_record(&mut rec)
            .map_err(|e| self.csv_error(e))?
        {
            rows += 1;
            if rec.len() != width {
                return Err(self.ragged(&rec, header));
            }
            for (fi, field) in rec.iter().enumerate() {
                let Some(slot) = slot_of_field[fi] else {
                    continue;
                };
                let col = &mut cols[slot];
                match &mut col.acc {
                    Acc::Numeric {
                        values,
                        all_int,
                        saw_inf,
                    } => match parse_number(field) {
                        Cell::Number(v) => {
                            values.push(v);
                            if *all_int && !is_int_literal(field) {
                                *all_int = false;
                            }
                        }
                        Cell::Infinite => {
                            col.missing += 1;
                            *saw_inf = true;
                        }
                        Cell::Missing => col.missing += 1,
                        Cell::Text => {
                            if std::str::from_utf8(field).is_err() {
                                return Err(self.not_utf8(&rec, &header[fi]));
                            }
                            if plans[slot] == Plan::Numeric {
                                return Err(DriftError::NotNumeric {
                                    side: self.side,
                                    file: self.file.clone(),
                                    line: line_of(&rec),
                                    column: header[fi].clone(),
                                    value: String::from_utf8_lossy(field).into_owned(),
                                });
                            }
                            if values.is_empty() && !*saw_inf {
                                // A categorical column (the usual case: known at its first value).
                                let mut counts = Counts::default();
                                counts.insert(field.into(), 1);
                                col.acc = Acc::Categorical(counts);
                            } else {
                                col.acc = Acc::Demoted;
                            }
                        }
                    },
                    Acc::Categorical(counts) => {
                        if is_na(field) {
                            col.missing += 1;
                        } else if let Some(c) = counts.get_mut(field) {
                            *c += 1;
                        } else {
                            if std::str::from_utf8(field).is_err() {
                                return Err(self.not_utf8(&rec, &header[fi]));
                            }
                            counts.insert(field.into(), 1);
                        }
                    }
                    Acc::Demoted | Acc::Skipped => {}
                }
            }
            if rows == 256 {
                reserve(&mut cols, &rec, rows, total);
            }
            if counter.load(Ordering::Relaxed) >= next_progress {
                next_progress += 1 << 23;
                progress();
            }
        }
        if rows == 0 {
            return Err(DriftError::NoRows {
                side: self.side,
                file: self.file.clone(),
                line: 2,
            });
        }
        Ok(FileData { rows, cols })
    }

    fn ragged(&self, rec: &csv::ByteRecord, header: &[String]) -> DriftError {
        let (found, expected) = (rec.len(), header.len());
        let (column, message) = if found < expected {
            (
                header[found].clone(),
                format!(
                    "the row has {found} fields but the header has {expected}: this column and those after it are missing"
                ),
            )
        } else {
            (
                format!(
                    "#{} (after the last column, {})",
                    expected + 1,
                    header[expected - 1]
                ),
                format!("the row has {found} fields but the header has {expected}"),
            )
        };
        DriftError::Ragged {
            side: self.side,
            file: self.file.clone(),
            line: line_of(rec),
            column,
            message,
        }
    }

    fn not_utf8(&self, rec: &csv::ByteRecord, column: &str) -> DriftError {
        DriftError::NotUtf8 {
            side: self.side,
            file: self.file.clone(),
            line: line_of(rec),
            column: column.to_string(),
        }
    }
}

fn line_of(rec: &csv::ByteRecord) -> u64 {
    rec.position().map(|p| p.line()).unwrap_or(0)
}

/// After the first rows, reserve the numeric columns' vectors for the whole file (estimated
/// from its size), so that they are not grown by doubling: this keeps the peak memory near the
/// data's own size.
fn reserve(cols: &mut [ColAcc], rec: &csv::ByteRecord, rows: u64, total: u64) {
    let Some(pos) = rec.position() else { return };
    let done = pos.byte().max(1);
    let estimate = (total as f64 / done as f64 * rows as f64 * 1.02) as usize + 16;
    for c in cols {
        if let Acc::Numeric { values, .. } = &mut c.acc {
            values.reserve(estimate.saturating_sub(values.len()));
        }
    }
}

enum Cell {
    Number(f64),
    Infinite,
    Missing,
    Text,
}

/// pandas' default NA tokens (`read_csv(na_values=None, keep_default_na=True)`).
pub(crate) fn is_na(field: &[u8]) -> bool {
    matches!(
        field,
        b"" | b"#N/A"
            | b"#N/A N/A"
            | b"#NA"
            | b"-1.#IND"
            | b"-1.#QNAN"
            | b"-NaN"
            | b"-nan"
            | b"1.#IND"
            | b"1.#QNAN"
            | b"<NA>"
            | b"N/A"
            | b"NA"
            | b"NULL"
            | b"NaN"
            | b"None"
            | b"n/a"
            | b"nan"
            | b"null"
    )
}

fn trim(field: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = field
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &field[start..end]
}

fn parse_number(field: &[u8]) -> Cell {
    let t = trim(field);
    // Both parsers are correctly rounded, so they give the same double; std's accepts a few
    // more spellings.
    let parsed = fast_float2::parse::<f64, _>(t).ok().or_else(|| {
        std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
    });
    match parsed {
        Some(v) if v.is_finite() => Cell::Number(v),
        Some(v) if v.is_infinite() => Cell::Infinite,
        // NaN: missing only if it is one of pandas' NA tokens ("nan", "NaN", "-nan", …).
        _ if is_na(field) => Cell::Missing,
        _ => Cell::Text,
    }
}

fn is_int_literal(field: &[u8]) -> bool {
    let t = trim(field);
    let digits = match t.first() {
        Some(b'+') | Some(b'-') => &t[1..],
        _ => t,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn cells() {
        assert!(matches!(parse_number(b"1.5"), Cell::Number(v) if v == 1.5));
        assert!(matches!(parse_number(b" -2e3 "), Cell::Number(v) if v == -2000.0));
        assert!(matches!(parse_number(b"inf"), Cell::Infinite));
        assert!(matches!(parse_number(b"-Infinity"), Cell::Infinite));
        assert!(matches!(parse_number(b""), Cell::Missing));
        assert!(matches!(parse_number(b"NA"), Cell::Missing));
        assert!(matches!(parse_number(b"nan"), Cell::Missing));
        assert!(matches!(parse_number(b"NAN"), Cell::Text));
        assert!(matches!(parse_number(b"a01"), Cell::Text));
        assert!(is_int_literal(b"-12") && is_int_literal(b"7"));
        assert!(!is_int_literal(b"1.0") && !is_int_literal(b"1e3") && !is_int_literal(b"-"));
    }
}

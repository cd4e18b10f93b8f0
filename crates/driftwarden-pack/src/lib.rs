//! Audit packs: a signed, self-verifying folder an auditor can check without trusting the app.
//!
//! [`write_pack`] turns the core's [`PackData`] into a folder:
//!
//! ```text
//! report.pdf              the typeset report (typst, templates/report.typ)
//! csv/<table>.csv         every table in scope, RFC 4180, UTF-8, header row
//! data/<table>.json       the same tables as JSON (the core's transport types, as they are)
//! data/pack.json          scope, exporter, executive summary, NHI posture, chain status
//! audit-log.jsonl         the log extract: header, events / gaps, head (see `auditlog`)
//! README.txt              what the files are and how to verify them
//! signer.pub              the exporting member's Ed25519 key in minisign's format
//! manifest.json           every file above with its size and SHA-256, scope, members' keys
//! manifest.json.minisig   minisign signature of manifest.json by the exporting member
//! ```
//!
//! [`verify_pack`] checks all of it and returns one pass/fail line per check.
//!
//! Memory does not grow with the registry's measurements or events: with
//! [`write_pack_with`] and a [`Registry`] (the CLI and the desktop), the measurements and the log
//! extract are streamed from SQL cursors into their files, hashed as they are written; the report
//! keeps bounded summaries of them (charts of at most 240 points per series, per-model counts).

mod auditlog;
mod mapping;
mod minisign;
#[cfg(feature = "report")]
mod report;
/// Built without the `report` feature (the fuzz targets): packs cannot be written.
#[cfg(not(feature = "report"))]
mod report {
    use crate::{auditlog::Extract, MappingRow, PackData, PackError};
    use driftwarden_core::{AuditEntry, MeasurementView};

    pub struct Rendered {
        pub pdf: Vec<u8>,
        pub pages: usize,
    }

    /// Nothing to gather without a report.
    pub struct Gather;

    impl Gather {
        pub fn new(_: &PackData) -> Self {
            Gather
        }
        pub fn measurement(&mut self, _: &MeasurementView) {}
        pub fn audit(&mut self, _: &AuditEntry) {}
    }

    pub fn render(
        _: &PackData,
        _: &[MappingRow],
        _: &[u8; 32],
        _: &Extract,
        _: Gather,
        _: usize,
    ) -> Result<Rendered, PackError> {
        Err(PackError::Render(
            "this build has no report renderer (the \"report\" feature is off)".into(),
        ))
    }
}
mod tables;
mod verify;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use driftwarden_core::{AuditEntry, CoreError, MeasurementView, PackData, Registry};

pub use mapping::{mapping_rows, mapping_rows_counted, MappingRow, StreamCounts};
pub use minisign::{
    key_id, key_id_hex, parse_public_key_file, parse_signature_file, public_key_file,
    verify as verify_minisign, SignatureFile,
};
pub use verify::{verify_pack, Check, VerifyOutcome};

/// The pack format this crate writes and verifies.
pub const FORMAT: &str = "driftwarden-pack-v1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.json.minisig";
pub const SIGNER_PUB: &str = "signer.pub";
pub const REPORT: &str = "report.pdf";
pub const AUDIT_LOG: &str = "audit-log.jsonl";
pub const README: &str = "README.txt";

/// The tables of a pack, in the order they are written (`csv/<name>.csv`, `data/<name>.json`).
pub const TABLES: &[&str] = &[
    "members",
    "models",
    "decision_rights",
    "thresholds",
    "approvals",
    "measurements",
    "exceptions",
    "escalations",
    "decisions",
    "nhis",
    "nhi_findings",
    "links",
    "framework_mapping",
];

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{0} exists and is not empty; choose a new or empty folder")]
    NotEmpty(PathBuf),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("the report could not be typeset: {0}")]
    Render(String),
    #[error("the pack data is inconsistent: {0}")]
    Data(String),
    /// A file of the pack could not be written (the message names it).
    #[error("{0}")]
    Write(String),
    /// Reading the registry failed while the pack was being written.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl PackError {
    fn io(path: &Path, err: impl std::fmt::Display) -> Self {
        PackError::Io {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }
}

impl From<PackError> for CoreError {
    fn from(e: PackError) -> Self {
        match e {
            PackError::NotEmpty(_) => CoreError::invalid("out", e.to_string()),
            PackError::Io { .. } | PackError::Write(_) => CoreError::Io(e.to_string()),
            PackError::Render(_) | PackError::Data(_) => CoreError::Conflict(e.to_string()),
            PackError::Core(e) => e,
        }
    }
}

/// What [`write_pack`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PackSummary {
    pub dir: PathBuf,
    /// Files listed in the manifest (the manifest and its signature come on top).
    pub files: usize,
    pub bytes: u64,
    pub models: usize,
    pub exceptions: usize,
    pub signoffs: usize,
    pub measurements: usize,
    /// Events in the log extract in full, and gap lines standing for events outside the scope.
    pub audit_events: usize,
    pub audit_gaps: usize,
    pub report_pages: usize,
    /// The signing key as minisign prints it.
    pub key_id: String,
    pub manifest_sha256: String,
}

/// One file in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A member's signing key in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub status: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
    /// minisign key id of that key.
    pub key_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestAudit {
    pub file: String,
    pub events_total: i64,
    pub head: String,
    pub verified_in_registry: bool,
    pub events_in_extract: usize,
    pub gaps_in_extract: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub registry_id: String,
    pub org: String,
    pub exported_at: String,
    pub exported_by: KeyEntry,
    pub scope: driftwarden_core::PackScope,
    pub members: Vec<KeyEntry>,
    pub audit_log: ManifestAudit,
    pub files: Vec<FileEntry>,
}

/// A file of the pack being written piece by piece: buffered, hashed and counted as it goes, so
/// its manifest entry needs no second read and no copy in memory.
pub(crate) struct FileOut {
    path: PathBuf,
    rel: String,
    file: std::fs::File,
    buf: Vec<u8>,
    hasher: Sha256,
    size: u64,
    /// `DRIFTWARDEN_FAULT` is set (tests): writes go through the fault injector. Read once per
    /// file, not once per write.
    faults: bool,
}

const FILE_BUFFER: usize = 256 * 1024;

impl FileOut {
    pub(crate) fn create(dir: &Path, rel: &str) -> Result<Self, PackError> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PackError::io(parent, e))?;
        }
        let file = std::fs::File::create(&path).map_err(|e| PackError::io(&path, e))?;
        Ok(FileOut {
            path,
            rel: rel.to_string(),
            file,
            buf: Vec::with_capacity(FILE_BUFFER),
            hasher: Sha256::new(),
            size: 0,
            faults: std::env::var_os("DRIFTWARDEN_FAULT").is_some(),
        })
    }

    /// An error while writing: those of the file itself already name it.
    pub(crate) fn error(&self, e: impl std::fmt::Display) -> PackError {
        let message = e.to_string();
        if message.contains(&*self.path.to_string_lossy()) {
            PackError::Write(message)
        } else {
            PackError::io(&self.path, message)
        }
    }

    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), PackError> {
        std::io::Write::write_all(self, bytes).map_err(|e| self.error(e))
    }

    /// Hashes and writes out what is buffered.
    fn drain(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.hasher.update(&self.buf);
        self.size += self.buf.len() as u64;
        let written = if self.faults {
            driftwarden_core::fsutil::write_all_or_fault(&self.path, &mut self.file, &self.buf)
        } else {
            std::io::Write::write_all(&mut self.file, &self.buf)
        };
        self.buf.clear();
        written.map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
    }

    pub(crate) fn finish(mut self) -> Result<FileEntry, PackError> {
        self.drain().map_err(|e| PackError::Write(e.to_string()))?;
        Ok(FileEntry {
            path: self.rel,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

impl std::io::Write for FileOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= FILE_BUFFER {
            self.drain()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.drain()
    }
}

/// A JSON array written element by element (one element per line).
pub(crate) struct JsonArray {
    out: FileOut,
    n: usize,
}

impl JsonArray {
    pub(crate) fn new(out: FileOut) -> Self {
        JsonArray { out, n: 0 }
    }

    pub(crate) fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), PackError> {
        self.out
            .write_bytes(if self.n == 0 { b"[\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut self.out, v).map_err(|e| self.out.error(e))?;
        self.n += 1;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<FileEntry, PackError> {
        self.out
            .write_bytes(if self.n == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.finish()
    }
}

/// Where the two unbounded tables of a pack come from: the measurements and the audit-log
/// extract. A [`Registry`] streams them from its cursors ([`Registry::pack_outline`] gives the
/// rest); [`Loaded`] reads them from a [`PackData`] that holds them (`Registry::pack_data`).
pub trait PackRows {
    fn measurements(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(MeasurementView) -> Result<(), CoreError>,
    ) -> Result<(), CoreError>;
    fn audit(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(AuditEntry) -> Result<(), CoreError>,
    ) -> Result<(), CoreError>;
}

impl PackRows for Registry {
    fn measurements(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(MeasurementView) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        self.pack_measurements(data, f)
    }
    fn audit(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(AuditEntry) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        self.pack_audit(data, f)
    }
}

/// The measurements and log extract held in the [`PackData`] itself.
pub struct Loaded;

impl PackRows for Loaded {
    fn measurements(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(MeasurementView) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        data.measurements.iter().cloned().try_for_each(f)
    }
    fn audit(
        &self,
        data: &PackData,
        f: &mut dyn FnMut(AuditEntry) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        data.audit.iter().cloned().try_for_each(f)
    }
}

/// Runs a streaming source whose callback can fail with a [`PackError`]: the callback's error
/// wins over the placeholder the source passes on.
fn stream<T>(
    run: impl FnOnce(&mut dyn FnMut(T) -> Result<(), CoreError>) -> Result<(), CoreError>,
    mut each: impl FnMut(T) -> Result<(), PackError>,
) -> Result<(), PackError> {
    let mut failed: Option<PackError> = None;
    let r = run(&mut |x| match each(x) {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            failed = Some(e);
            Err(CoreError::Io(msg))
        }
    });
    match (failed, r) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(PackError::Core(e)),
        (None, Ok(())) => Ok(()),
    }
}

fn write_file(dir: &Path, rel: &str, bytes: &[u8]) -> Result<FileEntry, PackError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PackError::io(parent, e))?;
    }
    std::fs::File::create(&path)
        .and_then(|mut f| driftwarden_core::fsutil::write_all_or_fault(&path, &mut f, bytes))
        .map_err(|e| PackError::io(&path, e))?;
    Ok(FileEntry {
        path: rel.to_string(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

fn key_entry(
    email: &str,
    name: &str,
    roles: Vec<String>,
    status: &str,
    pk_b64: &str,
) -> Result<KeyEntry, PackError> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(pk_b64)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .ok_or_else(|| PackError::Data(format!("{email}'s public key is malformed")))?;
    Ok(KeyEntry {
        email: email.to_string(),
        name: name.to_string(),
        roles,
        status: status.to_string(),
        public_key: pk_b64.to_string(),
        key_id: key_id_hex(&key_id(&raw)),
    })
}

/// Checks `out_dir` is new or empty, then creates it.
fn prepare_dir(out_dir: &Path) -> Result<(), PackError> {
    if out_dir.exists() {
        let mut entries = std::fs::read_dir(out_dir).map_err(|e| PackError::io(out_dir, e))?;
        if entries.next().is_some() {
            return Err(PackError::NotEmpty(out_dir.to_path_buf()));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| PackError::io(out_dir, e))
}

/// Writes an audit pack of `data` (`Registry::pack_data`, measurements and log extract held in
/// it) into `out_dir` (new or empty). `signer` signs bytes with the exporting member's Ed25519
/// key (`Registry::sign_with_my_key`); its public key must be the exporting member's. `progress`
/// receives a stage name and a percentage.
pub fn write_pack(
    data: &PackData,
    signer: &dyn Fn(&[u8]) -> [u8; 64],
    out_dir: &Path,
    progress: &mut dyn FnMut(&str, u32),
) -> Result<PackSummary, PackError> {
    write_pack_with(data, &Loaded, signer, out_dir, progress)
}

/// Writes an audit pack whose measurements and log extract come from `rows` as a stream: with a
/// [`Registry`] and its `pack_outline`, memory does not grow with the number of measurements
/// or events. Otherwise as [`write_pack`].
pub fn write_pack_with(
    data: &PackData,
    rows: &dyn PackRows,
    signer: &dyn Fn(&[u8]) -> [u8; 64],
    out_dir: &Path,
    progress: &mut dyn FnMut(&str, u32),
) -> Result<PackSummary, PackError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    if data.format != FORMAT {
        return Err(PackError::Data(format!(
            "format {:?}, this writer makes {FORMAT}",
            data.format
        )));
    }
    let exporter_pk: [u8; 32] = b64
        .decode(&data.exported_by.signing_public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| PackError::Data("the exporting member's key is malformed".into()))?;
    // The signer must hold the exporting member's key: check with a probe signature.
    {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let probe = b"driftwarden-pack-v1 signer probe";
        let ok = VerifyingKey::from_bytes(&exporter_pk)
            .map(|vk| {
                vk.verify(probe, &Signature::from_bytes(&signer(probe)))
                    .is_ok()
            })
            .unwrap_or(false);
        if !ok {
            return Err(PackError::Data(
                "the signing key is not the exporting member's key".into(),
            ));
        }
    }
    prepare_dir(out_dir)?;
    let written = write_contents(data, rows, signer, out_dir, progress, exporter_pk);
    if written.is_err() {
        // A pack that stopped half-way (a full disk, say) must not be left looking like one:
        // take back every file written so far and leave the folder empty.
        if let Ok(entries) = std::fs::read_dir(out_dir) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    written
}

/// The files of a pack, written into the prepared (empty) `out_dir`.
fn write_contents(
    data: &PackData,
    rows: &dyn PackRows,
    signer: &dyn Fn(&[u8]) -> [u8; 64],
    out_dir: &Path,
    progress: &mut dyn FnMut(&str, u32),
    exporter_pk: [u8; 32],
) -> Result<PackSummary, PackError> {
    let mut files: Vec<FileEntry> = Vec::new();
    let id = key_id(&exporter_pk);
    let mut gather = report::Gather::new(data);
    let mut counts = StreamCounts::default();

    // The log extract, line by line from the registry's cursor.
    progress("audit log", 5);
    let mut extract = auditlog::ExtractWriter::create(out_dir, data)?;
    let total = data.audit_chain.events_total.max(1);
    let mut shown = 5;
    stream(
        |f| rows.audit(data, f),
        |entry| {
            let seq = match &entry {
                AuditEntry::Event(e) => e.seq,
                AuditEntry::Gap { last_seq, .. } => *last_seq,
            };
            let pct = 5 + (seq.clamp(0, total) * 20 / total) as u32;
            if pct > shown {
                shown = pct;
                progress("audit log", pct);
            }
            if matches!(entry, AuditEntry::Event(_)) {
                counts.events += 1;
            }
            gather.audit(&entry);
            extract.push(&entry)
        },
    )?;
    let extract = extract.finish(data)?;
    files.push(extract.entry.clone());

    // The measurements, row by row.
    progress("measurements", 25);
    let names: std::collections::HashMap<i64, &str> = data
        .models
        .iter()
        .map(|m| (m.id, m.display_name.as_str()))
        .collect();
    let mut table = tables::TableOut::open(out_dir, "measurements", tables::MEASUREMENT_HEADER)?;
    let models = data.models.len().max(1);
    let (mut last_model, mut models_seen, mut shown) = (None, 0usize, 25);
    stream(
        |f| rows.measurements(data, f),
        |m| {
            if last_model != Some(m.model_id) {
                last_model = Some(m.model_id);
                models_seen += 1;
                let pct = 25 + (models_seen.min(models) * 30 / models) as u32;
                if pct > shown {
                    shown = pct;
                    progress("measurements", pct);
                }
            }
            counts.measurements += 1;
            if m.evaluation != "none" {
                counts.evaluated += 1;
            }
            let name = names.get(&m.model_id).copied().unwrap_or("");
            table.row(&tables::measurement_cells(&m, name), &m)?;
            gather.measurement(&m);
            Ok(())
        },
    )?;
    files.extend(table.finish()?);

    progress("tables", 55);
    let mapping = mapping_rows_counted(data, counts);
    tables::write(data, &mapping, out_dir, &mut files)?;
    files.push(write_file(
        out_dir,
        "data/pack.json",
        &tables::pack_json(data)?,
    )?);

    progress("report", 60);
    let report = report::render(
        data,
        &mapping,
        &exporter_pk,
        &extract,
        gather,
        counts.measurements,
    )?;
    files.push(write_file(out_dir, REPORT, &report.pdf)?);

    progress("manifest", 90);
    files.push(write_file(out_dir, README, readme(data, &id).as_bytes())?);
    files.push(write_file(
        out_dir,
        SIGNER_PUB,
        public_key_file(&exporter_pk).as_bytes(),
    )?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let eb = &data.exported_by;
    let roles = |r: &[driftwarden_core::Role]| r.iter().map(|x| x.to_string()).collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        registry_id: data.registry_id.clone(),
        org: data.org.clone(),
        exported_at: data.exported_at.clone(),
        exported_by: key_entry(
            &eb.email,
            &eb.name,
            roles(&eb.roles),
            eb.status.as_str(),
            &eb.signing_public_key,
        )?,
        scope: data.scope.clone(),
        members: data
            .members
            .iter()
            .map(|m| {
                key_entry(
                    &m.email,
                    &m.name,
                    roles(&m.roles),
                    m.status.as_str(),
                    &m.signing_public_key,
                )
            })
            .collect::<Result<_, _>>()?,
        audit_log: ManifestAudit {
            file: AUDIT_LOG.into(),
            events_total: data.audit_chain.events_total,
            head: data.audit_chain.head.clone(),
            verified_in_registry: data.audit_chain.verified,
            events_in_extract: extract.events,
            gaps_in_extract: extract.gaps,
        },
        files,
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PackError::Data(format!("manifest: {e}")))?;
    manifest_bytes.push(b'\n');
    write_file(out_dir, MANIFEST, &manifest_bytes)?;
    let sig = minisign::sign(
        &manifest_bytes,
        &exporter_pk,
        &verify::untrusted_comment(&manifest.exported_by),
        &verify::trusted_comment(&manifest),
        signer,
    );
    write_file(out_dir, SIGNATURE, sig.as_bytes())?;
    progress("done", 100);

    Ok(PackSummary {
        dir: out_dir.to_path_buf(),
        files: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.size).sum::<u64>()
            + manifest_bytes.len() as u64
            + sig.len() as u64,
        models: data.models.len(),
        exceptions: data.exceptions.len(),
        signoffs: data.signoffs.len(),
        measurements: counts.measurements,
        audit_events: extract.events,
        audit_gaps: extract.gaps,
        report_pages: report.pages,
        key_id: key_id_hex(&id),
        manifest_sha256: hex::encode(Sha256::digest(&manifest_bytes)),
    })
}

fn readme(data: &PackData, id: &[u8; 8]) -> String {
    let mut tables = String::new();
    for t in TABLES {
        tables.push_str(&format!("  csv/{t}.csv, data/{t}.json\n"));
    }
    format!(
        "Driftwarden audit pack ({FORMAT})
Organisation: {org}
Registry: {registry}
Exported by: {name} <{email}> at {at}
Signing key (minisign key id): {key}

Files
  report.pdf             the report for people: summary, one section per model (beyond 100
                         models: a line per model that needs attention and every disposition),
                         framework mapping, audit-log chain status
{tables}  data/pack.json         scope, exporter, executive summary, NHI posture, chain status
  audit-log.jsonl        the audit-log extract (one JSON object per line, see below)
  signer.pub             the exporting member's Ed25519 public key, minisign format
  manifest.json          every file with its size and SHA-256; scope; members' public keys
  manifest.json.minisig  the exporting member's signature of manifest.json (minisign format)

Verify
  driftwarden verify <this folder>        checks everything below and prints one line per check
  minisign -Vm manifest.json -p signer.pub
                         checks the manifest signature with stock minisign; then compare each
                         file's SHA-256 with the manifest (e.g. sha256sum) and check that
                         signer.pub's key is the exporting member's key in the manifest.

CSV: UTF-8, comma-separated, RFC 4180 quoting, one header row. Lists inside a cell are
separated by \"; \". Numbers are written as in the JSON files.

Audit-log extract (audit-log.jsonl)
  line 1:   {{\"type\":\"header\", ...}}  format, registry, genesis hash, events in the registry
  then:     {{\"type\":\"event\", seq, at, actor, operation, entity_type, entity_id, payload,
              prev_hash, hash}}  an event in scope, in full
            {{\"type\":\"gap\", first_seq, last_seq, prev_hash, hash}}  events outside the scope,
              represented by the hash before the first and the hash of the last
  last:     {{\"type\":\"head\", seq, hash}}  the chain head at export time
  Every event's hash = SHA-256(prev_hash as lower-case hex text || RFC 8785 canonical JSON of
  {{seq, at, actor, operation, entity_type, entity_id, payload}}), hex. The first prev_hash is
  64 zeros. Each line's prev_hash equals the previous line's hash, and sequence numbers run
  without holes from 1 to the head, so the extract verifies on its own.

Sign-offs (csv/decisions.csv, data/decisions.json)
  Each signature is Ed25519 over the RFC 8785 canonical bytes of its statement, by the public
  key shown (also listed for its member in manifest.json).
",
        org = data.org,
        registry = data.registry_id,
        name = data.exported_by.name,
        email = data.exported_by.email,
        at = data.exported_at,
        key = key_id_hex(id),
    )
}

//! `verify_pack`: checks a pack folder on its own and says, per check, pass or fail and why,
//! naming the file at fault.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::minisign::{self, key_id, key_id_hex};
use crate::{auditlog, KeyEntry, Manifest, AUDIT_LOG, FORMAT, MANIFEST, SIGNATURE, SIGNER_PUB};

/// One line of the verification.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked: `manifest signature`, `file report.pdf`, `audit log`, …
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// The file at fault, when the check failed because of one.
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyOutcome {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl VerifyOutcome {
    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}  {}: {}",
            if self.ok { "PASS" } else { "FAIL" },
            self.name,
            self.detail
        )
    }
}

/// The untrusted comment of the manifest's signature file (not covered by the signature, so
/// verification requires exactly this text).
pub(crate) fn untrusted_comment(exporter: &KeyEntry) -> String {
    format!(
        "signature from Driftwarden member {} (key {})",
        exporter.email, exporter.key_id
    )
}

/// The trusted comment (covered by the global signature).
pub(crate) fn trusted_comment(m: &Manifest) -> String {
    format!(
        "{} registry:{} exported_at:{} by:{} file:{MANIFEST}",
        m.format, m.registry_id, m.exported_at, m.exported_by.email
    )
}

struct Checks(Vec<Check>);

impl Checks {
    fn pass(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            file: None,
        });
    }
    fn fail(&mut self, name: impl Into<String>, file: &str, detail: impl Into<String>) {
        self.0.push(Check {
            name: name.into(),
            ok: false,
            detail: format!("{file}: {}", detail.into()),
            file: Some(file.to_string()),
        });
    }
}

/// Every regular file under `dir`, as `/`-separated paths relative to it. Anything that is not
/// a regular file or a folder (a symlink, a device) is reported as itself.
fn list_files(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let ft = e.file_type()?;
            if ft.is_dir() {
                stack.push((e.path(), rel));
            } else {
                out.insert(rel);
            }
        }
    }
    Ok(out)
}

fn decode_key(b64: &str) -> Option<[u8; 32]> {
    B64.decode(b64).ok()?.try_into().ok()
}

/// Verifies the pack in `dir`.
pub fn verify_pack(dir: &Path) -> VerifyOutcome {
    let mut c = Checks(Vec::new());
    run(dir, &mut c);
    let ok = !c.0.is_empty() && c.0.iter().all(|x| x.ok);
    VerifyOutcome { ok, checks: c.0 }
}

fn run(dir: &Path, c: &mut Checks) {
    // The manifest.
    let manifest_bytes = match std::fs::read(dir.join(MANIFEST)) {
        Ok(b) => b,
        Err(e) => {
            c.fail("manifest", MANIFEST, format!("cannot be read ({e})"));
            return;
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            c.fail(
                "manifest",
                MANIFEST,
                format!("is not a pack manifest ({e})"),
            );
            return;
        }
    };
    if manifest.format != FORMAT {
        c.fail(
            "manifest",
            MANIFEST,
            format!("format {:?}; this verifier reads {FORMAT}", manifest.format),
        );
        return;
    }
    c.pass(
        "manifest",
        format!(
            "{FORMAT}, {} files, exported by {} at {}",
            manifest.files.len(),
            manifest.exported_by.email,
            manifest.exported_at
        ),
    );

    // The signer's key: signer.pub must be the exporting member's key listed in the manifest.
    let signer = match check_signer(dir, &manifest) {
        Ok(k) => {
            c.pass(
                "signer key",
                format!(
                    "{SIGNER_PUB} is the key of the exporting member {} (minisign key {})",
                    manifest.exported_by.email,
                    key_id_hex(&k.0)
                ),
            );
            Some(k)
        }
        Err((file, why)) => {
            c.fail("signer key", file, why);
            None
        }
    };

    // The manifest signature.
    match (&signer, std::fs::read(dir.join(SIGNATURE))) {
        (_, Err(e)) => c.fail(
            "manifest signature",
            SIGNATURE,
            format!("cannot be read ({e})"),
        ),
        (None, Ok(_)) => c.fail(
            "manifest signature",
            SIGNER_PUB,
            "cannot be checked without the exporting member's key",
        ),
        (Some((id, pk)), Ok(sig_bytes)) => {
            match check_signature(&manifest_bytes, &sig_bytes, &manifest, id, pk) {
                Ok(()) => c.pass(
                    "manifest signature",
                    format!(
                        "{SIGNATURE} verifies {MANIFEST} (Ed25519, BLAKE2b-prehashed, minisign format)"
                    ),
                ),
                Err((file, why)) => c.fail("manifest signature", file, why),
            }
        }
    }

    // Every file listed: size and SHA-256.
    let present = match list_files(dir) {
        Ok(f) => f,
        Err(e) => {
            c.fail(
                "file set",
                ".",
                format!("the folder cannot be listed ({e})"),
            );
            return;
        }
    };
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        let name = format!("file {}", f.path);
        if !listed.insert(f.path.clone())
            || f.path == MANIFEST
            || f.path == SIGNATURE
            || f.path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            c.fail(&name, MANIFEST, format!("lists {:?} improperly", f.path));
            continue;
        }
        match hash_file(&dir.join(&f.path)) {
            Err(_) if !present.contains(&f.path) => c.fail(&name, &f.path, "is missing"),
            Err(e) => c.fail(&name, &f.path, format!("cannot be read ({e})")),
            Ok((len, hash)) => {
                if len != f.size {
                    c.fail(
                        &name,
                        &f.path,
                        format!("is {len} bytes; the manifest says {}", f.size),
                    );
                } else if hash != f.sha256 {
                    c.fail(
                        &name,
                        &f.path,
                        "its SHA-256 differs from the manifest (the file was changed)",
                    );
                } else {
                    c.pass(&name, format!("{} bytes, SHA-256 {}", f.size, &hash[..16]));
                }
            }
        }
    }

    // Nothing extra, nothing missing.
    let mut expected = listed.clone();
    expected.insert(MANIFEST.to_string());
    expected.insert(SIGNATURE.to_string());
    let extra: Vec<&String> = present.difference(&expected).collect();
    let missing: Vec<&String> = expected.difference(&present).collect();
    if extra.is_empty() && missing.is_empty() {
        c.pass(
            "file set",
            format!(
                "exactly the {} listed files, the manifest and its signature",
                listed.len()
            ),
        );
    } else {
        for f in &extra {
            c.fail("file set", f, "is not listed in the manifest");
        }
        for f in &missing {
            c.fail("file set", f, "is listed but missing");
        }
    }

    // The log extract's chain.
    match std::fs::File::open(dir.join(AUDIT_LOG)) {
        Err(e) => c.fail("audit log", AUDIT_LOG, format!("cannot be read ({e})")),
        Ok(file) => match auditlog::verify_reader(std::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )) {
            Err(why) => c.fail("audit log", AUDIT_LOG, why),
            Ok(x) if x.head != manifest.audit_log.head
                || x.head_seq != manifest.audit_log.events_total =>
            {
                c.fail(
                    "audit log",
                    AUDIT_LOG,
                    "its head is not the head recorded in the manifest",
                )
            }
            Ok(x) => c.pass(
                "audit log",
                format!(
                    "chain of {} events verifies from genesis to head {}… ({} in full, {} gap runs linked by hash)",
                    x.head_seq,
                    &x.head[..16],
                    x.events,
                    x.gaps
                ),
            ),
        },
    }

    // Every sign-off inside.
    check_signoffs(dir, &manifest, c);
}

/// A failure: the file at fault and why.
type Failure = (&'static str, String);

fn check_signer(dir: &Path, m: &Manifest) -> Result<([u8; 8], [u8; 32]), Failure> {
    let text = std::fs::read_to_string(dir.join(SIGNER_PUB))
        .map_err(|e| (SIGNER_PUB, format!("cannot be read ({e})")))?;
    let (id, pk) = minisign::parse_public_key_file(&text).map_err(|e| (SIGNER_PUB, e))?;
    if text != minisign::public_key_file(&pk) {
        return Err((SIGNER_PUB, "is not in the form Driftwarden writes".into()));
    }
    if id != key_id(&pk) {
        return Err((SIGNER_PUB, "its key id does not belong to its key".into()));
    }
    let exporter = decode_key(&m.exported_by.public_key).ok_or((
        MANIFEST,
        "the exporting member's key is malformed".to_string(),
    ))?;
    if exporter != pk {
        return Err((
            SIGNER_PUB,
            format!(
                "holds key {}, not the exporting member's key {}",
                key_id_hex(&id),
                m.exported_by.key_id
            ),
        ));
    }
    let listed = m
        .members
        .iter()
        .any(|k| k.email == m.exported_by.email && decode_key(&k.public_key) == Some(pk));
    if !listed {
        return Err((
            MANIFEST,
            "the exporting member and key are not among the members".into(),
        ));
    }
    Ok((id, pk))
}

fn check_signature(
    manifest_bytes: &[u8],
    sig_bytes: &[u8],
    m: &Manifest,
    id: &[u8; 8],
    pk: &[u8; 32],
) -> Result<(), Failure> {
    let text = std::str::from_utf8(sig_bytes).map_err(|_| (SIGNATURE, "is not UTF-8".into()))?;
    let sig = minisign::parse_signature_file(text).map_err(|e| (SIGNATURE, e))?;
    minisign::verify(manifest_bytes, &sig, id, pk).map_err(|e| {
        // A good trusted-comment signature over a bad file signature means the manifest changed.
        let file = if e.contains("match the file") {
            MANIFEST
        } else {
            SIGNATURE
        };
        (file, e)
    })?;
    // The comments must be the ones Driftwarden writes: the untrusted one is not signed, so any
    // change to it would otherwise go unnoticed.
    if sig.untrusted_comment != untrusted_comment(&m.exported_by)
        || sig.trusted_comment != trusted_comment(m)
    {
        return Err((
            SIGNATURE,
            "its comments do not describe this manifest".into(),
        ));
    }
    let canonical = format!(
        "untrusted comment: {}\n{}\ntrusted comment: {}\n{}\n",
        sig.untrusted_comment,
        B64.encode([&sig.algorithm[..], &sig.key_id[..], &sig.signature[..]].concat()),
        sig.trusted_comment,
        B64.encode(sig.global_signature)
    );
    if canonical.as_bytes() != sig_bytes {
        return Err((SIGNATURE, "is not in canonical form".into()));
    }
    Ok(())
}

const DECISIONS: &str = "data/decisions.json";

fn check_signoffs(dir: &Path, m: &Manifest, c: &mut Checks) {
    let name = "sign-offs";
    let signoffs: Vec<Value> = match std::fs::read(dir.join(DECISIONS))
        .map_err(|e| format!("cannot be read ({e})"))
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| format!("is not a JSON list ({e})")))
    {
        Ok(v) => v,
        Err(why) => return c.fail(name, DECISIONS, why),
    };
    let keys: HashMap<&str, Option<[u8; 32]>> = m
        .members
        .iter()
        .map(|k| (k.email.as_str(), decode_key(&k.public_key)))
        .collect();
    let mut failures = 0;
    for s in &signoffs {
        let id = s.get("id").and_then(Value::as_i64).unwrap_or(-1);
        let label = format!("sign-off {id}");
        let signer = s.get("signer").and_then(Value::as_str).unwrap_or("");
        let problem = (|| -> Result<(), String> {
            let statement = s.get("statement").ok_or("has no statement")?;
            let pk = s
                .get("public_key")
                .and_then(Value::as_str)
                .and_then(decode_key)
                .ok_or("has a malformed public key")?;
            match keys.get(signer) {
                Some(Some(k)) if *k == pk => {}
                Some(_) => {
                    return Err(format!("is not signed with {signer}'s key in the manifest"))
                }
                None => return Err(format!("names a signer ({signer}) who is not a member")),
            }
            let sig: [u8; 64] = s
                .get("signature")
                .and_then(Value::as_str)
                .and_then(|x| B64.decode(x).ok())
                .and_then(|x| x.try_into().ok())
                .ok_or("has a malformed signature")?;
            let bytes = serde_json_canonicalizer::to_vec(statement)
                .map_err(|e| format!("statement cannot be canonicalised ({e})"))?;
            VerifyingKey::from_bytes(&pk)
                .map_err(|_| "has a malformed public key".to_string())?
                .verify(&bytes, &Signature::from_bytes(&sig))
                .map_err(|_| "the signature does not verify over the statement".to_string())?;
            if s.get("valid").and_then(Value::as_bool) != Some(true) {
                return Err(format!(
                    "the registry reported it invalid at export: {}",
                    s.get("problem")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                ));
            }
            Ok(())
        })();
        if let Err(why) = problem {
            failures += 1;
            c.fail(name, DECISIONS, format!("{label} by {signer}: {why}"));
        }
    }
    // The sign-offs shown with their approvals and exceptions are the ones verified above.
    let by_id: HashMap<i64, &Value> = signoffs
        .iter()
        .filter_map(|s| Some((s.get("id")?.as_i64()?, s)))
        .collect();
    let mut nested = 0;
    for file in ["data/approvals.json", "data/exceptions.json"] {
        let records: Vec<Value> = match std::fs::read(dir.join(file))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            Some(v) => v,
            None => {
                failures += 1;
                c.fail(name, file, "cannot be read as a JSON list");
                continue;
            }
        };
        for s in records
            .iter()
            .filter_map(|r| r.get("signoffs").and_then(Value::as_array))
            .flatten()
        {
            nested += 1;
            let id = s.get("id").and_then(Value::as_i64).unwrap_or(-1);
            if by_id.get(&id) != Some(&s) {
                failures += 1;
                c.fail(
                    name,
                    file,
                    format!("sign-off {id} differs from the one in {DECISIONS}"),
                );
            }
        }
    }
    if failures == 0 && nested != signoffs.len() {
        failures += 1;
        c.fail(
            name,
            DECISIONS,
            format!(
                "lists {} sign-offs; the approvals and exceptions hold {nested}",
                signoffs.len()
            ),
        );
    }
    if failures == 0 {
        c.pass(
            name,
            format!(
                "{} of {} signatures verify (Ed25519 over RFC 8785 statements, members' keys)",
                signoffs.len(),
                signoffs.len()
            ),
        );
    }
}

/// A file's size and SHA-256 (hex), read in pieces: pack files can be large.
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let len = std::io::copy(&mut f, &mut hasher)?;
    Ok((len, hex::encode(hasher.finalize())))
}

//! `driftwarden verify` on a pack folder made from the input: manifest.json,
//! manifest.json.minisig, signer.pub, audit-log.jsonl and data/decisions.json, in that order,
//! separated by `\n--8<--\n` (missing parts are missing files). Covers the manifest parse, both
//! minisign parsers, the audit-log extract parser and the sign-off list.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use driftwarden_pack::{verify_pack, AUDIT_LOG, MANIFEST, SIGNATURE, SIGNER_PUB};
use libfuzzer_sys::fuzz_target;

const PARTS: [&str; 5] = [
    MANIFEST,
    SIGNATURE,
    SIGNER_PUB,
    AUDIT_LOG,
    "data/decisions.json",
];

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap().keep())
}

fn split<'a>(mut data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    while let Some(i) = data.windows(sep.len()).position(|w| w == sep) {
        out.push(&data[..i]);
        data = &data[i + sep.len()..];
    }
    out.push(data);
    out
}

fuzz_target!(|data: &[u8]| {
    let pack = dir().join("pack");
    let _ = std::fs::remove_dir_all(&pack);
    std::fs::create_dir_all(pack.join("data")).unwrap();
    for (name, bytes) in PARTS.iter().zip(split(data, b"\n--8<--\n")) {
        std::fs::write(pack.join(name), bytes).unwrap();
    }
    let outcome = verify_pack(&pack);
    // Made-up content never passes: the real pack's files (report, tables) are not here.
    assert!(!outcome.ok);
    assert!(!outcome.checks.is_empty());
});

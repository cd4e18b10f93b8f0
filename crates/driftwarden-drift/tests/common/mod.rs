#![allow(dead_code)]

use std::path::PathBuf;

/// The shared drift fixtures, outside the repository (`../shared/data/drift/` from its root).
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/drift/"
    ))
    .join(rel)
}

/// Reads a fixture JSON file. Python's `json` writes +∞ as the bare token `Infinity`, which
/// strict parsers reject: it is turned into the string "Infinity" and read back by `num`.
pub fn json(rel: &str) -> serde_json::Value {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text
        .replace("-Infinity", "\"-Infinity\"")
        .replace(": Infinity", ": \"Infinity\"")
        .replace(": NaN", ": \"NaN\"");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn num(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) if s == "Infinity" => f64::INFINITY,
        serde_json::Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        serde_json::Value::String(s) if s == "NaN" => f64::NAN,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

/// Relative tolerance `|a − b| <= rel · max(|a|, |b|)`; infinities must be equal.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// The README's comparison rule for one metric.
pub fn matches(metric: &str, ours: f64, expected: f64) -> bool {
    match metric {
        "ks_pvalue" | "chisquare_pvalue" | "z_pvalue" => {
            if expected == 0.0 || expected == 1.0 {
                ours == expected
            } else {
                close(ours, expected, 1e-6)
            }
        }
        "jensenshannon" => close(ours, expected, 1e-9) || (ours - expected).abs() <= 1e-12,
        _ => close(ours, expected, 1e-9),
    }
}

/// A CSV written into a temporary folder.
pub struct Csv {
    pub dir: tempfile::TempDir,
}

impl Csv {
    pub fn new() -> Csv {
        Csv {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

//! The drift engine's CSV reading and column inference: a reference and a current file, split
//! from the input at the first `\n===\n` (all of it is the reference when there is none; the
//! current file is then the same). The first byte picks the method.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use driftwarden_drift::{drift_files, DriftOptions, Method};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap().keep())
}

const METHODS: [Method; 6] = [
    Method::Auto,
    Method::Psi,
    Method::Ks,
    Method::Wasserstein,
    Method::JensenShannon,
    Method::ChiSquare,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let sep = b"\n===\n";
    let (reference, current) = match data.windows(sep.len()).position(|w| w == sep) {
        Some(i) => (&data[..i + 1], &data[i + sep.len()..]),
        None => (data, data),
    };
    let r = dir().join("reference.csv");
    let c = dir().join("current.csv");
    std::fs::write(&r, reference).unwrap();
    std::fs::write(&c, current).unwrap();
    let opts = DriftOptions {
        method: METHODS[first as usize % METHODS.len()],
        ..DriftOptions::default()
    };
    if let Ok(report) = drift_files(&r, &c, &opts) {
        assert!((0.0..=1.0).contains(&report.share_drifted));
    }
});

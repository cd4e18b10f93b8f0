#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{TimeZone, Utc};
use driftwarden_core::sample::{create_sample, SAMPLE_MEMBERS};
use driftwarden_core::*;
use driftwarden_pack::{write_pack, write_pack_with, PackSummary};

pub const PASS: &str = "a long sample passphrase";
pub const DANA: &str = "dana@northwind.example";

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    ))
}

/// The sample registry, with two more decisions so the packs hold closed exceptions and
/// several dispositions; open as Dana (compliance), who exports.
pub struct Sample {
    pub dir: PathBuf,
    pub dana: Mutex<Registry>,
    pub data: PackData,
}

fn scratch_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("driftwarden-pack-tests")
}

/// Removes what earlier test runs (processes no longer alive) left behind.
fn clean_stale() {
    let Ok(entries) = std::fs::read_dir(scratch_root()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
            if !alive && cfg!(target_os = "linux") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_root().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        clean_stale();
        let dir = scratch("sample").join("registry");
        let mut ana = create_sample(&dir, PASS, clock()).unwrap();
        // Ana decides the escalated credit-risk exception; Bob co-signs what needs it.
        for e in ana
            .list_exceptions(Some("escalated"), Some("credit-risk"))
            .unwrap()
        {
            ana.decide_exception(
                e.id,
                &DecideException {
                    disposition: "retrain".into(),
                    rationale: "Retrain on the post-campaign applicant mix".into(),
                    follow_up: Some("2026-12-15".into()),
                },
            )
            .unwrap();
        }
        drop(ana);
        let mut bob = Registry::open(&dir, SAMPLE_MEMBERS[1].0, PASS, clock()).unwrap();
        for e in bob.list_exceptions(Some("decided"), None).unwrap() {
            if e.cosign_required {
                bob.cosign_exception(e.id).unwrap();
            }
        }
        drop(bob);
        let dana = Registry::open(&dir, DANA, PASS, clock()).unwrap();
        let data = dana.pack_data(&PackScope::default()).unwrap();
        Sample {
            dir,
            dana: Mutex::new(dana),
            data,
        }
    })
}

impl Sample {
    pub fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        self.dana.lock().unwrap().sign_with_my_key(bytes)
    }

    /// Writes a pack of `data` (signed as Dana) into a new scratch folder.
    pub fn write(&self, name: &str, data: &PackData) -> (PathBuf, PackSummary) {
        let out = scratch(name).join("pack");
        let mut stages = Vec::new();
        let summary = write_pack(data, &|b| self.sign(b), &out, &mut |s, p| {
            stages.push((s.to_string(), p))
        })
        .unwrap();
        assert_eq!(stages.last().unwrap(), &("done".to_string(), 100));
        assert!(stages.windows(2).all(|w| w[0].1 <= w[1].1), "{stages:?}");
        (out, summary)
    }

    /// Writes a pack of `scope` the way the CLI and the desktop do: the outline from the
    /// registry, measurements and log extract streamed from its cursors.
    pub fn write_streamed(&self, name: &str, scope: &PackScope) -> (PathBuf, PackSummary) {
        let out = scratch(name).join("pack");
        let reg = self.dana.lock().unwrap();
        let outline = reg.pack_outline(scope).unwrap();
        assert!(outline.measurements.is_empty() && outline.audit.is_empty());
        let mut stages = Vec::new();
        let summary = write_pack_with(
            &outline,
            &*reg,
            &|b| reg.sign_with_my_key(b),
            &out,
            &mut |s, p| stages.push((s.to_string(), p)),
        )
        .unwrap();
        assert_eq!(stages.last().unwrap(), &("done".to_string(), 100));
        assert!(stages.windows(2).all(|w| w[0].1 <= w[1].1), "{stages:?}");
        (out, summary)
    }

    pub fn pack(&self, name: &str) -> (PathBuf, PackSummary) {
        self.write(name, &self.data)
    }
}

/// Every file under `dir`, relative, `/`-separated, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

/// Runs a program; `None` when it is not installed.
pub fn run(program: &str, args: &[&str], cwd: &Path) -> Option<std::process::Output> {
    match std::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
    {
        Ok(o) => Some(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: {program} is not installed (Debian package providing it is needed for this check)");
            None
        }
        Err(e) => panic!("{program}: {e}"),
    }
}

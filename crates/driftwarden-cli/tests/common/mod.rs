#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ADMIN: &str = "ana@acme.test";
pub const ADMIN_PASS: &str = "ana's long passphrase";
pub const BOB: &str = "bob@acme.test";
pub const BOB_PASS: &str = "bob's long passphrase";

/// A scratch registry folder and a way to run the CLI on it as a member.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub now: Option<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success; stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        self
    }
    pub fn fails(self) -> Self {
        assert_ne!(self.code, 0, "expected failure; stdout: {}", self.stdout);
        assert_eq!(
            self.stderr.trim().lines().count(),
            1,
            "one-line error: {:?}",
            self.stderr
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("registry");
        Env {
            tmp,
            dir,
            now: None,
        }
    }

    pub fn passfile(&self, pass: &str) -> PathBuf {
        let p = self.tmp.path().join(format!("pass-{}", pass.len()));
        std::fs::write(&p, format!("{pass}\n")).unwrap();
        p
    }

    pub fn cmd(&self, member: &str, pass: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_driftwarden"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("DRIFTWARDEN_REGISTRY", &self.dir)
            .env("DRIFTWARDEN_MEMBER", member)
            .env("DRIFTWARDEN_PASSPHRASE", pass);
        if let Some(now) = &self.now {
            c.env("DRIFTWARDEN_NOW", now);
        }
        c
    }

    pub fn run_as(&self, member: &str, pass: &str, args: &[&str]) -> Run {
        let out: Output = self.cmd(member, pass).args(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs as the admin.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_as(ADMIN, ADMIN_PASS, args)
    }

    /// `init` + Bob (validator, approver) + one model with full decision rights.
    pub fn with_model() -> Env {
        let env = Env::new();
        env.run(&[
            "init",
            "--org",
            "Acme Bank",
            "--email",
            ADMIN,
            "--name",
            "Ana Admin",
        ])
        .ok();
        let bobpass = env.passfile(BOB_PASS);
        env.run(&[
            "member",
            "add",
            BOB,
            "--name",
            "Bob Approver",
            "--role",
            "validator,approver",
            "--new-passphrase-file",
            bobpass.to_str().unwrap(),
        ])
        .ok();
        env.run(&[
            "model",
            "add",
            "credit-risk",
            "--version",
            "1.0",
            "--owner",
            ADMIN,
            "--use",
            "Consumer credit decisions",
            "--function",
            "Lending",
            "--tier",
            "high",
            "--regulated",
        ])
        .ok();
        env.run(&[
            "model",
            "rights",
            "credit-risk",
            "--alerts",
            ADMIN,
            "--alerts",
            BOB,
            "--validator",
            BOB,
            "--rollback",
            ADMIN,
            "--approver",
            BOB,
        ])
        .ok();
        env
    }

    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(d: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out)
                } else {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out.sort();
        out
    }

    /// The database opened directly with the data key, as a third party would.
    pub fn raw_db(&self) -> rusqlite::Connection {
        use driftwarden_core::keys::{slot_path, SlotFile};
        let (_, key) = SlotFile::read(&slot_path(&self.dir, ADMIN))
            .unwrap()
            .unlock(ADMIN_PASS)
            .unwrap();
        let conn = rusqlite::Connection::open(self.dir.join(driftwarden_core::DB_FILE)).unwrap();
        let hex: String = key.as_bytes().iter().map(|x| format!("{x:02x}")).collect();
        conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
            .unwrap();
        // The cipher profile the header names (none: SQLCipher 4's defaults).
        let header: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.dir.join(driftwarden_core::HEADER_FILE)).unwrap(),
        )
        .unwrap();
        match header.get("cipher").and_then(|c| c.as_str()) {
            None => {}
            Some("sqlcipher4-hmac-sha256") => conn
                .execute_batch("PRAGMA cipher_hmac_algorithm = HMAC_SHA256;")
                .unwrap(),
            Some(other) => panic!("unknown cipher profile {other}"),
        }
        conn
    }
}

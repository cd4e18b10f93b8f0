//! Fault injection on the real CLI: a full disk (the process's file-size limit, RLIMIT_FSIZE, so
//! every write past it fails with EFBIG), a read-only registry folder (a read-only bind mount and
//! a folder without write permission), and a short write of a key slot or a pack file
//! (`DRIFTWARDEN_FAULT=short-write:<file ending>`). Each time: the command exits non-zero with a
//! one-line error naming what failed, and the registry is as it was (it opens, SQLite's and
//! SQLCipher's integrity checks pass, the audit chain verifies, nothing was added) and no partial
//! file is left looking complete.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// What must not change when a command fails.
#[derive(Debug, PartialEq)]
struct Counts {
    events: i64,
    measurements: i64,
    members: i64,
    models: i64,
}

fn counts(env: &Env) -> Counts {
    let conn = env.raw_db();
    let n = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    Counts {
        events: n("SELECT count(*) FROM audit_events"),
        measurements: n("SELECT count(*) FROM measurements"),
        members: n("SELECT count(*) FROM members"),
        models: n("SELECT count(*) FROM models"),
    }
}

/// The registry opens through the CLI, its chain verifies, both integrity checks pass and it holds
/// what it held before.
fn assert_intact(env: &Env, before: &Counts, what: &str) {
    let v = env.run(&["log", "verify", "--json"]).ok().json();
    assert_eq!(v["ok"], true, "{what}: {v}");
    let conn = env.raw_db();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "{what}");
    let problems: Vec<String> = conn
        .prepare("PRAGMA cipher_integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(problems.is_empty(), "{what}: {problems:?}");
    assert_eq!(&counts(env), before, "{what}: nothing added or lost");
}

fn output(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the command with a file-size limit: any write past `bytes` in any file fails with EFBIG,
/// as on a full disk (SIGXFSZ ignored, so the write returns the error instead of killing).
fn limit_file_size(cmd: &mut Command, bytes: u64) {
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn db_size(env: &Env) -> u64 {
    std::fs::metadata(env.dir.join(driftwarden_core::DB_FILE))
        .unwrap()
        .len()
}

fn measurement_csv(env: &Env, rows: usize) -> PathBuf {
    let path = env.tmp.path().join(format!("m-{rows}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "model,version,metric,value,observed_at").unwrap();
    for i in 0..rows {
        writeln!(
            f,
            "credit-risk,1.0,psi,0.{:02},2026-10-{:02}T{:02}:{:02}:{:02}Z",
            i % 20,
            1 + (i / 86400) % 28,
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60
        )
        .unwrap();
    }
    drop(f);
    path
}

fn governed() -> Env {
    let env = Env::with_model();
    env.run(&[
        "threshold",
        "set",
        "credit-risk",
        "psi",
        "--breach",
        "0.25",
        "--warn",
        "0.1",
    ])
    .ok();
    env
}

/// A single-line error that mentions every word in `words` (case-insensitive).
fn assert_error(run: &Run, what: &str, words: &[&str]) {
    assert_ne!(run.code, 0, "{what}: must fail; stdout: {}", run.stdout);
    let err = run.stderr.trim();
    assert_eq!(err.lines().count(), 1, "{what}: one-line error: {err:?}");
    assert!(err.starts_with("driftwarden: error:"), "{what}: {err}");
    for w in words {
        assert!(
            err.to_lowercase().contains(&w.to_lowercase()),
            "{what}: the error names {w:?}: {err}"
        );
    }
    eprintln!("{what}: {err}");
}

#[test]
fn a_full_disk_fails_ingest_backup_and_pack_clearly_and_keeps_the_registry() {
    let env = governed();
    let csv = measurement_csv(&env, 30_000);
    let before = counts(&env);
    let mut faults = 0;

    // Ingest: the write-ahead log cannot grow past the limit; the import rolls back.
    let limit = db_size(&env) + 64 * 1024;
    let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
    cmd.args(["ingest", csv.to_str().unwrap()]);
    limit_file_size(&mut cmd, limit);
    let run = output(cmd);
    assert_error(&run, "disk full during ingest", &["disk"]);
    faults += 1;
    assert_intact(&env, &before, "after a full disk during ingest");
    // With room again the same file imports in full.
    env.run(&["ingest", csv.to_str().unwrap()]).ok();
    let before = counts(&env);
    assert_eq!(before.measurements, 30_000);

    // Backup: the copy cannot be written; no backup file and no staging folder remain.
    let out = env.tmp.path().join("backups").join("registry.backup");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
    cmd.args(["backup", "--out", out.to_str().unwrap()]);
    limit_file_size(&mut cmd, 64 * 1024);
    let run = output(cmd);
    assert_error(&run, "disk full during backup", &["backup"]);
    faults += 1;
    assert!(!out.exists(), "no backup file");
    assert_eq!(
        std::fs::read_dir(out.parent().unwrap()).unwrap().count(),
        0,
        "no staging folder left behind"
    );
    assert_intact(&env, &before, "after a full disk during backup");

    // Pack: a file of the pack cannot be written; the folder is left empty, not half a pack.
    let pack = env.tmp.path().join("pack");
    let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
    cmd.args(["pack", "--out", pack.to_str().unwrap()]);
    limit_file_size(&mut cmd, 64 * 1024);
    let run = output(cmd);
    assert_error(
        &run,
        "disk full during pack export",
        &[pack.to_str().unwrap()],
    );
    faults += 1;
    assert_eq!(
        std::fs::read_dir(&pack).map(|d| d.count()).unwrap_or(0),
        0,
        "no partial pack: {:?}",
        std::fs::read_dir(&pack).map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
    assert_intact(&env, &before, "after a full disk during pack export");
    // With room again both work.
    env.run(&["backup", "--out", out.to_str().unwrap()]).ok();
    env.run(&["pack", "--out", pack.to_str().unwrap()]).ok();
    env.run(&["verify", pack.to_str().unwrap()]).ok();
    eprintln!("full disk: {faults} faults injected, registry intact after each");
}

#[test]
fn a_short_write_of_a_key_slot_or_a_pack_file_leaves_the_previous_state() {
    let env = governed();
    let before = counts(&env);
    let slots_before = slot_files(&env.dir);
    let mut faults = 0;

    // A new member's slot cut short: the member is not added, no slot or temporary file remains.
    let carol_pass = env.passfile("carol's long passphrase");
    let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
    cmd.env("DRIFTWARDEN_FAULT", "short-write:.slot").args([
        "member",
        "add",
        "carol@acme.test",
        "--name",
        "Carol Engineer",
        "--role",
        "engineer",
        "--new-passphrase-file",
        carol_pass.to_str().unwrap(),
    ]);
    let run = output(cmd);
    assert_error(
        &run,
        "short write of a new key slot",
        &[".slot", "no space"],
    );
    faults += 1;
    assert_eq!(slot_files(&env.dir), slots_before, "slots unchanged");
    assert_intact(&env, &before, "after a short slot write on member add");
    env.run_as("carol@acme.test", "carol's long passphrase", &["status"])
        .fails();

    // A re-wrapped slot cut short during offboarding: nothing is rotated; Bob still opens it.
    let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
    cmd.env("DRIFTWARDEN_FAULT", "short-write:.slot.next")
        .args(["member", "offboard", BOB, "--reason", "left"]);
    let run = output(cmd);
    assert_error(
        &run,
        "short write of a re-wrapped key slot",
        &[".slot.next"],
    );
    faults += 1;
    assert_eq!(slot_files(&env.dir), slots_before, "slots unchanged");
    assert_intact(&env, &before, "after a short slot write on offboarding");
    env.run_as(BOB, BOB_PASS, &["status"]).ok();

    // Pack files cut short: the report, then the very last file (the signature).
    for (i, file) in ["report.pdf", "manifest.json.minisig"].iter().enumerate() {
        let pack = env.tmp.path().join(format!("pack-{i}"));
        let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
        cmd.env("DRIFTWARDEN_FAULT", format!("short-write:{file}"))
            .args(["pack", "--out", pack.to_str().unwrap()]);
        let run = output(cmd);
        assert_error(&run, &format!("short write of {file}"), &[file, "no space"]);
        faults += 1;
        assert_eq!(
            std::fs::read_dir(&pack).unwrap().count(),
            0,
            "{file}: nothing of the pack is left"
        );
        env.run(&["verify", pack.to_str().unwrap()]).fails();
    }
    assert_intact(&env, &before, "after short pack writes");
    eprintln!("short writes: {faults} faults injected, previous state kept each time");
}

fn slot_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("slots"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Runs the command in its own mount namespace where the registry folder is a read-only bind
/// mount (EROFS even for root). Needs root (CAP_SYS_ADMIN).
fn read_only_mount(cmd: &mut Command, dir: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let dir = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: only async-signal-safe system calls between fork and exec; `dir` was allocated
    // before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let null = std::ptr::null();
            let check = |rc: libc::c_int| {
                if rc != 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(())
                }
            };
            check(libc::unshare(libc::CLONE_NEWNS))?;
            check(libc::mount(
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                dir.as_ptr(),
                dir.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                null,
                dir.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                std::ptr::null(),
            ))
        });
    }
}

/// Runs the command as user `nobody` (root ignores file modes, so a folder without write
/// permission would not stop it).
fn as_nobody(cmd: &mut Command) {
    // SAFETY: only async-signal-safe system calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(65534) != 0
                || libc::setuid(65534) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            chown_tree(&e.path(), uid);
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_read_only_registry_folder_refuses_writes_clearly_and_changes_nothing() {
    let env = governed();
    let csv = measurement_csv(&env, 100);
    let before = counts(&env);
    let files_before = env.files();
    let root = unsafe { libc::geteuid() } == 0;
    let writes: [&[&str]; 2] = [
        &["ingest", csv.to_str().unwrap()],
        &[
            "model",
            "add",
            "fraud",
            "--version",
            "1.0",
            "--owner",
            ADMIN,
            "--use",
            "Card fraud",
            "--function",
            "Payments",
            "--tier",
            "high",
        ],
    ];
    let mut faults = 0;

    // 1. A read-only file system (a read-only bind mount in a private mount namespace).
    if root {
        for args in writes {
            let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
            cmd.args(args);
            read_only_mount(&mut cmd, &env.dir);
            let run = output(cmd);
            assert_error(
                &run,
                &format!("read-only file system: {}", args[0]),
                &["read-only"],
            );
            faults += 1;
        }
        assert_eq!(env.files(), files_before, "no byte changed");
    } else {
        eprintln!("read-only bind mount skipped: it needs root (CAP_SYS_ADMIN)");
    }

    // 2. A folder without write permission (the database file itself still writable).
    if root {
        // Root bypasses permissions: the CLI runs as nobody, who owns the registry.
        chown_tree(env.tmp.path(), 65534);
    }
    set_mode(&env.dir, 0o555);
    set_mode(&env.dir.join("slots"), 0o555);
    for args in writes {
        let mut cmd = env.cmd(ADMIN, ADMIN_PASS);
        cmd.args(args);
        if root {
            as_nobody(&mut cmd);
        }
        let run = output(cmd);
        assert_error(
            &run,
            &format!("folder without write permission: {}", args[0]),
            &["read-only"],
        );
        faults += 1;
    }
    set_mode(&env.dir, 0o755);
    set_mode(&env.dir.join("slots"), 0o755);
    if root {
        chown_tree(env.tmp.path(), 0);
    }
    assert_eq!(env.files(), files_before, "no byte changed");
    assert_intact(&env, &before, "after the read-only folder");
    // Writable again, the same commands work.
    for args in writes {
        env.run(args).ok();
    }
    eprintln!("read-only registry: {faults} faults injected, nothing changed");
}

//! The scale benchmark's workload on one registry built by `driftwarden dev seed` (run by
//! `scripts/bench_scale.py`, which builds and caches the registry, copies it, runs this on the
//! SQLCipher registry and on an unencrypted copy, and times the audit packs through the CLI).
//!
//! ```text
//! bench_scale run DIR [--plain] [--ingest ROWS]   one JSON object per line on stdout
//! bench_scale ingest DIR [--plain] ROWS           only the import (and the memory after it)
//! bench_scale verify DIR [--plain] [REPS]         only the chain verification (split, one thread)
//! bench_scale home DIR [--plain]                  the desktop's first view: open, then each of
//!                                                 Home's reads once on a cold cache, then warm
//! bench_scale export-plain DIR DEST              the unencrypted copy (the floor)
//! ```
//! Environment: `DRIFTWARDEN_PASSPHRASE`, `DRIFTWARDEN_NOW` (the seed's "now"), `BENCH_REPS`
//! (repetitions of each interactive query, default 20). The registry is changed by the ingest
//! and sweep steps: run it on a copy. Build with `--features bench-plaintext`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use driftwarden_core::keys::{slot_path, SlotFile};
use driftwarden_core::*;

const ADMIN: &str = "admin@seed.example";

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// This thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID): the figure that holds on a machine
/// shared with other work, where wall time includes waiting for a core.
fn thread_cpu_ms() -> f64 {
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on Linux x86_64/aarch64).
    unsafe { clock_gettime(3, &mut t) };
    t.sec as f64 * 1000.0 + t.nsec as f64 / 1e6
}

/// This process's CPU time in ms, all threads (CLOCK_PROCESS_CPUTIME_ID).
fn process_cpu_ms() -> f64 {
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: as in `thread_cpu_ms`.
    unsafe { clock_gettime(2, &mut t) };
    t.sec as f64 * 1000.0 + t.nsec as f64 / 1e6
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn emit(name: &str, fields: serde_json::Value) {
    let mut o = serde_json::json!({ "name": name });
    for (k, v) in fields.as_object().expect("object") {
        o[k] = v.clone();
    }
    println!("{o}");
    let _ = std::io::stdout().flush();
}

/// Times `f` repeatedly (at least 3, at most `BENCH_REPS`, about 10 s in all) and prints p50/p95;
/// `size` describes what one call returned.
fn timed<T>(name: &str, mut f: impl FnMut() -> Result<T>, size: impl Fn(&T) -> String) {
    // BENCH_ONLY="calendar|NHI": time only the queries whose name contains one of these (quick
    // runs while working on a few of them; the full run ignores it).
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        if !only.split('|').any(|w| !w.is_empty() && name.contains(w)) {
            return;
        }
    }
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let t = Instant::now();
    let first = match f() {
        Ok(v) => v,
        Err(e) => {
            emit(name, serde_json::json!({ "error": e.to_string() }));
            return;
        }
    };
    let first_ms = ms(t.elapsed());
    let what = size(&first);
    drop(first);
    let n = ((10_000.0 / first_ms.max(0.001)) as usize).clamp(3, reps.max(3));
    let mut times = Vec::with_capacity(n);
    let mut cpu = Vec::with_capacity(n);
    for _ in 0..n {
        let c = thread_cpu_ms();
        let t = Instant::now();
        let v = f().expect("same call again");
        times.push(ms(t.elapsed()));
        cpu.push(thread_cpu_ms() - c);
        drop(v);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu.sort_by(|a, b| a.partial_cmp(b).unwrap());
    emit(
        name,
        serde_json::json!({
            "p50_ms": percentile(&times, 0.5), "p95_ms": percentile(&times, 0.95),
            "cpu_p50_ms": percentile(&cpu, 0.5), "cpu_p95_ms": percentile(&cpu, 0.95),
            "first_ms": first_ms, "runs": n, "size": what,
        }),
    );
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn now() -> DateTime<Utc> {
    std::env::var("DRIFTWARDEN_NOW")
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}

fn passphrase() -> String {
    std::env::var("DRIFTWARDEN_PASSPHRASE").expect("DRIFTWARDEN_PASSPHRASE")
}

fn open(dir: &Path, plain: bool, clock: Arc<dyn Clock>) -> Result<Registry> {
    open_as(dir, plain, ADMIN, clock)
}

fn open_as(dir: &Path, plain: bool, who: &str, clock: Arc<dyn Clock>) -> Result<Registry> {
    if plain {
        Registry::open_unencrypted_copy(dir, who, &passphrase(), clock)
    } else {
        Registry::open_unswept(dir, who, &passphrase(), clock)
    }
}

fn run(dir: &Path, plain: bool, ingest_rows: usize) -> Result<()> {
    let now = now();
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(now));
    let pass = passphrase();

    // A registry from an older build is migrated on its first open (new indexes): once, untimed
    // in the unlock figures below.
    let t = Instant::now();
    drop(open(dir, plain, clock.clone())?);
    emit(
        "first open (incl. any schema migration)",
        serde_json::json!({ "p50_ms": ms(t.elapsed()), "runs": 1 }),
    );

    // Unlock: the KDF alone, then the whole open (KDF, slot, database, schema check).
    let slot = SlotFile::read(&slot_path(dir, ADMIN))?;
    let mut kdf = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let _ = slot.kdf.derive(&pass)?;
        kdf.push(ms(t.elapsed()));
    }
    kdf.sort_by(|a, b| a.partial_cmp(b).unwrap());
    emit(
        "unlock: KDF (Argon2id)",
        serde_json::json!({ "p50_ms": percentile(&kdf, 0.5), "p95_ms": kdf[2], "runs": 3 }),
    );
    let mut unlock = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = open(dir, plain, clock.clone())?;
        unlock.push(ms(t.elapsed()));
        drop(r);
    }
    unlock.sort_by(|a, b| a.partial_cmp(b).unwrap());
    emit(
        "unlock: total",
        serde_json::json!({ "p50_ms": percentile(&unlock, 0.5), "p95_ms": unlock[2], "runs": 3 }),
    );

    let mut reg = open(dir, plain, clock.clone())?;
    let t = Instant::now();
    let swept = reg.sweep()?;
    emit(
        "escalation sweep (first, on open)",
        serde_json::json!({ "p50_ms": ms(t.elapsed()), "runs": 1,
            "size": format!("{} escalated, {} lapsed", swept.escalated.len(), swept.lapsed.len()) }),
    );

    let hot = "model-00000";
    let models = reg
        .list_models_page(&ModelQuery {
            limit: 1,
            ..Default::default()
        })?
        .total;
    let typical = &format!("model-{:05}", 123.min((models - 1).max(0)));
    timed(
        "home view (inbox, the first 25)",
        || reg.inbox_with(&HOME_INBOX),
        |i| format!("{} items", i.items_total),
    );
    timed(
        "all models, filtered afterwards (list_models: the CLI's models list; tier high, active; 50 rows)",
        || {
            let all = reg.list_models()?;
            Ok(all
                .into_iter()
                .filter(|m| m.risk_tier == RiskTier::High && m.status == ModelStatus::Active)
                .take(50)
                .collect::<Vec<_>>())
        },
        |v| format!("{} rows", v.len()),
    );
    for (label, model) in [("hot", hot), ("typical", typical)] {
        timed(
            &format!("model page ({label} model): detail"),
            || reg.show_model(model),
            |d| format!("{} thresholds", d.thresholds.len()),
        );
        timed(
            &format!("model page ({label} model): drift chart data"),
            || reg.list_measurements(model, Some("psi")),
            |v| format!("{} points", v.len()),
        );
        timed(
            &format!("model page ({label} model): decision timeline with its sign-offs"),
            || reg.model_timeline(model),
            |t| format!("{} events, {} sign-offs", t.events.len(), t.signoffs.len()),
        );
    }
    timed(
        "model list page, paged API (tier high, active; 50 rows)",
        || {
            reg.list_models_page(&ModelQuery {
                risk_tier: Some("high".into()),
                status: Some("active".into()),
                limit: 50,
                ..Default::default()
            })
        },
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    timed(
        "model list page, paged API (search \"0042\", page 1)",
        || {
            reg.list_models_page(&ModelQuery {
                search: Some("0042".into()),
                limit: 50,
                ..Default::default()
            })
        },
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    for (label, model) in [("hot", hot), ("typical", typical)] {
        timed(
            &format!("model page ({label} model): drift chart, downsampled"),
            || reg.drift_series(model, "psi", None),
            |s| format!("{} of {} points", s.points.len(), s.total),
        );
    }
    timed(
        "exception list, paged API (newest 50)",
        || reg.list_exceptions_page(None, None, 0, 50),
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    timed(
        "audit log page (newest 100)",
        || reg.audit_log_page(None, 100),
        |v| format!("{} events", v.len()),
    );
    timed(
        "exception list (all)",
        || reg.list_exceptions(None, None),
        |v| format!("{} rows", v.len()),
    );
    timed(
        "exception list (escalated)",
        || reg.list_exceptions(Some("escalated"), None),
        |v| format!("{} rows", v.len()),
    );
    let today = now.date_naive();
    timed(
        "calendar for a month",
        || reg.calendar(today, today + Duration::days(30), None),
        |v| format!("{} items", v.len()),
    );
    timed(
        "NHI list with findings",
        || reg.list_nhis(),
        |v| format!("{} NHIs", v.len()),
    );
    timed(
        "calendar for a month, page (3 most overdue)",
        || reg.calendar_page(today, today + Duration::days(30), None, Some(3), None),
        |p| {
            format!(
                "{} items, {} overdue before",
                p.items.len(),
                p.overdue_before
            )
        },
    );
    timed(
        "home: my next 14 days, page (3 most overdue)",
        || {
            reg.calendar_page(
                today,
                today + Duration::days(14),
                Some(ADMIN),
                Some(3),
                None,
            )
        },
        |p| {
            format!(
                "{} items, {} overdue before",
                p.items.len(),
                p.overdue_before
            )
        },
    );
    timed(
        "calendar month view, query (3 most overdue, 5 NHI items a day)",
        || {
            reg.calendar_query(&CalendarQuery {
                from: today.to_string(),
                to: (today + Duration::days(41)).to_string(),
                member: None,
                overdue_limit: Some(3),
                per_day_limit: Some(5),
            })
        },
        |p| {
            format!(
                "{} items, {} more",
                p.items.len(),
                p.more.iter().map(|m| m.count).sum::<i64>()
            )
        },
    );
    timed(
        "home: my next 14 days, query (3 most overdue, 5 NHI items a day)",
        || {
            reg.calendar_query(&CalendarQuery {
                from: today.to_string(),
                to: (today + Duration::days(14)).to_string(),
                member: Some(ADMIN.into()),
                overdue_limit: Some(3),
                per_day_limit: Some(5),
            })
        },
        |p| {
            format!(
                "{} items, {} more",
                p.items.len(),
                p.more.iter().map(|m| m.count).sum::<i64>()
            )
        },
    );
    timed(
        "NHI list page, paged API (first 50)",
        || {
            reg.list_nhis_page(&NhiQuery {
                limit: 50,
                ..Default::default()
            })
        },
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    timed(
        "NHI list page, paged API (finding rotation-overdue, 50)",
        || {
            reg.list_nhis_page(&NhiQuery {
                finding: Some("rotation-overdue".into()),
                limit: 50,
                ..Default::default()
            })
        },
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    timed(
        "NHI list page, paged API (any finding, search \"0042\", 50)",
        || {
            reg.list_nhis_page(&NhiQuery {
                finding: Some("any".into()),
                search: Some("0042".into()),
                limit: 50,
                ..Default::default()
            })
        },
        |p| format!("{} of {} rows", p.items.len(), p.total),
    );
    timed(
        "NHI posture (reference: every NHI in Rust)",
        || reg.nhi_posture_reference(),
        |p| format!("{} models", p.per_model.len()),
    );
    timed(
        "NHI posture, home view (admin's models with findings, the first 25, no trend)",
        || reg.nhi_posture_with(&home_posture()),
        |p| format!("{} models", p.per_model_total),
    );
    timed(
        "NHI posture, all models, no trend",
        || reg.nhi_posture_with(&PostureQuery::default()),
        |p| format!("{} models", p.per_model.len()),
    );
    timed(
        "NHI posture",
        || reg.nhi_posture(),
        |p| format!("{} models", p.per_model.len()),
    );
    timed(
        "escalation sweep (nothing due)",
        || reg.sweep(),
        |r| format!("{} escalated", r.escalated.len()),
    );
    if std::env::var("BENCH_ONLY").is_ok() {
        // A narrowed run: the interactive queries only (no verification, ingest).
        return Ok(());
    }

    {
        let mut val = open_as(dir, plain, "val1@seed.example", clock.clone())?;
        timed(
            "home view (inbox, the first 25) of a validator/approver",
            || val.inbox_with(&HOME_INBOX),
            |i| format!("{} items", i.items_total),
        );
        // The sweep as that member too (nothing due: the read side of it).
        let _ = val.sweep();
    }

    // Verification splits over the cores: the CPU time of the whole process (all its threads).
    let t = Instant::now();
    let c = process_cpu_ms();
    let v = reg.verify_log()?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = process_cpu_ms() - c;
    emit(
        "audit log verification",
        serde_json::json!({ "p50_ms": secs * 1000.0, "cpu_p50_ms": cpu, "cpu_rate": v.events as f64 / (cpu / 1000.0), "runs": 1, "ok": v.ok,
            "size": format!("{} events", v.events), "rate": v.events as f64 / secs, "unit": "events/s" }),
    );

    let t = Instant::now();
    let c = thread_cpu_ms();
    let r = reg.verify_log_reference()?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = thread_cpu_ms() - c;
    emit(
        "audit log verification, before (every payload parsed and canonicalised)",
        serde_json::json!({ "p50_ms": secs * 1000.0, "cpu_p50_ms": cpu, "cpu_rate": r.events as f64 / (cpu / 1000.0), "runs": 1, "ok": r.ok,
            "size": format!("{} events", r.events), "rate": r.events as f64 / secs, "unit": "events/s" }),
    );

    if v.events > 10_000 {
        let from = v.events - 10_000;
        let hash = reg.audit_log_page(Some(from + 1), 1)?[0].hash.clone();
        let t = Instant::now();
        let r = reg.verify_log_from(from, &hash)?;
        let secs = t.elapsed().as_secs_f64();
        emit(
            "audit log verification from the last verified head (10,000 new events)",
            serde_json::json!({ "p50_ms": secs * 1000.0, "runs": 1, "ok": r.ok,
                "size": "10000 events", "rate": 10_000.0 / secs, "unit": "events/s" }),
        );
    }

    if ingest_rows > 0 {
        ingest(&mut reg, now, ingest_rows)?;
    }
    emit(
        "peak memory (VmHWM)",
        serde_json::json!({ "kib": vm_hwm_kib() }),
    );
    Ok(())
}

/// Times one import of `rows` generated measurements (two metrics over every model, one per
/// second up to now) into the open registry.
fn ingest(reg: &mut Registry, now: DateTime<Utc>, ingest_rows: usize) -> Result<()> {
    let models: i64 = reg.list_models()?.len() as i64;
    let csv = std::env::temp_dir().join(format!("bench-scale-ingest-{}.csv", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).expect("temporary CSV"));
        writeln!(f, "model,version,metric,value,observed_at").unwrap();
        let start = now - Duration::seconds(ingest_rows as i64);
        for r in 0..ingest_rows {
            let m = r as i64 % models.max(1);
            let at = start + Duration::seconds(r as i64);
            writeln!(
                f,
                "model-{m:05},1.0,{},{:.4},{}",
                if r % 2 == 0 { "psi" } else { "drift_share" },
                0.03 + (r % 97) as f64 / 2000.0,
                at.format("%Y-%m-%dT%H:%M:%SZ")
            )
            .unwrap();
        }
    }
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let report = reg.ingest_file(
        &csv,
        &IngestOptions {
            format: IngestFormat::Csv,
            model: None,
            observed_at: None,
        },
        &mut |_| {},
    )?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let _ = std::fs::remove_file(&csv);
    emit(
        "ingest of measurements (CSV)",
        serde_json::json!({ "p50_ms": secs * 1000.0, "runs": 1, "size": format!("{} rows", report.rows),
            "rate": report.rows as f64 / secs, "unit": "rows/s", "cpu_s": cpu }),
    );
    Ok(())
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// This process's I/O counters (`/proc/self/io`: bytes and read/write calls).
fn proc_io() -> std::collections::BTreeMap<String, i64> {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// `ingest DIR [--plain] ROWS`: only the import, then the memory it left behind.
fn ingest_only(dir: &Path, plain: bool, rows: usize) -> Result<()> {
    let now = now();
    let mut reg = open(dir, plain, Arc::new(FixedClock(now)))?;
    emit(
        "open",
        serde_json::json!({ "vm_rss_kib": vm_rss_kib(), "vm_hwm_kib": vm_hwm_kib() }),
    );
    let io0 = proc_io();
    ingest(&mut reg, now, rows)?;
    let io1 = proc_io();
    let io: serde_json::Map<String, serde_json::Value> = io1
        .iter()
        .map(|(k, v)| (k.clone(), (v - io0.get(k).copied().unwrap_or(0)).into()))
        .collect();
    emit(
        "after ingest",
        serde_json::json!({ "vm_rss_kib": vm_rss_kib(), "vm_hwm_kib": vm_hwm_kib(), "io": io }),
    );
    Ok(())
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, from /proc/self/stat (clock ticks; 100 per second on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// What the desktop does between the click on Open and Home on screen, each step timed once
/// with the connection's cache cold (as after unlock: the desktop's 16 MiB), then the reads again
/// warm. One JSON object per line.
/// What the home view asks of the inbox: the first few decisions and lapsed approvals.
const HOME_INBOX: InboxQuery = InboxQuery { limit: Some(25) };

/// What the home view asks of the NHI posture: the signed-in member's models with findings.
fn home_posture() -> PostureQuery {
    PostureQuery {
        model_owner: Some(ADMIN.into()),
        findings_only: true,
        limit: Some(25),
        ..Default::default()
    }
}

fn home_cold(dir: &Path, plain: bool) -> Result<()> {
    let today = now().date_naive();
    let t = Instant::now();
    let mut reg = open(dir, plain, Arc::new(FixedClock(now())))?;
    let opened = ms(t.elapsed());
    emit(
        "open (unlock, no sweep)",
        serde_json::json!({ "p50_ms": opened }),
    );
    reg.set_page_cache_mib(16)?;
    let t = Instant::now();
    reg.sweep()?;
    emit(
        "sweep on open",
        serde_json::json!({ "p50_ms": ms(t.elapsed()) }),
    );
    for pass in ["cold", "warm"] {
        let mut total = 0.0;
        let mut step = |name: &str, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
            let t = Instant::now();
            f()?;
            let took = ms(t.elapsed());
            total += took;
            emit(
                &format!("{pass}: {name}"),
                serde_json::json!({ "p50_ms": took }),
            );
            Ok(())
        };
        fn size<T: serde::Serialize>(r: Result<T>) -> Result<()> {
            let v = r?;
            eprintln!(
                "  response: {} bytes of JSON",
                serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0)
            );
            Ok(())
        }
        step("session", &mut || reg.session().map(drop))?;
        step("model count", &mut || {
            reg.list_models_page(&ModelQuery {
                limit: 1,
                ..Default::default()
            })
            .map(drop)
        })?;
        step("production models", &mut || {
            reg.list_models_page(&ModelQuery {
                deployment_mode: Some("production".into()),
                status: Some("active".into()),
                limit: 1,
                ..Default::default()
            })
            .map(drop)
        })?;
        step("members", &mut || size(reg.list_members()))?;
        step("inbox", &mut || size(reg.inbox_with(&HOME_INBOX)))?;
        step("NHI posture of my models", &mut || {
            size(reg.nhi_posture_with(&home_posture()))
        })?;
        step("next 14 days", &mut || {
            size(reg.calendar_query(&CalendarQuery {
                from: today.to_string(),
                to: (today + Duration::days(14)).to_string(),
                member: Some(ADMIN.into()),
                overdue_limit: Some(3),
                per_day_limit: Some(5),
            }))
        })?;
        step("sweep again (the app's timer)", &mut || {
            reg.sweep().map(drop)
        })?;
        emit(
            &format!("{pass}: all of Home's reads"),
            serde_json::json!({ "p50_ms": total }),
        );
    }
    Ok(())
}

/// Only the chain verification, `reps` times split over the cores and `reps` times on one
/// thread: wall and CPU (all threads) of each run, one JSON object per line.
fn verify_only(dir: &Path, plain: bool, reps: usize) -> Result<()> {
    let reg = open(dir, plain, Arc::new(FixedClock(now())))?;
    for (label, threads) in [("split over the cores", 0), ("one thread", 1)] {
        for _ in 0..reps {
            let (t, c) = (Instant::now(), process_cpu_ms());
            let v = if threads == 0 {
                reg.verify_log()?
            } else {
                reg.verify_log_in(threads)?
            };
            let (secs, cpu) = (t.elapsed().as_secs_f64(), process_cpu_ms() - c);
            emit(
                &format!("audit log verification, {label}"),
                serde_json::json!({ "p50_ms": secs * 1000.0, "cpu_ms": cpu, "ok": v.ok,
                    "events": v.events, "rate": v.events as f64 / secs,
                    "cpu_rate": v.events as f64 / (cpu / 1000.0), "unit": "events/s" }),
            );
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") if args.len() >= 2 => {
            let dir = PathBuf::from(&args[1]);
            let plain = args.iter().any(|a| a == "--plain");
            let ingest = args
                .iter()
                .position(|a| a == "--ingest")
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            run(&dir, plain, ingest)
        }
        Some("ingest") if args.len() >= 3 => {
            let dir = PathBuf::from(&args[1]);
            let plain = args.iter().any(|a| a == "--plain");
            match args
                .iter()
                .skip(2)
                .find(|a| *a != "--plain")
                .and_then(|v| v.parse().ok())
            {
                Some(rows) => ingest_only(&dir, plain, rows),
                None => {
                    eprintln!("usage: bench_scale ingest DIR [--plain] ROWS");
                    std::process::exit(2);
                }
            }
        }
        Some("home") if args.len() >= 2 => home_cold(
            &PathBuf::from(&args[1]),
            args.iter().any(|a| a == "--plain"),
        ),
        Some("verify") if args.len() >= 2 => {
            let dir = PathBuf::from(&args[1]);
            let plain = args.iter().any(|a| a == "--plain");
            let reps = args
                .iter()
                .skip(2)
                .find(|a| *a != "--plain")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5);
            verify_only(&dir, plain, reps)
        }
        Some("export-plain") if args.len() == 3 => Registry::open_unswept(
            Path::new(&args[1]),
            ADMIN,
            &passphrase(),
            Arc::new(FixedClock(now())),
        )
        .and_then(|r| r.export_unencrypted_copy(Path::new(&args[2]))),
        _ => {
            eprintln!(
                "usage: bench_scale run DIR [--plain] [--ingest ROWS] | ingest DIR [--plain] ROWS | verify DIR [--plain] [REPS] | home DIR [--plain] | export-plain DIR DEST"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("bench_scale: {e}");
        std::process::exit(1);
    }
}

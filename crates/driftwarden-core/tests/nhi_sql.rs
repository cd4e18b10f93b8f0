//! The SQL paths of the NHI list page, the posture and the calendar's NHI items against the Rust
//! reference (`list_nhis`, `nhi_posture_reference`), over a real SQLCipher registry holding every
//! kind of finding, accepted and lapsed acceptances, revoked and orphaned identities, with the
//! injected clock moved across rotation, expiry and acceptance dates.

use chrono::NaiveDate;
use driftwarden_core::*;

use crate::common::*;

fn add(reg: &mut Registry, name: &str, f: impl FnOnce(&mut AddNhi)) {
    let mut n = AddNhi {
        name: name.into(),
        kind: "service-account".into(),
        system: "GCP".into(),
        owner: ADMIN.into(),
        rotation_days: 90,
        last_rotated: Some("2026-10-01".into()),
        expires: Some("2027-06-01".into()),
        environment: Some("production".into()),
        scopes: vec!["read:features".into()],
        ..Default::default()
    };
    f(&mut n);
    reg.add_nhi(&n).unwrap();
}

/// A registry with every finding, several per NHI, edge cases of each rule, links, acceptances
/// (one lapsing on 2026-12-01), a revoked NHI and an offboarded owner.
fn registry() -> Team {
    let (t, mut ana) = Team::new(); // 2026-11-02
    ana.set_member_roles(
        BOB,
        &["validator".into(), "approver".into(), "owner".into()],
    )
    .unwrap();
    governed_model(&mut ana, false);
    for m in ["fraud", "churn"] {
        add_model(&mut ana, m);
    }
    ana.add_model(&AddModel {
        name: "bobs-model".into(),
        version: "1".into(),
        owner: BOB.into(),
        intended_use: "u".into(),
        business_function: "f".into(),
        risk_tier: "low".into(),
        deployment_mode: None,
        regulated: false,
    })
    .unwrap();
    add(&mut ana, "clean", |_| {});
    add(&mut ana, "old", |n| {
        n.last_rotated = Some("2026-01-01".into())
    });
    add(&mut ana, "never-rotated", |n| n.last_rotated = None);
    add(&mut ana, "yearly", |n| {
        n.rotation_days = 365;
        n.last_rotated = Some("2026-02-10".into())
    });
    add(&mut ana, "expired", |n| {
        n.expires = Some("2026-11-01".into())
    });
    add(&mut ana, "expires-today", |n| {
        n.expires = Some("2026-11-02".into())
    });
    add(&mut ana, "expiring-30", |n| {
        n.expires = Some("2026-12-02".into())
    });
    add(&mut ana, "expiring-31", |n| {
        n.expires = Some("2026-12-03".into())
    });
    add(&mut ana, "forever", |n| n.expires = None);
    add(&mut ana, "two-envs", |n| {
        n.environment = Some("staging, production".into())
    });
    add(&mut ana, "same-env-twice", |n| {
        n.environment = Some("Prod; prod ,".into())
    });
    add(&mut ana, "trailing-comma", |n| {
        n.environment = Some("prod,".into())
    });
    add(&mut ana, "no-env", |n| n.environment = None);
    add(&mut ana, "laptop", |n| n.human_use = true);
    for (name, scope) in [
        ("owner-role", "roles/owner"),
        ("wildcard", "storage:*"),
        ("path-wildcard", "buckets/*"),
        ("star", "*"),
        ("upper-admin", "ADMIN:write"),
        ("full-access", "AmazonS3FullAccess"),
        ("full_access", "full_access"),
        ("all-access", "all-access:read"),
        ("owner-word", "owner"),
        ("not-owner", "owners-list:read"),
        ("star-inside", "a*b"),
        ("quote", "say \"admin\""),
    ] {
        add(&mut ana, name, |n| {
            n.scopes = vec!["read".into(), scope.into()];
            n.kind = "api-key".into()
        });
    }
    add(&mut ana, "everything", |n| {
        n.last_rotated = Some("2025-12-01".into());
        n.expires = None;
        n.environment = Some("dev,prod".into());
        n.human_use = true;
        n.scopes = vec!["*".into()];
        n.owner = BOB.into();
        n.kind = "token".into();
        n.identifier = Some("client-42".into());
    });
    add(&mut ana, "bobs", |n| {
        n.owner = BOB.into();
        n.system = "AWS".into()
    });
    add(&mut ana, "quoted", |n| {
        n.identifier = Some("q\"uote-id".into());
        n.system = "Zürich-GW".into();
    });
    add(&mut ana, "upper-umlaut", |n| n.system = "ÜBER-API".into());
    add(&mut ana, "revoked", |n| {
        n.last_rotated = Some("2026-01-01".into());
        n.scopes = vec!["*".into()];
        n.expires = None
    });
    ana.revoke_nhi("revoked", "gone").unwrap();
    for (nhi, model) in [
        ("clean", "credit-risk"),
        ("clean", "fraud"),
        ("old", "credit-risk"),
        ("everything", "credit-risk"),
        ("everything", "fraud"),
        ("everything", "churn"),
        ("laptop", "churn"),
        ("revoked", "fraud"),
        ("revoked", "churn"),
        ("expired", "fraud"),
        ("expired", "bobs-model"),
        ("everything", "bobs-model"),
    ] {
        ana.link_nhi(nhi, model, "reads").unwrap();
    }
    ana.accept_nhi_finding("old", "rotation-overdue", "2027-03-01", "migration")
        .unwrap();
    ana.accept_nhi_finding("everything", "human-use", "2026-12-01", "break glass")
        .unwrap();
    ana.accept_nhi_finding("everything", "shared", "2027-02-01", "batch")
        .unwrap();
    ana.accept_nhi_finding("laptop", "human-use", "2027-01-15", "pairing")
        .unwrap();
    ana.rotate_nhi("never-rotated", "2026-10-20").unwrap();
    // Bob leaves with identities still his (an older registry, before offboarding checked).
    raw_db(&t.fx.dir, ADMIN, ADMIN_PASS)
        .execute(
            "UPDATE members SET status = 'offboarded' WHERE email = ?1",
            [BOB],
        )
        .unwrap();
    t
}

/// Which NHIs a query should return.
type Matches = Box<dyn Fn(&NhiView) -> bool>;

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

fn page_all(reg: &Registry, q: NhiQuery) -> (i64, Vec<NhiView>) {
    let mut out = Vec::new();
    let mut total;
    loop {
        let p = reg
            .list_nhis_page(&NhiQuery {
                offset: out.len() as i64,
                limit: 7,
                ..q.clone()
            })
            .unwrap();
        total = p.total;
        let n = p.items.len();
        out.extend(p.items);
        if n < 7 {
            break;
        }
    }
    assert_eq!(out.len() as i64, total);
    (total, out)
}

fn open(v: &NhiView) -> Vec<&str> {
    v.findings
        .iter()
        .filter(|f| f.accepted.is_none())
        .map(|f| f.code.as_str())
        .collect()
}

/// Search terms: every field, case, both paths (under 3 characters: the scan), a linked model's
/// `name@version` (only searched when the name has several versions), quotes, FTS syntax,
/// non-ASCII letters (which lower() does not fold but the trigram index does).
const SEARCH_TERMS: &[&str] = &[
    "fraud",
    "FRAUD",
    "fraud@",
    "d@9",
    "isk@1",
    "gcp",
    "aws",
    "ACME.TEST",
    "bob@",
    "prod",
    "pr",
    "o",
    " ,",
    "staging, p",
    "api-key",
    "client-4",
    "-42",
    "q\"u",
    "\"",
    "a\"b OR c",
    "zürich",
    "ZÜRICH",
    "über",
    "ÜBER",
    "nope-nothing",
    "ever",
    "  laptop  ",
];

/// The search rule: `lower(field)` (ASCII letters only) contains the lowercased term.
fn search_matches(v: &NhiView, term: &str) -> bool {
    let mut fields = vec![
        v.name.clone(),
        v.kind.as_str().to_string(),
        v.system.clone(),
        v.owner.clone(),
        v.environment.clone().unwrap_or_default(),
        v.identifier.clone().unwrap_or_default(),
    ];
    fields.extend(v.linked_models.iter().cloned());
    fields.iter().any(|f| f.to_ascii_lowercase().contains(term))
}

fn check(reg: &Registry, today: &str) {
    check_with(reg, today, true)
}

/// `check`; `canonical`: the registry as `registry()` built it, so that every finding kind is
/// present on its first day and each filter case matches something (after other changes the
/// comparisons alone hold).
fn check_with(reg: &Registry, today: &str, canonical: bool) {
    let all = reg.list_nhis().unwrap();
    if canonical && today == "2026-11-02" {
        for code in FINDING_CODES {
            assert!(
                all.iter()
                    .any(|v| v.findings.iter().any(|f| f.code == *code)),
                "no {code} finding"
            );
        }
    }
    // The whole list, page by page, is the reference list.
    let (_, paged) = page_all(reg, NhiQuery::default());
    assert_eq!(json(&paged), json(&all), "{today}: unfiltered pages");
    // Each finding filter (open findings) against the reference.
    let mut filters: Vec<String> = FINDING_CODES.iter().map(|c| c.to_string()).collect();
    filters.push("any".into());
    for f in &filters {
        let want: Vec<&NhiView> = all
            .iter()
            .filter(|v| {
                let o = open(v);
                if f == "any" {
                    !o.is_empty()
                } else {
                    o.contains(&f.as_str())
                }
            })
            .collect();
        let (total, got) = page_all(
            reg,
            NhiQuery {
                finding: Some(f.clone()),
                ..Default::default()
            },
        );
        assert_eq!(total, want.len() as i64, "{today}: finding {f}");
        assert_eq!(json(&got), json(&want), "{today}: finding {f}");
    }
    // Other filters.
    let cases: Vec<(NhiQuery, Matches)> = vec![
        (
            NhiQuery {
                kind: Some("api-key".into()),
                ..Default::default()
            },
            Box::new(|v| v.kind == NhiKind::ApiKey),
        ),
        (
            NhiQuery {
                status: Some("revoked".into()),
                ..Default::default()
            },
            Box::new(|v| v.status == NhiStatus::Revoked),
        ),
        (
            NhiQuery {
                owner: Some(BOB.into()),
                finding: Some("orphaned".into()),
                ..Default::default()
            },
            Box::new(|v| v.owner == BOB && open(v).contains(&"orphaned")),
        ),
        (
            NhiQuery {
                environment: Some("dev,prod".into()),
                ..Default::default()
            },
            Box::new(|v| v.environment.as_deref() == Some("dev,prod")),
        ),
        (
            NhiQuery {
                search: Some("FRAUD".into()),
                ..Default::default()
            },
            Box::new(|v| v.linked_models.iter().any(|m| m.contains("fraud"))),
        ),
        (
            NhiQuery {
                search: Some("client-4".into()),
                ..Default::default()
            },
            Box::new(|v| v.identifier.as_deref() == Some("client-42")),
        ),
        (
            NhiQuery {
                search: Some("aws".into()),
                status: Some("active".into()),
                ..Default::default()
            },
            Box::new(|v| v.system == "AWS" && v.status == NhiStatus::Active),
        ),
    ];
    for (q, want) in cases {
        let want: Vec<&NhiView> = all.iter().filter(|v| want(v)).collect();
        assert!(!canonical || !want.is_empty(), "{q:?} matches something");
        let (_, got) = page_all(reg, q.clone());
        assert_eq!(json(&got), json(&want), "{today}: {q:?}");
    }
    // Search: the trigram index (terms of 3 characters or more) or the scan (shorter terms)
    // against the substring rule over the same fields (lower() folds ASCII only).
    for term in SEARCH_TERMS {
        let t = term.trim().to_lowercase();
        let want: Vec<&NhiView> = all.iter().filter(|v| search_matches(v, &t)).collect();
        let (total, got) = page_all(
            reg,
            NhiQuery {
                search: Some(term.to_string()),
                ..Default::default()
            },
        );
        assert_eq!(total, want.len() as i64, "{today}: search {term:?}");
        assert_eq!(json(&got), json(&want), "{today}: search {term:?}");
        // With a finding filter (the benchmark's query).
        let want: Vec<&NhiView> = want.into_iter().filter(|v| !open(v).is_empty()).collect();
        let (_, got) = page_all(
            reg,
            NhiQuery {
                search: Some(term.to_string()),
                finding: Some("any".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            json(&got),
            json(&want),
            "{today}: search {term:?}, any finding"
        );
    }
    // Posture: aggregate SQL against the reference.
    assert_eq!(
        json(&reg.nhi_posture().unwrap()),
        json(&reg.nhi_posture_reference().unwrap()),
        "{today}: posture"
    );
    // The home view's posture: one member's models, no trend.
    let reference = reg.nhi_posture_reference().unwrap();
    for who in [BOB, ADMIN] {
        let p = reg
            .nhi_posture_with(&PostureQuery {
                model_owner: Some(who.into()),
                ..Default::default()
            })
            .unwrap();
        let owned: Vec<String> = reg
            .list_models()
            .unwrap()
            .into_iter()
            .filter(|m| m.owner == who)
            .map(|m| m.display_name)
            .collect();
        let want: Vec<&ModelPosture> = reference
            .per_model
            .iter()
            .filter(|m| owned.contains(&m.model))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(json(&p.per_model), json(&want), "{today}: {who}'s models");
        assert!(p.trend.is_empty());
        assert_eq!(json(&p.open_findings), json(&reference.open_findings));
        assert_eq!(p.per_model_total, want.len() as i64);
        // The home view's ask: only the models with findings, the first two, and how many.
        let with_findings: Vec<&&ModelPosture> =
            want.iter().filter(|m| m.open_findings > 0).collect();
        let home = reg
            .nhi_posture_with(&PostureQuery {
                model_owner: Some(who.into()),
                findings_only: true,
                limit: Some(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            home.per_model_total,
            with_findings.len() as i64,
            "{today}: {who}"
        );
        assert_eq!(
            json(&home.per_model),
            json(&with_findings.iter().take(2).collect::<Vec<_>>()),
            "{today}: {who}'s first models with findings"
        );
        assert_eq!(json(&home.open_findings), json(&reference.open_findings));
    }
    // Calendar: the NHI items of several ranges against the reference list.
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let t = d(today);
    for (from, to) in [
        (t, t),
        (t, t + chrono::Duration::days(14)),
        (d("2026-12-01"), d("2026-12-31")),
        (d("2026-10-01"), d("2027-03-01")),
    ] {
        let items = reg.calendar(from, to, None).unwrap();
        let got: Vec<(String, String, bool)> = items
            .iter()
            .filter(|i| i.entity_type == "nhi")
            .map(|i| (i.uid.clone(), i.date.clone(), i.overdue))
            .collect();
        let mut want: Vec<(String, String, bool)> = Vec::new();
        for v in all.iter().filter(|v| v.status == NhiStatus::Active) {
            for (kind, date) in [
                ("rotation-due", Some(v.rotation_due.clone())),
                ("nhi-expiry", v.expires.clone()),
            ] {
                let Some(date) = date else { continue };
                let dd = d(&date);
                if (from..=to).contains(&dd) || (dd < t && dd < from) {
                    want.push((format!("{kind}-nhi-{}@", v.id), date, dd < t));
                }
            }
        }
        let mut got_cut: Vec<(String, String, bool)> = got
            .iter()
            .map(|(u, dt, o)| (u[..u.find('@').unwrap() + 1].to_string(), dt.clone(), *o))
            .collect();
        got_cut.sort();
        want.sort();
        assert_eq!(got_cut, want, "{today}: calendar {from}..{to}");
        // The capped page: the same items in range, the most overdue few, the full count.
        let page = reg.calendar_page(from, to, None, Some(2), None).unwrap();
        let overdue_before: Vec<&CalendarItem> = items
            .iter()
            .filter(|i| i.overdue && i.date < from.to_string())
            .collect();
        assert_eq!(page.overdue_before, overdue_before.len() as i64);
        assert_eq!(
            page.overdue_by_kind.iter().map(|k| k.count).sum::<i64>(),
            page.overdue_before
        );
        let mut want_page: Vec<&CalendarItem> = items
            .iter()
            .filter(|i| !(i.overdue && i.date < from.to_string()))
            .collect();
        want_page.extend(overdue_before.iter().take(2));
        want_page.sort_by(|a, b| (&a.date, &a.kind, &a.uid).cmp(&(&b.date, &b.kind, &b.uid)));
        assert_eq!(json(&page.items), json(&want_page), "{today}: capped");
        // At most one NHI item per day and kind; the rest counted by day.
        for member in [None, Some(BOB)] {
            let full: Vec<CalendarItem> = reg
                .calendar(from, to, member)
                .unwrap()
                .into_iter()
                .filter(|i| !(i.overdue && i.date < from.to_string()))
                .collect();
            let page = reg
                .calendar_query(&CalendarQuery {
                    from: from.to_string(),
                    to: to.to_string(),
                    member: member.map(str::to_string),
                    overdue_limit: Some(0),
                    per_day_limit: Some(1),
                })
                .unwrap();
            let mut groups: std::collections::BTreeMap<(String, String), Vec<&CalendarItem>> =
                Default::default();
            for i in full.iter().filter(|i| i.entity_type == "nhi") {
                groups
                    .entry((i.date.clone(), i.kind.clone()))
                    .or_default()
                    .push(i);
            }
            let others: Vec<&CalendarItem> =
                full.iter().filter(|i| i.entity_type != "nhi").collect();
            let listed_others: Vec<&CalendarItem> = page
                .items
                .iter()
                .filter(|i| i.entity_type != "nhi")
                .collect();
            assert_eq!(json(&listed_others), json(&others), "{today}: one a day");
            let mut want_more = Vec::new();
            for ((date, kind), list) in &groups {
                // One of the day's items is listed, as the full calendar has it.
                let listed: Vec<&CalendarItem> = page
                    .items
                    .iter()
                    .filter(|i| i.entity_type == "nhi" && &i.date == date && &i.kind == kind)
                    .collect();
                assert_eq!(listed.len(), 1, "{today}: {date} {kind}");
                assert!(
                    list.iter().any(|i| json(i) == json(listed[0])),
                    "{today}: {date} {kind}"
                );
                if list.len() > 1 {
                    want_more.push((date.clone(), kind.clone(), list.len() as i64 - 1));
                }
            }
            assert_eq!(
                page.items.len(),
                others.len() + groups.len(),
                "{today}: one a day"
            );
            let more: Vec<(String, String, i64)> = page
                .more
                .iter()
                .map(|m| (m.date.clone(), m.kind.clone(), m.count))
                .collect();
            assert_eq!(more, want_more, "{today}: one a day, more");
        }
        // One member's calendar is the filtered calendar.
        let mine = reg.calendar(from, to, Some(BOB)).unwrap();
        let want_mine: Vec<&CalendarItem> = items
            .iter()
            .filter(|i| i.member.as_deref() == Some(BOB))
            .collect();
        assert_eq!(json(&mine), json(&want_mine));
        // One member's capped page: their items in range and their single most overdue item
        // (approvals, exceptions and NHIs alike), counted in all.
        let mine_page = reg
            .calendar_page(from, to, Some(BOB), Some(1), None)
            .unwrap();
        let is_before = |i: &&CalendarItem| i.overdue && i.date < from.to_string();
        let mine_before: Vec<&CalendarItem> = mine.iter().filter(is_before).collect();
        assert_eq!(mine_page.overdue_before, mine_before.len() as i64);
        let mut want_mine_page: Vec<&CalendarItem> =
            mine.iter().filter(|i| !is_before(i)).collect();
        want_mine_page.extend(mine_before.iter().take(1));
        want_mine_page.sort_by(|a, b| (&a.date, &a.kind, &a.uid).cmp(&(&b.date, &b.kind, &b.uid)));
        assert_eq!(
            json(&mine_page.items),
            json(&want_mine_page),
            "{today}: {BOB}'s capped page"
        );
    }
}

#[test]
fn sql_findings_posture_and_calendar_match_the_rust_reference() {
    let t = registry();
    for (y, m, d) in [
        (2026, 11, 2),
        (2026, 12, 2),
        (2026, 12, 31),
        (2027, 1, 20),
        (2027, 6, 1),
    ] {
        t.clock.set(y, m, d);
        let reg = t.open(ADMIN);
        check(&reg, &format!("{y:04}-{m:02}-{d:02}"));
    }
}

#[test]
fn nhi_page_refuses_bad_queries() {
    let t = registry();
    let reg = t.open(ADMIN);
    for (q, field) in [
        (
            NhiQuery {
                limit: 0,
                ..Default::default()
            },
            "limit",
        ),
        (
            NhiQuery {
                limit: 10,
                offset: -1,
                ..Default::default()
            },
            "offset",
        ),
        (
            NhiQuery {
                limit: 10,
                finding: Some("nope".into()),
                ..Default::default()
            },
            "finding",
        ),
        (
            NhiQuery {
                limit: 10,
                kind: Some("robot".into()),
                ..Default::default()
            },
            "kind",
        ),
    ] {
        let err = reg.list_nhis_page(&q).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{q:?}");
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn calendar_query_refuses_bad_ranges() {
    let t = registry();
    let reg = t.open(ADMIN);
    let q = |from: &str, to: &str, limit: Option<i64>| CalendarQuery {
        from: from.into(),
        to: to.into(),
        member: None,
        overdue_limit: limit,
        per_day_limit: None,
    };
    for (query, field) in [
        (q("2026-11-31", "2026-12-01", None), "from"),
        (q("2026-11-02", "2026-11-01", None), "to"),
        (q("2026-11-02", "2028-11-01", None), "to"),
        (q("2026-11-02", "2026-11-30", Some(-1)), "overdue_limit"),
        (q("2026-11-02", "2026-11-30", Some(501)), "overdue_limit"),
    ] {
        let err = reg.calendar_query(&query).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{query:?}");
        assert!(err.to_string().contains(field), "{err}");
    }
    let ok = reg
        .calendar_query(&q("2026-11-02", "2026-11-30", Some(500)))
        .unwrap();
    assert!(!ok.items.is_empty());
}

/// The columns schema 7 derives (flags, link count, rotation date, day-independent findings, the
/// search index) recomputed from scratch and compared with what is stored; the flags against the
/// Rust rules (the findings of `list_nhis`).
fn check_stored(t: &Team) {
    let reg = t.open(ADMIN);
    let db = raw_db(&t.fx.dir, ADMIN, ADMIN_PASS);
    let drift: Vec<(String, String)> = db
        .prepare(
            "SELECT n.name, 'rotation_due ' || coalesce(n.rotation_due, 'NULL') FROM nhis n
             WHERE n.rotation_due IS NOT date(coalesce(n.last_rotated, substr(n.created_at, 1, 10)),
                                              '+' || n.rotation_days || ' days')
             UNION ALL
             SELECT n.name, 'link_count ' || n.link_count FROM nhis n
             WHERE n.link_count != (SELECT count(*) FROM nhi_links l WHERE l.nhi_id = n.id)
             UNION ALL
             SELECT n.name, 'static_findings ' || n.static_findings FROM nhis n
             WHERE n.static_findings != n.multi_env + (n.link_count > 1) + n.human_use + n.privileged
             UNION ALL
             SELECT n.name, 'search ' || coalesce(s.body, 'missing') FROM nhis n
             LEFT JOIN nhi_search s ON s.rowid = n.id
             WHERE s.body IS NOT n.name || char(10) || n.kind || char(10) || n.system || char(10)
                 || coalesce(n.environment, '') || char(10) || coalesce(n.identifier, '')
                 || coalesce((SELECT group_concat(char(10) || m.name || '@' || m.version, '')
                              FROM nhi_links l JOIN models m ON m.id = l.model_id
                              WHERE l.nhi_id = n.id), '')
             UNION ALL
             SELECT 'search index', 'entries ' || count(*) FROM nhi_search
             HAVING count(*) != (SELECT count(*) FROM nhis)",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(drift.is_empty(), "stored columns drifted: {drift:?}");
    let flags: std::collections::HashMap<String, (bool, bool)> = db
        .prepare("SELECT name, multi_env, privileged FROM nhis")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (r.get::<_, i64>(1)? != 0, r.get::<_, i64>(2)? != 0),
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let all = reg.list_nhis().unwrap();
    assert_eq!(flags.len(), all.len());
    for v in all.iter().filter(|v| v.status == NhiStatus::Active) {
        let has = |c: &str| v.findings.iter().any(|f| f.code == c);
        assert_eq!(
            flags[&v.name],
            (has("multi-environment"), has("overprivileged")),
            "{}: stored flags",
            v.name
        );
    }
}

/// After every kind of change (add, import, update of each field, rotation, revocation, link,
/// a new version of a linked model, re-owning, an owner leaving and coming back, acceptance) and
/// as the days pass, the stored columns equal a recomputation and the SQL findings, pages,
/// search and posture equal the Rust reference.
#[test]
fn stored_finding_columns_follow_every_change() {
    let t = registry();
    check_stored(&t);
    let today = || t.clock.now().date_naive().to_string();
    let step = |what: &str, f: &dyn Fn(&mut Registry)| {
        let mut reg = t.open(ADMIN);
        f(&mut reg);
        drop(reg);
        check_stored(&t);
        check_with(&t.open(ADMIN), &today(), false);
        eprintln!("checked after {what}");
    };
    step("add", &|r| {
        add(r, "late-add", |n| {
            n.environment = Some("a;b".into());
            n.scopes = vec!["x/*".into()];
            n.human_use = true;
            n.last_rotated = None;
        })
    });
    step("import", &|r| {
        let path = t.fx.dir.parent().unwrap().join("more.csv");
        std::fs::write(
            &path,
            format!(
                "name,kind,system,owner,rotation_days,last_rotated,expires,environment,scopes,identifier,human_use\n\
                 imp-multi,api-key,Kafka,{ADMIN},30,2026-09-01,,dev;prod,read,imp-1,false\n\
                 imp-admin,token,Vault,{ADMIN},60,2026-10-30,2026-11-20,prod,read;Admin:all,,true\n"
            ),
        )
        .unwrap();
        assert_eq!(r.import_nhis(&path).unwrap(), 2);
    });
    step("update environment", &|r| {
        r.update_nhi(
            "two-envs",
            &UpdateNhi {
                environment: Some("production".into()),
                ..Default::default()
            },
        )
        .unwrap();
        r.update_nhi(
            "clean",
            &UpdateNhi {
                environment: Some("prod, dr".into()),
                ..Default::default()
            },
        )
        .unwrap();
    });
    step(
        "update scopes, human use, expiry, rotation, identifier, system",
        &|r| {
            r.update_nhi(
                "wildcard",
                &UpdateNhi {
                    scopes: Some(vec!["storage:read".into()]),
                    ..Default::default()
                },
            )
            .unwrap();
            r.update_nhi(
                "yearly",
                &UpdateNhi {
                    scopes: Some(vec!["roles/owner".into()]),
                    human_use: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
            r.update_nhi(
                "laptop",
                &UpdateNhi {
                    human_use: Some(false),
                    ..Default::default()
                },
            )
            .unwrap();
            r.update_nhi(
                "forever",
                &UpdateNhi {
                    expires: Some("2026-11-10".into()),
                    ..Default::default()
                },
            )
            .unwrap();
            r.update_nhi(
                "old",
                &UpdateNhi {
                    rotation_days: Some(3650),
                    ..Default::default()
                },
            )
            .unwrap();
            r.update_nhi(
                "clean",
                &UpdateNhi {
                    identifier: Some("renamed-client-77".into()),
                    system: Some("Azure".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        },
    );
    step("rotate", &|r| {
        r.rotate_nhi("never-rotated", "2026-11-02").unwrap();
        r.rotate_nhi("yearly", "2026-11-01").unwrap();
    });
    step("revoke", &|r| {
        r.revoke_nhi("star", "replaced").unwrap();
        r.revoke_nhi("expired", "replaced").unwrap();
    });
    step("link", &|r| {
        r.link_nhi("laptop", "fraud", "reads").unwrap();
        r.link_nhi("late-add", "credit-risk", "reads").unwrap();
        r.link_nhi("imp-admin", "bobs-model", "reads").unwrap();
    });
    step("a second version of a linked model", &|r| {
        r.add_model(&AddModel {
            name: "fraud".into(),
            version: "9".into(),
            owner: ADMIN.into(),
            intended_use: "u".into(),
            business_function: "f".into(),
            risk_tier: "low".into(),
            deployment_mode: None,
            regulated: false,
        })
        .unwrap();
        r.link_nhi("bobs", "fraud@9", "reads").unwrap();
    });
    step("re-own", &|r| {
        r.set_nhi_owner("everything", CAROL).unwrap();
        r.set_nhi_owner("clean", BOB).unwrap_err();
    });
    step("accept", &|r| {
        r.accept_nhi_finding("clean", "multi-environment", "2026-12-15", "dr site")
            .unwrap();
        r.accept_nhi_finding("imp-admin", "overprivileged", "2027-02-01", "vendor")
            .unwrap();
    });
    // An owner coming back and leaving again (the orphaned finding follows the member's status).
    for status in ["active", "offboarded"] {
        raw_db(&t.fx.dir, ADMIN, ADMIN_PASS)
            .execute(
                "UPDATE members SET status = ?1 WHERE email = ?2",
                [status, BOB],
            )
            .unwrap();
        check_stored(&t);
        check_with(&t.open(ADMIN), &today(), false);
    }
    // The days pass: rotations fall due, expiries come, acceptances lapse.
    for (y, m, d) in [(2026, 11, 21), (2026, 12, 16), (2027, 2, 2), (2027, 8, 1)] {
        t.clock.set(y, m, d);
        check_with(&t.open(ADMIN), &today(), false);
    }
}

/// A schema-6 registry (schema 8's series taken back, the schema-7 columns, triggers, indexes
/// and search index taken off by hand) is migrated on open and answers as before.
#[test]
fn a_schema_6_registry_migrates_with_the_same_answers() {
    let t = registry();
    let before = {
        let reg = t.open(ADMIN);
        (
            json(&reg.list_nhis().unwrap()),
            json(&reg.nhi_posture().unwrap()),
        )
    };
    {
        let db = raw_db(&t.fx.dir, ADMIN, ADMIN_PASS);
        db.execute_batch(&format!("BEGIN; {SCHEMA_8_TO_7} COMMIT;"))
            .unwrap();
        db.execute_batch(
            "BEGIN;
             DROP TRIGGER nhis_derived_insert; DROP TRIGGER nhis_derived_update;
             DROP TRIGGER nhi_links_count_insert; DROP TRIGGER nhi_links_count_delete;
             DROP TRIGGER nhi_links_count_update;
             DROP TRIGGER nhi_search_insert; DROP TRIGGER nhi_search_update;
             DROP TRIGGER nhi_search_links_insert; DROP TRIGGER nhi_search_links_delete;
             DROP TRIGGER nhi_search_links_update; DROP TRIGGER nhi_search_models_update;
             DROP TABLE nhi_search; DROP VIEW nhi_search_source;
             DROP INDEX nhis_multi_env_flag; DROP INDEX nhis_privileged_flag; DROP INDEX nhis_shared;
             DROP INDEX nhi_links_model_nhi;
             ALTER TABLE nhis DROP COLUMN multi_env; ALTER TABLE nhis DROP COLUMN privileged;
             ALTER TABLE nhis DROP COLUMN link_count; ALTER TABLE nhis DROP COLUMN rotation_due;
             ALTER TABLE nhis DROP COLUMN static_findings;
             CREATE INDEX nhis_multi_env ON nhis(status, environment)
                 WHERE (instr(environment, ',') > 0 OR instr(environment, ';') > 0);
             CREATE INDEX nhis_privileged ON nhis(status, scopes)
                 WHERE (instr(scopes, '*') > 0 OR instr(lower(scopes), 'admin') > 0
                     OR instr(lower(scopes), 'owner') > 0 OR instr(lower(scopes), 'full') > 0
                     OR instr(lower(scopes), 'all-access') > 0);
             PRAGMA user_version = 6;
             COMMIT;",
        )
        .unwrap();
        let v: u32 = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 6);
    }
    let reg = t.open(ADMIN);
    let v: u32 = raw_db(&t.fx.dir, ADMIN, ADMIN_PASS)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 8);
    assert_eq!(json(&reg.list_nhis().unwrap()), before.0);
    assert_eq!(json(&reg.nhi_posture().unwrap()), before.1);
    drop(reg);
    check_stored(&t);
    check(&t.open(ADMIN), "2026-11-02");
}

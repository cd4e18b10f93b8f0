//! Malformed inputs give errors naming file, line and column; missing values are counted per
//! column; types are inferred (or overridden); constant columns and unseen categories are
//! handled as Evidently handles them.

use driftwarden_drift::{
    drift_files, ColumnKind, DriftError, DriftOptions, Method, Side, StatTest,
};

use crate::common::*;

fn drift(
    csv: &Csv,
    reference: &[u8],
    current: &[u8],
    opts: &DriftOptions,
) -> Result<driftwarden_drift::DriftReport, DriftError> {
    let r = csv.write("ref.csv", reference);
    let c = csv.write("cur.csv", current);
    drift_files(&r, &c, opts)
}

fn err(reference: &[u8], current: &[u8], opts: &DriftOptions) -> (DriftError, String) {
    let csv = Csv::new();
    let e = drift(&csv, reference, current, opts).expect_err("expected an error");
    let msg = e.to_string();
    (e, msg)
}

const GOOD: &[u8] = b"x,c\n1.5,a\n2.5,b\n3.5,a\n";

#[test]
fn ragged_row_names_file_line_and_column() {
    let (e, msg) = err(GOOD, b"x,c\n1,a\n2\n3,b\n", &DriftOptions::default());
    assert_eq!(e.field(), "current");
    assert_eq!(e.line(), Some(3));
    assert_eq!(e.column(), Some("c"));
    assert!(
        msg.contains("cur.csv") && msg.contains("line 3") && msg.contains("column c"),
        "{msg}"
    );
    // A row with one field too many.
    let (e, msg) = err(b"x,c\n1,a\n2,b,9\n", GOOD, &DriftOptions::default());
    assert_eq!((e.field(), e.line()), ("reference", Some(3)));
    assert!(
        msg.contains("ref.csv") && msg.contains("3 fields") && msg.contains("header has 2"),
        "{msg}"
    );
}

#[test]
fn non_utf8_names_file_line_and_column() {
    let (e, msg) = err(GOOD, b"x,c\n1,a\n2,b\xff\n", &DriftOptions::default());
    assert!(
        matches!(
            e,
            DriftError::NotUtf8 {
                side: Side::Current,
                line: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.column(), Some("c"));
    assert!(
        msg.contains("cur.csv") && msg.contains("line 3, column c") && msg.contains("UTF-8"),
        "{msg}"
    );
    // In a column that looks numeric, and in the header.
    let (e, _) = err(b"x,c\n1,a\n\xfe2,b\n", GOOD, &DriftOptions::default());
    assert_eq!((e.line(), e.column()), (Some(3), Some("x")));
    let (e, msg) = err(b"x,\xffc\n1,a\n", GOOD, &DriftOptions::default());
    assert_eq!(e.line(), Some(1));
    assert!(msg.contains("#2"), "{msg}");
}

#[test]
fn empty_file_and_header_only() {
    let (e, msg) = err(b"", GOOD, &DriftOptions::default());
    assert!(
        matches!(
            e,
            DriftError::Empty {
                side: Side::Reference,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(msg.contains("ref.csv") && msg.contains("empty"), "{msg}");
    let (e, msg) = err(GOOD, b"x,c\n", &DriftOptions::default());
    assert!(
        matches!(
            e,
            DriftError::NoRows {
                side: Side::Current,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg.contains("cur.csv") && msg.contains("no data rows"),
        "{msg}"
    );
}

#[test]
fn column_missing_from_current() {
    let (e, msg) = err(GOOD, b"c,y\na,1\n", &DriftOptions::default());
    assert!(
        matches!(
            e,
            DriftError::MissingColumn {
                side: Side::Current,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        (e.field(), e.line(), e.column()),
        ("current", Some(1), Some("x"))
    );
    assert!(
        msg.contains("cur.csv") && msg.contains("line 1") && msg.contains("\"x\""),
        "{msg}"
    );
}

#[test]
fn override_naming_an_unknown_column() {
    let opts = DriftOptions {
        categorical: vec!["nope".into()],
        ..DriftOptions::default()
    };
    let (e, msg) = err(GOOD, GOOD, &opts);
    assert!(matches!(e, DriftError::UnknownColumn { .. }), "{e:?}");
    assert_eq!((e.field(), e.column()), ("column", Some("nope")));
    assert!(msg.contains("ref.csv") && msg.contains("nope"), "{msg}");
    let opts = DriftOptions {
        categorical: vec!["x".into()],
        numeric: vec!["x".into()],
        ..DriftOptions::default()
    };
    let (e, _) = err(GOOD, GOOD, &opts);
    assert!(matches!(e, DriftError::ConflictingOverride { .. }), "{e:?}");
}

#[test]
fn numeric_override_refuses_text_naming_the_cell() {
    let opts = DriftOptions {
        numeric: vec!["c".into()],
        ..DriftOptions::default()
    };
    let (e, msg) = err(b"x,c\n1,2\n2,3\n", b"x,c\n1,2\n2,oops\n", &opts);
    assert!(
        matches!(
            e,
            DriftError::NotNumeric {
                side: Side::Current,
                line: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg.contains("line 3, column c") && msg.contains("oops"),
        "{msg}"
    );
}

#[test]
fn duplicate_header_and_all_missing_column() {
    let (e, _) = err(b"x,x\n1,2\n", GOOD, &DriftOptions::default());
    assert!(matches!(e, DriftError::DuplicateColumn { .. }), "{e:?}");
    let (e, msg) = err(
        b"x,c\n1,a\n2,b\n",
        b"x,c\nNA,a\n,b\n",
        &DriftOptions::default(),
    );
    assert!(
        matches!(
            e,
            DriftError::EmptyColumn {
                side: Side::Current,
                missing: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(msg.contains("column x"), "{msg}");
}

#[test]
fn missing_values_are_counted_per_column_not_dropped_silently() {
    // pandas' NA tokens and empty cells are missing in both kinds of column; ±inf are missing
    // in a numeric column (Evidently drops them), but are text in a categorical one.
    let reference = b"x,c,k\n1,a,u\nNA,b,v\n3,,u\ninf,NULL,v\n5,a,u\n-inf,b,w\nnan,n/a,u\n8,a,v\n";
    let current = b"x,c,k\n1,a,u\n2,,v\n,b,u\n4,a,NA\n";
    let csv = Csv::new();
    let report = drift(&csv, reference, current, &DriftOptions::default()).unwrap();
    let col = |n: &str| report.columns.iter().find(|c| c.name == n).unwrap();
    let x = col("x");
    assert_eq!(x.kind, ColumnKind::Numeric);
    assert_eq!((x.missing_reference, x.n_reference), (4, 4));
    assert_eq!((x.missing_current, x.n_current), (1, 3));
    let c = col("c");
    assert_eq!(c.kind, ColumnKind::Categorical);
    assert_eq!((c.missing_reference, c.n_reference), (3, 5));
    assert_eq!((c.missing_current, c.n_current), (1, 3));
    let k = col("k");
    assert_eq!((k.missing_reference, k.missing_current), (0, 1));
    assert_eq!(report.rows_reference, 8);
    assert_eq!(report.rows_current, 4);
    // The counts the tests used are the non-missing ones.
    assert_eq!(k.metrics.n_categories, Some(3));
}

#[test]
fn inference_and_overrides() {
    // A column numeric for its first rows and text later is categorical (pandas `object`),
    // counted by text, the earlier numbers included.
    let mut reference = String::from("m,n\n");
    for i in 0..50 {
        reference.push_str(&format!("{},{}\n", i % 7, i));
    }
    reference.push_str("seven,50\n");
    let current = "m,n\n1,1\n2,2\nseven,3\n1.0,4\n";
    let csv = Csv::new();
    let report = drift(
        &csv,
        reference.as_bytes(),
        current.as_bytes(),
        &DriftOptions::default(),
    )
    .unwrap();
    let m = &report.columns[0];
    assert_eq!(m.kind, ColumnKind::Categorical);
    // 0..6 and "seven" in the reference, plus "1.0" (a different text from "1") in current.
    assert_eq!(m.metrics.n_categories, Some(9));
    assert_eq!(m.n_reference, 51);
    assert_eq!(report.columns[1].kind, ColumnKind::Numeric);
    // --categorical makes a numeric-looking column categorical.
    let opts = DriftOptions {
        categorical: vec!["n".into()],
        ..DriftOptions::default()
    };
    let report = drift(&csv, reference.as_bytes(), current.as_bytes(), &opts).unwrap();
    assert_eq!(report.columns[1].kind, ColumnKind::Categorical);
    assert_eq!(report.columns[1].metrics.n_categories, Some(51));
    // --numeric keeps a column numeric.
    let opts = DriftOptions {
        numeric: vec!["n".into()],
        ..DriftOptions::default()
    };
    let report = drift(&csv, reference.as_bytes(), current.as_bytes(), &opts).unwrap();
    assert_eq!(report.columns[1].kind, ColumnKind::Numeric);
}

#[test]
fn unseen_category_makes_chisquare_infinite_and_p_zero() {
    let reference = b"c\na\nb\na\nb\nc\n";
    let current = b"c\na\nb\nd\na\nc\n";
    let csv = Csv::new();
    let report = drift(&csv, reference, current, &DriftOptions::default()).unwrap();
    let c = &report.columns[0];
    // Small reference, 4 categories: Evidently picks chi-square.
    assert_eq!(c.method, StatTest::ChiSquare);
    assert_eq!(c.metrics.chisquare_stat, Some(f64::INFINITY));
    assert_eq!(c.score, 0.0);
    assert!(c.drifted);
    assert_eq!(c.metrics.n_categories, Some(4));
    // PSI fills the empty reference bin instead of dividing by zero.
    assert!(c.metrics.psi.unwrap().is_finite());
}

#[test]
fn constant_columns() {
    // The same single value in both tables: the z-test's p is exactly 1 (Evidently's special
    // case), JS and PSI are 0, and the normalised Wasserstein divides by 0.001, not by std = 0.
    let reference = b"k,s\n4,a\n4,a\n4,a\n";
    let current = b"k,s\n4,a\n4,a\n";
    let csv = Csv::new();
    let report = drift(&csv, reference, current, &DriftOptions::default()).unwrap();
    for c in &report.columns {
        assert_eq!(c.method, StatTest::Z, "{}", c.name);
        assert_eq!(c.score, 1.0, "{}", c.name);
        assert!(!c.drifted);
        assert_eq!(c.metrics.jensenshannon, Some(0.0));
        assert_eq!(c.metrics.psi, Some(0.0));
    }
    assert_eq!(report.columns[0].metrics.wasserstein_norm, Some(0.0));
    // A constant reference against a shifted current: Wasserstein 1 in the data's units,
    // normalised by 0.001.
    let report = drift(&csv, b"k\n4\n4\n", b"k\n5\n5\n", &DriftOptions::default()).unwrap();
    let k = &report.columns[0];
    assert_eq!(k.metrics.wasserstein, Some(1.0));
    assert_eq!(k.metrics.wasserstein_norm, Some(1000.0));
    assert_eq!(k.metrics.ks_stat, Some(1.0));
    // Two distinct values, fully separated: the z-test finds drift.
    assert_eq!(k.method, StatTest::Z);
    // --method chisq on a single category leaves no degree of freedom: NaN, not drifted
    // (scipy returns NaN there).
    let opts = DriftOptions {
        method: Method::ChiSquare,
        ..DriftOptions::default()
    };
    let report = drift(&csv, reference, current, &opts).unwrap();
    let s = &report.columns[1];
    assert_eq!(s.method, StatTest::ChiSquare);
    assert!(s.score.is_nan() && !s.drifted);
    // A method that does not apply to a column's kind leaves that column on the automatic one.
    assert_eq!(report.columns[0].method, StatTest::Z);
}

#[test]
fn scores_to_record_name_method_and_column_and_skip_non_finite() {
    // Recording (CLI `--record`, the app's "record"): `<method>:<column>` per column with a
    // finite score, then the share; a NaN score is named, not stored.
    let reference = b"k,s\n0,x\n0,x\n0,x\n";
    let current = b"k,s\n1,x\n1,x\n1,x\n";
    let csv = Csv::new();
    let opts = DriftOptions {
        method: Method::ChiSquare,
        ..DriftOptions::default()
    };
    let report = drift(&csv, reference, current, &opts).unwrap();
    let scores = report.scores_to_record();
    let k = &report.columns[0];
    assert!(k.score.is_finite());
    assert_eq!(
        scores.rows,
        vec![
            (format!("{}:k", k.method.name()), k.score),
            (
                driftwarden_drift::SHARE_DRIFTED_METRIC.to_string(),
                report.share_drifted
            ),
        ]
    );
    assert_eq!(scores.skipped, vec!["chisquare:s".to_string()]);
    assert_eq!(
        driftwarden_drift::record_source("/a/ref.csv".as_ref(), "/b/cur.csv".as_ref()),
        "drift:ref.csv→cur.csv"
    );
}

#[test]
fn quoted_fields_crlf_and_bom() {
    let reference = b"\xEF\xBB\xBFx,\"c\"\r\n1,\"a,b\"\r\n2,\"c\"\r\n";
    let current = b"x,c\n1,\"a,b\"\n";
    let csv = Csv::new();
    let report = drift(&csv, reference, current, &DriftOptions::default()).unwrap();
    assert_eq!(report.columns[0].name, "x");
    assert_eq!(report.columns[1].name, "c");
    assert_eq!(report.columns[1].metrics.n_categories, Some(2));
}

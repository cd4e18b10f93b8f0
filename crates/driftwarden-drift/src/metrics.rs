//! The per-column metrics, with Evidently 0.7.23's definitions (see `frameworks.md` §5 and the
//! fixtures' README). Each function documents the numpy/scipy computation it reproduces.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::ks::ks_2samp_pvalue;

/// Compensated (Neumaier) sum: close to the exactly rounded sum, so the result does not depend
/// on numpy's pairwise summation order beyond the last bit or two.
#[derive(Default, Clone, Copy)]
pub(crate) struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    pub fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    pub fn value(&self) -> f64 {
        self.s + self.c
    }
}

/// Evidently's zero fill before PSI (`get_binned_data(..., feel_zeroes=True)`): every zero share
/// becomes `m / 1e6` if the smallest non-zero share `m` is at most 1e-4, else 1e-4. No
/// renormalisation.
pub fn fill_zeroes(pct: &mut [f64]) {
    let m = pct
        .iter()
        .copied()
        .filter(|&x| x != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !m.is_finite() {
        return;
    }
    let eps = if m <= 0.0001 { m / 1e6 } else { 0.0001 };
    for x in pct.iter_mut() {
        if *x == 0.0 {
            *x = eps;
        }
    }
}

/// PSI = Σ (ref − cur) · ln(ref / cur), after the zero fill of each side.
pub fn psi(ref_pct: &[f64], cur_pct: &[f64]) -> f64 {
    let mut r = ref_pct.to_vec();
    let mut c = cur_pct.to_vec();
    fill_zeroes(&mut r);
    fill_zeroes(&mut c);
    let mut s = Sum::default();
    for (a, b) in r.iter().zip(&c) {
        s.add((a - b) * (a / b).ln());
    }
    s.value()
}

/// `scipy.special.rel_entr`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// `scipy.spatial.distance.jensenshannon(p, q, base)`: the Jensen–Shannon *distance*, natural
/// log when `base` is None (Evidently's choice; its maximum is √ln 2 ≈ 0.833), or in the given
/// base (2 gives the [0, 1] scale NannyML uses).
pub fn jensen_shannon(ref_pct: &[f64], cur_pct: &[f64], base: Option<f64>) -> f64 {
    let sp: f64 = ref_pct.iter().sum();
    let sq: f64 = cur_pct.iter().sum();
    let mut left = Sum::default();
    let mut right = Sum::default();
    for (a, b) in ref_pct.iter().zip(cur_pct) {
        let p = a / sp;
        let q = b / sq;
        let m = (p + q) / 2.0;
        left.add(rel_entr(p, m));
        right.add(rel_entr(q, m));
    }
    let mut js = left.value() + right.value();
    if let Some(b) = base {
        js /= b.ln();
    }
    (js / 2.0).sqrt()
}

/// Evidently's chi-square: `scipy.stats.chisquare(f_obs=cur_counts, f_exp=ref_counts ·
/// n_cur/n_ref)` over the union of categories (a goodness-of-fit test against the scaled
/// reference). A category absent from the reference makes the statistic +∞ and p exactly 0;
/// a single category leaves no degree of freedom and p is NaN (as scipy returns).
pub fn chisquare(pairs: &[(u64, u64)], n_ref: u64, n_cur: u64) -> (f64, f64) {
    let k_norm = n_cur as f64 / n_ref as f64;
    let mut stat = Sum::default();
    let mut infinite = false;
    for &(r, c) in pairs {
        let exp = r as f64 * k_norm;
        let obs = c as f64;
        if exp == 0.0 {
            infinite = true;
        } else {
            stat.add((obs - exp) * (obs - exp) / exp);
        }
    }
    let stat = if infinite {
        f64::INFINITY
    } else {
        stat.value()
    };
    let df = pairs.len() as f64 - 1.0;
    (stat, chi2_sf(stat, df))
}

/// `scipy.stats.chi2.sf(x, df)`, through statrs' regularised upper incomplete gamma function.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    match ChiSquared::new(df) {
        Ok(d) => d.sf(x),
        Err(_) => f64::NAN,
    }
}

/// `scipy.special.ndtr`, the standard normal CDF, evaluated as scipy does (erf near 0, erfc in
/// the tails).
fn ndtr(a: f64) -> f64 {
    use statrs::function::erf::{erf, erfc};
    let x = a * std::f64::consts::FRAC_1_SQRT_2;
    let z = x.abs();
    if z < std::f64::consts::FRAC_1_SQRT_2 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 {
            1.0 - y
        } else {
            y
        }
    }
}

/// Evidently's two-proportion z-test. `same_single_value`: both tables hold one and the same
/// value (then p = 1). Otherwise `ref_not_first` / `cur_not_first` count the values different
/// from the smallest value of the union; p = 2·(1 − Φ(|z|)).
pub fn z_test(
    same_single_value: bool,
    ref_not_first: u64,
    n_ref: u64,
    cur_not_first: u64,
    n_cur: u64,
) -> f64 {
    if same_single_value {
        return 1.0;
    }
    let (n1, n2) = (n_ref as f64, n_cur as f64);
    let p1 = ref_not_first as f64 / n1;
    let p2 = cur_not_first as f64 / n2;
    let p = (p1 * n1 + p2 * n2) / (n1 + n2);
    let z = (p1 - p2) / (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    2.0 * (1.0 - ndtr(z.abs()))
}

/// Everything computed on one numeric column (both samples sorted ascending, no NaN/inf).
pub(crate) struct NumericResult {
    pub ks_stat: f64,
    pub ks_pvalue: f64,
    pub wasserstein: f64,
    pub wasserstein_norm: f64,
    pub psi: f64,
    pub jensenshannon: f64,
    pub hist_n_bins: usize,
    pub psi_q10ref: f64,
    /// Distinct values of reference ∪ current.
    pub n_unique: usize,
    /// (reference count, current count) per distinct value of the union, ascending; kept when
    /// the reference has at most 20 distinct values (then they are also the PSI/JS bins).
    pub value_counts: Option<Vec<(u64, u64)>>,
}

/// One merge of the two sorted samples gives the KS statistic, the Wasserstein-1 distance and
/// the distinct values:
/// * `ks_2samp`: D = max |F_ref(x) − F_cur(x)| over the values x of the union;
/// * `wasserstein_distance`: Σ |F_ref(x_i) − F_cur(x_i)| · (x_{i+1} − x_i) over the sorted union.
pub(crate) fn numeric(
    a: &[f64],
    b: &[f64],
    int_dtype: bool,
    js_base: Option<f64>,
) -> NumericResult {
    let (n, m) = (a.len(), b.len());
    let (nf, mf) = (n as f64, m as f64);
    let distinct_ref = 1 + a.windows(2).filter(|w| w[0] != w[1]).count();
    let keep_counts = distinct_ref <= 20;
    let mut counts: Vec<(u64, u64)> = Vec::new();

    let (mut i, mut j) = (0usize, 0usize);
    let mut max_s = f64::NEG_INFINITY;
    let mut min_s = f64::INFINITY;
    let mut w = Sum::default();
    let mut k = 0usize;
    let mut next = smallest(a, b, 0, 0);
    while let Some(v) = next {
        let (i0, j0) = (i, j);
        while i < n && a[i] == v {
            i += 1;
        }
        while j < m && b[j] == v {
            j += 1;
        }
        k += 1;
        if keep_counts {
            counts.push(((i - i0) as u64, (j - j0) as u64));
        }
        let diff = i as f64 / nf - j as f64 / mf;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
        next = smallest(a, b, i, j);
        if let Some(x) = next {
            w.add(diff.abs() * (x - v));
        }
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    let d = if min_s > max_s { min_s } else { max_s };
    let (ks_stat, ks_pvalue) = ks_2samp_pvalue(n, m, d);
    let wasserstein = w.value();
    let wasserstein_norm = wasserstein / std_pop(a).max(0.001);

    // Bins shared by PSI and Jensen–Shannon.
    let (ref_pct, cur_pct) = if keep_counts {
        counts
            .iter()
            .map(|&(r, c)| (r as f64 / nf, c as f64 / mf))
            .unzip::<f64, f64, Vec<f64>, Vec<f64>>()
    } else {
        let edges = sturges_edges(a, b, int_dtype);
        (histogram(a, &edges), histogram(b, &edges))
    };
    let hist_n_bins = ref_pct.len();
    let psi_v = psi(&ref_pct, &cur_pct);
    let js = jensen_shannon(&ref_pct, &cur_pct, js_base);
    let psi_q10ref = psi_deciles(a, b);
    NumericResult {
        ks_stat,
        ks_pvalue,
        wasserstein,
        wasserstein_norm,
        psi: psi_v,
        jensenshannon: js,
        hist_n_bins,
        psi_q10ref,
        n_unique: k,
        value_counts: keep_counts.then_some(counts),
    }
}

fn smallest(a: &[f64], b: &[f64], i: usize, j: usize) -> Option<f64> {
    match (a.get(i), b.get(j)) {
        (Some(&x), Some(&y)) => Some(if x <= y { x } else { y }),
        (Some(&x), None) => Some(x),
        (None, Some(&y)) => Some(y),
        (None, None) => None,
    }
}

/// `np.std(x)` (ddof = 0).
pub(crate) fn std_pop(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mut s = Sum::default();
    for &v in x {
        s.add(v);
    }
    let mean = s.value() / n;
    let mut q = Sum::default();
    for &v in x {
        let d = v - mean;
        q.add(d * d);
    }
    (q.value() / n).sqrt()
}

/// `np.histogram_bin_edges(concat(ref, cur), bins="sturges")`: equal-width bins over the
/// combined range, `ceil(ptp / (ptp / (log2(N) + 1)))` of them (with numpy's minimum width of 1
/// for integer data), edges `i · (ptp / n_bins) + lo` and the last edge exactly `hi`.
fn sturges_edges(a: &[f64], b: &[f64], int_dtype: bool) -> Vec<f64> {
    let mut lo = a[0].min(b[0]);
    let mut hi = a[a.len() - 1].max(b[b.len() - 1]);
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let n_total = (a.len() + b.len()) as f64;
    let ptp = hi - lo;
    let mut width = ptp / (n_total.log2() + 1.0);
    if int_dtype && width < 1.0 {
        width = 1.0;
    }
    let n_bins = if width > 0.0 {
        ((hi - lo) / width).ceil() as usize
    } else {
        1
    };
    let step = (hi - lo) / n_bins as f64;
    let mut edges: Vec<f64> = (0..=n_bins).map(|i| i as f64 * step + lo).collect();
    edges[n_bins] = hi;
    edges
}

/// `np.histogram(x, edges)[0] / len(x)` on sorted `x`: bin i holds edge[i] <= v < edge[i+1], the
/// last bin also holds its right edge.
fn histogram(x: &[f64], edges: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let nb = edges.len() - 1;
    let cum: Vec<usize> = edges
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            if i == nb {
                x.partition_point(|&v| v <= e)
            } else {
                x.partition_point(|&v| v < e)
            }
        })
        .collect();
    cum.windows(2).map(|w| (w[1] - w[0]) as f64 / n).collect()
}

/// `np.quantile(sorted, q)` with the default linear method.
fn quantile_sorted(x: &[f64], q: f64) -> f64 {
    let n = x.len();
    let vi = (n - 1) as f64 * q;
    if vi >= (n - 1) as f64 {
        return x[n - 1];
    }
    if vi < 0.0 {
        return x[0];
    }
    let prev = vi.floor();
    let gamma = vi - prev;
    let a = x[prev as usize];
    let b = x[prev as usize + 1];
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// `psi_q10ref`: PSI on the reference deciles (credit-risk practice; not an Evidently metric).
/// Interior edges `unique(quantile(ref, [0.1, …, 0.9]))`, bins `(-inf, q1), [q1, q2), …,
/// [qk, +inf)` (`searchsorted(q, x, side="right")`), then Evidently's zero fill and PSI.
fn psi_deciles(a: &[f64], b: &[f64]) -> f64 {
    let mut q: Vec<f64> = (1..10)
        .map(|i| quantile_sorted(a, i as f64 * 0.1))
        .collect();
    q.sort_by(f64::total_cmp);
    q.dedup();
    let count = |x: &[f64]| {
        let n = x.len() as f64;
        let mut cum = vec![0usize];
        cum.extend(q.iter().map(|&e| x.partition_point(|&v| v < e)));
        cum.push(x.len());
        cum.windows(2)
            .map(|w| (w[1] - w[0]) as f64 / n)
            .collect::<Vec<f64>>()
    };
    psi(&count(a), &count(b))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn deciles_interpolate_like_numpy() {
        let x: Vec<f64> = (1..=5).map(f64::from).collect();
        // np.quantile([1,2,3,4,5], 0.3) == 2.2 ; 0.9 -> 4.6
        assert!((quantile_sorted(&x, 0.3) - 2.2).abs() < 1e-15);
        assert!((quantile_sorted(&x, 0.9) - 4.6).abs() < 1e-15);
        assert_eq!(quantile_sorted(&[7.0], 0.5), 7.0);
    }

    #[test]
    fn js_of_identical_and_disjoint() {
        assert_eq!(jensen_shannon(&[0.5, 0.5], &[0.5, 0.5], None), 0.0);
        let d = jensen_shannon(&[1.0, 0.0], &[0.0, 1.0], None);
        assert!((d - std::f64::consts::LN_2.sqrt()).abs() < 1e-15);
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0], Some(2.0)) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn sturges_bins_follow_numpy_including_integer_width() {
        // N = 2^20 values spanning [0, 20]: log2(N) + 1 = 21 bins for floats; numpy's minimum
        // width of 1 for integer data gives ptp / 1 = 20 bins.
        let mut a = vec![10.0; 1 << 19];
        a[0] = 0.0;
        let mut b = vec![10.0; 1 << 19];
        *b.last_mut().unwrap() = 20.0;
        assert_eq!(sturges_edges(&a, &b, false).len() - 1, 21);
        let edges = sturges_edges(&a, &b, true);
        assert_eq!(edges.len() - 1, 20);
        assert_eq!((edges[0], edges[20]), (0.0, 20.0));
    }

    #[test]
    fn zero_fill() {
        let mut p = vec![0.5, 0.0, 0.5];
        fill_zeroes(&mut p);
        assert_eq!(p[1], 0.0001);
        let mut p = vec![0.99995, 0.0, 0.00005];
        fill_zeroes(&mut p);
        assert_eq!(p[1], 0.00005 / 1e6);
    }
}

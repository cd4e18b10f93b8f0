//! Two-sample Kolmogorov–Smirnov p-values, computed the way scipy 1.17's `ks_2samp` computes them
//! (`method="auto"`, two-sided), because Evidently's `ks` stattest is `ks_2samp(ref, cur).pvalue`.
//!
//! * `max(n1, n2) <= 10000`: the exact null distribution of D, counted as lattice paths (Hodges'
//!   "inside" method, in Viehmann's 1 − p form), after rounding D to `h / lcm(n1, n2)`.
//! * otherwise: `kstwo.sf(D, round(n1·n2/(n1+n2)))`, the one-sample two-sided distribution, chosen
//!   among Simard & L'Ecuyer's algorithms exactly as scipy's `_kolmogn` chooses (Ruben–Gambino,
//!   Smirnov's one-sided sum doubled, Durbin's matrix, Pomeranz's recursion, Pelz–Good).
//!
//! No maintained Rust crate implements these distributions (statrs has neither the finite-n
//! Kolmogorov distribution nor the two-sample exact one), so they are written here from the
//! published algorithms. They must follow scipy's choice of algorithm, not just any accurate one:
//! Pelz–Good is an approximation and the fixtures hold its values. Smirnov's sum is evaluated in
//! log space in `f64` (scipy uses double-double arithmetic); every term is positive, so the result
//! keeps about 1e-12 relative accuracy, far inside the 1e-6 the p-values are compared at.

use std::f64::consts::PI;

use crate::metrics::Sum;

/// `ks_2samp`'s switch from the exact to the asymptotic p-value.
const MAX_EXACT_N: usize = 10_000;

/// The two-sided KS test of two samples, from the statistic D already computed on them.
/// Returns (D as reported, p-value). For the exact branch D is rounded to `h / lcm`, as scipy does.
pub fn ks_2samp_pvalue(n1: usize, n2: usize, d: f64) -> (f64, f64) {
    let g = gcd(n1, n2);
    let mut d = d;
    if n1.max(n2) <= MAX_EXACT_N {
        match exact_2samp(n1, n2, g, d) {
            (d_exact, Some(p)) => return (d_exact, p.clamp(0.0, 1.0)),
            // scipy keeps the rounded D when it falls back to the asymptotic p-value.
            (d_rounded, None) => d = d_rounded,
        }
    }
    let (m, n) = if n1 >= n2 {
        (n1 as f64, n2 as f64)
    } else {
        (n2 as f64, n1 as f64)
    };
    let en = (m * n / (m + n)).round_ties_even();
    (d, kolmogn_sf(en as u64, d).clamp(0.0, 1.0))
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy `_attempt_exact_2kssamp`, two-sided: D rounded to `h / lcm`, and the p-value, `None`
/// when the computation is not usable (scipy then falls back to the asymptotic p-value).
fn exact_2samp(n1: usize, n2: usize, g: usize, d: f64) -> (f64, Option<f64>) {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round_ties_even();
    let d = h / lcm;
    if h == 0.0 {
        return (d, Some(1.0));
    }
    let h = h as u64;
    let p = if n1 == n2 {
        prob_outside_square(n1 as u64, h)
    } else {
        outer_prob_inside_method(n1 as u64, n2 as u64, g as u64, h)
    };
    (d, (p.is_finite() && (0.0..=1.0).contains(&p)).then_some(p))
}

/// Pr(D_{n,n} >= h/n): 2·(A0·(1 − A1·(1 − A2·(…)))), each Ai a ratio of h simple terms.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0f64;
    let mut k = n / h;
    loop {
        let mut p1 = 1.0f64;
        for j in 0..h {
            p1 = (n as f64 - (k * h) as f64 - j as f64) * p1
                / (n as f64 + (k * h) as f64 + j as f64 + 1.0);
        }
        p = p1 * (1.0 - p);
        if k == 0 {
            break;
        }
        k -= 1;
    }
    2.0 * p
}

/// The share of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm,
/// computed column by column over a sliding window, in the 1 − p form that keeps precision for
/// small p-values (Viehmann 2021).
fn outer_prob_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((h as f64 / mg as f64).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for x in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *x = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((((ng * i - h) as f64) / mg as f64).floor() as i64 + 1).max(0);
        minj = minj.min(n);
        maxj = ((((ng * i + h) as f64) / mg as f64).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            val = (a[(jj + minj - lastminj) as usize] * i as f64 + val * j as f64) / (i + j) as f64;
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let from = (maxj - minj) as usize;
            let to = (from + (lastlen - curlen) as usize).min(a.len());
            for x in &mut a[from..to] {
                *x = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

// ---------------------------------------------------------------------------------------------
// kstwo.sf(x, n): the two-sided one-sample KS distribution (scipy.stats._ksstats._kolmogn).

const E128: i32 = 128;
const MIN_LOG: f64 = -708.0;

fn ep128() -> f64 {
    2f64.powi(E128)
}

fn em128() -> f64 {
    2f64.powi(-E128)
}

/// Survival function Pr(D_n >= x) of the two-sided one-sample KS statistic.
pub fn kolmogn_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if n == 0 {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/2n <= x <= 1/n
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            let mut p = 1.0;
            for i in 1..=n {
                p *= i as f64 * (1.0 / nf) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - prob).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        let prob = 2.0 * (1.0 - x).powf(nf);
        return prob.clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754693 {
            return (1.0 - kolmogn_dmtw_cdf(n, x)).clamp(0.0, 1.0);
        }
        if nxsquared <= 4.0 {
            return (1.0 - kolmogn_pomeranz_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        kolmogn_dmtw_cdf(n, x)
    } else {
        kolmogn_pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// log(n! / n^n) by Stirling's series with n·log(n) removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    // B_2j / (2j (2j − 1)) for j = 8 … 1.
    const STIRLING: [f64; 8] = [
        -3617.0 / 122400.0,
        1.0 / 156.0,
        -691.0 / 360360.0,
        1.0 / 1188.0,
        -1.0 / 1680.0,
        1.0 / 1260.0,
        -1.0 / 360.0,
        1.0 / 12.0,
    ];
    let rn = 1.0 / n;
    let r = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * r + c);
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + rn * poly
}

/// Pr(D_n <= d) by Durbin's matrix algorithm as organised by Marsaglia, Tsang & Wang.
fn kolmogn_dmtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0f64;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0f64; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }

    let mut pwr = vec![0.0f64; m * m];
    for i in 0..m {
        pwr[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i32 = 0;
    let mut hexpnt: i32 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            pwr = matmul(&pwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > ep128() {
            for x in hm.iter_mut() {
                *x /= ep128();
            }
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = pwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < em128() {
            p *= ep128();
            expnt -= E128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    p.clamp(0.0, 1.0)
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

fn ldexp(x: f64, e: i32) -> f64 {
    // Two steps keep intermediate powers of two representable for |e| up to ~2000.
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// Pr(D_n <= x) by Pomeranz's recursion (used by scipy for n <= 140 and 0.754693 < n·x² <= 4).
fn kolmogn_pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let n = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![0.0f64; npwrs];
    let mut twogpower = vec![0.0f64; npwrs];
    let mut onem2gpower = vec![0.0f64; npwrs];
    gpower[0] = 1.0;
    twogpower[0] = 1.0;
    onem2gpower[0] = 1.0;
    let mut expnt: i32 = 0;
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        gpower[m] = gpower[m - 1] * g_n / m as f64;
        twogpower[m] = twogpower[m - 1] * two_g_n / m as f64;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / m as f64;
    }
    let mut v0 = vec![0.0f64; npwrs];
    let mut v1 = vec![0.0f64; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s): (i64, i64) = (0, 0);
    let (mut j1, _) = pomeranz_j1j2(0, n, ll, ceilf, roundf);
    for i in 1..(2 * n + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|x| *x = 0.0);
        let (nj1, j2) = pomeranz_j1j2(i, n, ll, ceilf, roundf);
        j1 = nj1;
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let ln2 = ln2 as usize;
            let start = (k1 - v0s).max(0) as usize;
            let a = &v0[start..(start + ln2).min(v0.len())];
            let b = &pwrs[..ln2.min(pwrs.len())];
            let conv = convolve(a, b);
            let conv_start = (j1 - k1) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            for (q, slot) in v1.iter_mut().take(conv_len).enumerate() {
                *slot = conv.get(conv_start + q).copied().unwrap_or(0.0);
            }
            let mx = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < mx && mx < em128() {
                v1.iter_mut().for_each(|x| *x *= ep128());
                expnt -= E128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1[(n - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > ep128() {
            ans *= em128();
            expnt += E128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    ans.clamp(0.0, 1.0)
}

/// Full discrete convolution, as `numpy.convolve(a, b)`.
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0f64; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// The Pelz–Good approximation to Pr(D_n <= x).
fn kolmogn_pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);

    let mut k = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powf((8 * kk) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (kv, c) in k.iter_mut().zip(coeffs) {
            *kv = *kv * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * PI).sqrt();
    let denom = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (kv, d) in k.iter_mut().zip(denom) {
        *kv = *kv * q * sqrt2pi / d;
    }
    // The other sum, over all integers k.
    let q = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2extra = 0.0;
    let mut k3extra = 0.0;
    for kk in (1..=maxk).rev() {
        let ks2 = (kk * kk) as f64;
        let qp = q.powf(ks2);
        let kspi = PI * kk as f64;
        k2extra += ks2 * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
    }
    k[2] += k2extra * pi2 * sqrt2pi / (-36.0 * z3);
    k[3] += k3extra * pi2 * sqrt2pi / (216.0 * z6);
    let mut sum = 0.0;
    for (i, kv) in k.iter().enumerate() {
        sum += kv / nf.powf(i as f64 / 2.0);
    }
    sum
}

/// Smirnov's one-sided survival function Pr(D_n^+ >= x), Birnbaum–Tingey's finite sum:
/// Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) · x · (x + v/n)^(v−1) · (1 − x − v/n)^(n−v).
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() || !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nx = nf * x;
    let nxfl = nx.floor();
    let alpha = nx - nxfl;
    // Special case x <= 1/n: cdf = x·(1+x)^(n−1).
    if nxfl == 0.0 || (nxfl == 1.0 && alpha == 0.0) {
        return 1.0 - x * (1.0 + x).powf(nf - 1.0);
    }
    // The sf underflows.
    if -2.0 * nf * x * x < -708.396_418_532_264_1 {
        return 0.0;
    }
    // x >= 1 − 1/n
    if nxfl >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        // scipy's approximation for very large n: p ~ exp(−(6nx+1)² / 18n).
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 - (-logp.exp_m1())
        };
    }
    // Lower sum over v = 0 ..= ⌊n(1−x)⌋, leaving out the last term when n·x is an integer (its
    // (1 − x − v/n) factor is exactly 0): in both cases v runs to n − ⌊n·x⌋ − 1.
    let last = (nf - nxfl) as u64 - 1;
    let lnx = x.ln();
    // ln C(n, v), accumulated with compensation: the running value reaches n·ln 2, and plain
    // accumulation would lose ~n·eps of it.
    let mut ln_binom = Sum::default();
    let mut sum = Sum::default();
    for v in 0..=last {
        let vf = v as f64;
        let a = vf / nf + x; // x + v/n
        let b = (nf - vf) / nf - x; // 1 − x − v/n
        let mut lt = ln_binom.value() + lnx + (nf - vf) * b.ln();
        lt += if v == 0 { -lnx } else { (vf - 1.0) * a.ln() };
        let term = lt.exp();
        sum.add(term);
        if term != 0.0 {
            if 4.0 * ((last - v) as f64) * term < f64::EPSILON * sum.value() && v != last {
                break;
            }
        } else if v > n / 2 {
            // Past the middle, terms that underflow stay underflowed.
            break;
        }
        ln_binom.add(((nf - vf) / (vf + 1.0)).ln());
    }
    sum.value().clamp(0.0, 1.0)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn smirnov_matches_closed_forms() {
        // n = 2: Pr(D+ >= x) = (1−x)^2 + 2x(1 − x − 1/2)... check against direct enumeration:
        // for x in (1/2, 1): only the v=0 term: (1−x)^2.
        assert!((smirnov_sf(2, 0.75) - 0.0625).abs() < 1e-15);
        // For large x the sum is its first term (1−x)^n.
        let n = 50;
        let x = 0.99;
        assert!((smirnov_sf(n, x) - (1.0f64 - x).powi(50)).abs() <= 1e-12 * (1.0f64 - x).powi(50));
    }

    #[test]
    fn exact_two_sample_of_identical_samples_is_one() {
        assert_eq!(ks_2samp_pvalue(5, 5, 0.0).1, 1.0);
        assert_eq!(ks_2samp_pvalue(800, 5000, 0.0).1, 1.0);
    }

    #[test]
    fn equal_sizes_total_separation() {
        // Two samples of 3 with no overlap: D = 1, p = 2 / C(6,3) = 0.1.
        let (d, p) = ks_2samp_pvalue(3, 3, 1.0);
        assert_eq!(d, 1.0);
        assert!((p - 0.1).abs() < 1e-15, "{p}");
        // Unequal sizes 2 and 4, no overlap: p = 2 / C(6,2) = 2/15.
        let (_, p) = ks_2samp_pvalue(2, 4, 1.0);
        assert!((p - 2.0 / 15.0).abs() < 1e-15, "{p}");
    }
}

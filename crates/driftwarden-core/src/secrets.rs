//! NHI records hold metadata only. This scanner refuses input that looks like a secret value
//! (private keys, provider token formats, long high-entropy strings) while allowing identifiers
//! such as an access-key ID or a client ID.

use crate::error::{CoreError, Result};

/// Prefixes of well-known secret token formats.
const TOKEN_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xapp-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "sk-ant-",
    "sk-proj-",
    "npm_",
    "pypi-",
    "AIza",
    "SG.",
    "hf_",
    "dop_v1_",
    "shpat_",
    "whsec_",
];

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Why `value` looks like a secret, if it does.
pub fn secret_reason(value: &str) -> Option<&'static str> {
    if value.contains("-----BEGIN") && (value.contains("PRIVATE KEY") || value.contains("OPENSSH"))
    {
        return Some("it contains a private key");
    }
    for word in
        value.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '"' || c == '\'')
    {
        let word = word.trim_matches(|c: char| c == '(' || c == ')' || c == '[' || c == ']');
        if word.len() >= 20 && TOKEN_PREFIXES.iter().any(|p| word.starts_with(p)) {
            return Some("it looks like an access token");
        }
        if word.starts_with("eyJ") && word.matches('.').count() == 2 && word.len() > 40 {
            return Some("it looks like a JSON Web Token");
        }
        if word.contains("://") && word.contains('@') {
            if let Some(creds) = word
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split('@').next())
            {
                if creds.contains(':') {
                    return Some("it contains a password in a URL");
                }
            }
        }
        // Long, high-entropy strings of mixed character classes are secrets, not identifiers.
        let classes = [
            word.chars().any(|c| c.is_ascii_lowercase()),
            word.chars().any(|c| c.is_ascii_uppercase()),
            word.chars().any(|c| c.is_ascii_digit()),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if word.len() >= 32 && classes >= 3 && shannon_entropy(word) >= 4.2 {
            return Some("it looks like a secret value (long and random)");
        }
    }
    None
}

/// Refuses `value` for `field` if it looks like a secret. The message never repeats the value.
pub fn refuse_secret(field: &str, value: &str) -> Result<()> {
    match secret_reason(value) {
        Some(why) => Err(CoreError::invalid(
            field,
            format!("{why}; Driftwarden stores identity metadata only, never secret values"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_refused_and_identifiers_allowed() {
        for s in [
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
            "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1x",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "postgres://svc:hunter2@db.internal/prod",
        ] {
            assert!(secret_reason(s).is_some(), "{s}");
            let e = refuse_secret("scope", s).unwrap_err();
            assert!(!e.to_string().contains(s));
        }
        for s in [
            "AKIAIOSFODNN7EXAMPLE",
            "svc-scoring-prod",
            "read:features",
            "0oa1b2c3d4e5f6g7h8i9",
            "projects/acme/serviceAccounts/scoring@acme.iam.gserviceaccount.com",
        ] {
            assert!(secret_reason(s).is_none(), "{s}");
        }
    }
}

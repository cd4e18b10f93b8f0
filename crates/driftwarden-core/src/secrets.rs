//! The secret guard. Driftwarden stores identity metadata only, never secret values: input that
//! looks like a secret (private keys, provider token formats, passwords in URLs, long random
//! strings in key-like fields) is refused, and the message says what was detected without
//! repeating it. Identifiers (an AWS access key ID, an OAuth client ID, a service account's email)
//! are not secrets and pass.
//!
//! The rules are data, in `secret_rules.json`; the tests below hold true and false positives for
//! every rule.

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use crate::error::{CoreError, Result};

#[derive(Deserialize)]
struct RuleFile {
    rules: Vec<RuleDef>,
}

#[derive(Deserialize)]
struct RuleDef {
    id: String,
    detects: String,
    regex: String,
    #[serde(default)]
    key_like_only: bool,
    #[serde(default)]
    min_entropy: f64,
    #[serde(default)]
    min_classes: usize,
    #[serde(default)]
    public_prefixes: Vec<String>,
}

struct Rule {
    id: String,
    detects: String,
    regex: Regex,
    key_like_only: bool,
    min_entropy: f64,
    min_classes: usize,
    /// A match right after one of these is public material (an SSH public key, a fingerprint).
    public_prefixes: Vec<String>,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let file: RuleFile = serde_json::from_str(include_str!("secret_rules.json"))
            .expect("secret_rules.json is valid");
        file.rules
            .into_iter()
            .map(|r| Rule {
                regex: Regex::new(&r.regex).unwrap_or_else(|e| panic!("secret rule {}: {e}", r.id)),
                id: r.id,
                detects: r.detects,
                key_like_only: r.key_like_only,
                min_entropy: r.min_entropy,
                min_classes: r.min_classes,
                public_prefixes: r.public_prefixes,
            })
            .collect()
    })
}

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

fn classes(s: &str) -> usize {
    [
        s.chars().any(|c| c.is_ascii_lowercase()),
        s.chars().any(|c| c.is_ascii_uppercase()),
        s.chars().any(|c| c.is_ascii_digit()),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

/// Where a value is going: free text anywhere, or a key-like NHI field where a pasted secret is
/// most likely (the generic high-entropy rule applies only there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    FreeText,
    KeyLike,
}

/// The id and description of the first rule `value` trips, if any.
pub fn detect(value: &str, kind: FieldKind) -> Option<(&'static str, &'static str)> {
    for rule in rules() {
        if rule.key_like_only && kind != FieldKind::KeyLike {
            continue;
        }
        for m in rule.regex.find_iter(value) {
            let token = m
                .as_str()
                .trim_matches(|c: char| !(c.is_ascii_alphanumeric() || "/+=_-".contains(c)));
            if rule.min_entropy > 0.0 && shannon_entropy(token) < rule.min_entropy {
                continue;
            }
            if classes(token) < rule.min_classes {
                continue;
            }
            let before =
                value[..m.start() + m.as_str().find(token).unwrap_or(0)].trim_end_matches(' ');
            if rule
                .public_prefixes
                .iter()
                .any(|p| before.ends_with(p.trim_end()))
            {
                continue;
            }
            return Some((rule.id.as_str(), rule.detects.as_str()));
        }
    }
    None
}

/// Refuses `value` for `field` if it looks like a secret. The message never repeats the value.
pub fn refuse_secret(field: &str, value: &str, kind: FieldKind) -> Result<()> {
    match detect(value, kind) {
        Some((_, what)) => Err(CoreError::invalid(
            field,
            format!("this looks like {what}; Driftwarden stores identity metadata only, never secret values"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real-format secret samples (made up, never valid credentials), each with the rule it trips.
    const SECRETS: &[(&str, &str)] = &[
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA", "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"),
        ("-----BEGIN EC PRIVATE KEY-----", "private-key"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", "private-key"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-access-key"),
        ("AWS key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-access-key"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-access-key-bare"),
        ("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ", "aws-session-token"),
        ("ghp_1A2b3C4d5E6f7G8h9I0jK1l2M3n4O5p6Q7r8", "github-token"),
        ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", "github-token"),
        ("glpat-xxxxXXXXxxxx1234yyyy", "gitlab-token"),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack-token"),
        ("xoxp-123456789012-123456789012-123456789012-abcdef0123456789abcdef0123456789", "slack-token"),
        ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "slack-webhook"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        ("rk_test_51H8abcDEFghiJKLmnoPQRstu", "stripe-key"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", "openai-key"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", "openai-key"),
        ("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "google-api-key"),
        ("{\"type\": \"service_account\", \"private_key_id\": \"0123456789abcdef0123456789abcdef01234567\"}", "gcp-service-account-key"),
        ("abc8Q~abcdefghijklmnopqrstuvwxyz012345", "azure-client-secret"),
        ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm-token"),
        ("pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz", "pypi-token"),
        ("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "sendgrid-key"),
        ("SK0123456789abcdef0123456789abcdef", "twilio-key"),
        ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "huggingface-token"),
        ("dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "digitalocean-token"),
        ("shpat_0123456789abcdef0123456789abcdef", "shopify-token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("postgres://svc_scoring:hunter2secret@db.internal:5432/prod", "url-password"),
        ("password=CorrectHorse42", "password-assignment"),
        ("client_secret: 'abcDEF123456'", "password-assignment"),
    ];

    /// Legitimate metadata, identifiers included: none may be refused.
    const METADATA: &[&str] = &[
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "0oa1b2c3d4e5f6g7h8i9",
        "123456789012-abc123def456ghi789jkl012mno345pq.apps.googleusercontent.com",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "scoring@acme-prod.iam.gserviceaccount.com",
        "projects/acme-prod/serviceAccounts/scoring@acme-prod.iam.gserviceaccount.com",
        "arn:aws:iam::123456789012:role/ModelScoringRole",
        "arn:aws:iam::123456789012:user/svc-credit-scoring",
        "roles/aiplatform.user",
        "read:features",
        "repo:read, workflow",
        "svc-credit-scoring",
        "GCP Vertex AI",
        "production",
        "https://vault.internal/ui/vault/secrets/kv/show/ml/bureau",
        "https://wiki.example.com/display/ML/ModelRiskPolicy2024v3",
        "gs://acme-models/credit-risk/v2.3/model.pkl",
        "sha256:4e1f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",
        "CN=scoring.acme.internal, O=Acme Bank, C=DE",
        "Fingerprint SHA256:zq8w+Q1bP1mY3pQeV3Zq0V0xw1kX2m7Zl2kY8vQx9yA",
        "Rotated by the platform team on 2026-10-01 after the vendor migration",
        "Reads features from the online store; falls back to the batch export",
        "Client ID 8f14e45f-ceea-467f-a0e6-4a3c1f7b2d9e in tenant acme",
        "Key stored in Vault at kv/ml/bureau; never in the registry",
        "the password policy requires rotation every 90 days",
        "api key for the bureau, owner rotates quarterly",
        "ghp_ prefix tokens are forbidden here",
        "projects/northwind/locations/europe-west4/endpoints/1234567890123456789",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@acme",
        "Weekly PSI review through the holiday season; revalidate in Q1",
        "kms://projects/acme/locations/global/keyRings/ml/cryptoKeys/registry",
    ];

    #[test]
    fn every_secret_sample_is_refused_by_its_rule() {
        assert!(SECRETS.len() >= 30);
        for (s, rule) in SECRETS {
            let got = detect(s, FieldKind::KeyLike).map(|(id, _)| id);
            assert_eq!(got, Some(*rule), "{s}");
            let e = refuse_secret("scope", s, FieldKind::KeyLike).unwrap_err();
            assert!(
                !e.to_string().contains(s),
                "the message must not repeat the secret"
            );
        }
    }

    #[test]
    fn format_rules_apply_to_free_text_and_entropy_only_to_key_like_fields() {
        for (s, rule) in SECRETS.iter().filter(|(_, r)| *r != "high-entropy") {
            assert!(detect(s, FieldKind::FreeText).is_some(), "{rule}: {s}");
        }
        let random = "Zr8vQ2mXk9LpT4wYb7NcH3sJd6FgA1eU";
        assert_eq!(
            detect(random, FieldKind::KeyLike).map(|r| r.0),
            Some("high-entropy")
        );
        assert_eq!(detect(random, FieldKind::FreeText), None);
    }

    #[test]
    fn no_metadata_or_identifier_is_mistaken_for_a_secret() {
        assert!(METADATA.len() >= 30);
        for s in METADATA {
            assert_eq!(detect(s, FieldKind::KeyLike), None, "{s}");
            assert_eq!(detect(s, FieldKind::FreeText), None, "{s}");
        }
    }

    #[test]
    fn every_rule_has_a_true_positive() {
        for rule in rules() {
            let hit = SECRETS.iter().any(|(_, r)| *r == rule.id) || rule.id == "high-entropy";
            assert!(hit, "rule {} has no sample", rule.id);
        }
    }
}

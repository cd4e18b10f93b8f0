//! Domain vocabulary: the enumerations every operation validates against. Each parses from the
//! kebab-case word users type and serialises as the same word.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, Result};

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            /// Parses the word, or an `invalid_input` error naming `field` and the allowed words.
            pub fn parse(field: &str, s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($name::$variant),)+
                    other => Err(CoreError::invalid(
                        field,
                        format!(
                            "unknown value {:?}; expected one of: {}",
                            other,
                            [$($word),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// A member's role; a member may hold several.
    Role { Admin = "admin", Owner = "owner", Validator = "validator", Approver = "approver", Engineer = "engineer", Compliance = "compliance" }
);

word_enum!(MemberStatus { Active = "active", Offboarded = "offboarded" });

word_enum!(RiskTier { High = "high", Medium = "medium", Low = "low" });

word_enum!(DeploymentMode { Production = "production", Shadow = "shadow", Canary = "canary" });

word_enum!(
    /// A model's lifecycle status (its approval state is derived from its approvals).
    ModelStatus { Active = "active", Paused = "paused", RolledBack = "rolled-back", Retired = "retired" }
);

word_enum!(
    /// Which side of the level is a breach: `above` means values greater than the level breach.
    Direction { Above = "above", Below = "below" }
);

word_enum!(
    /// Lifecycle of one threshold version.
    ThresholdStatus { Proposed = "proposed", Approved = "approved", Superseded = "superseded", Withdrawn = "withdrawn" }
);

word_enum!(
    NhiKind {
        ServiceAccount = "service-account",
        ApiKey = "api-key",
        OauthClient = "oauth-client",
        Token = "token",
        Certificate = "certificate",
        SshKey = "ssh-key",
        Secret = "secret",
    }
);

word_enum!(NhiStatus { Active = "active", Revoked = "revoked" });

word_enum!(
    /// Where an exception is in its lifecycle (see `workflow` for the allowed transitions).
    ExceptionState {
        Opened = "opened",
        Validating = "validating",
        Confirmed = "confirmed",
        Dismissed = "dismissed",
        Escalated = "escalated",
        Recovered = "recovered",
        Decided = "decided",
        Closed = "closed",
    }
);

impl ExceptionState {
    /// Dismissed and closed exceptions take no further action.
    pub fn is_final(self) -> bool {
        matches!(self, ExceptionState::Dismissed | ExceptionState::Closed)
    }
}

word_enum!(
    /// The validator's verdict on the signal.
    Validation { Pending = "pending", Confirmed = "confirmed", Dismissed = "dismissed" }
);

word_enum!(ExceptionKind { Breach = "breach", LapsedApproval = "lapsed-approval" });

word_enum!(
    /// The decision that ends an exception.
    Disposition {
        Retrain = "retrain",
        Retriage = "retriage",
        Rollback = "rollback",
        Retire = "retire",
        Keep = "keep",
        Tighten = "tighten",
        Revalidate = "revalidate",
    }
);

impl Disposition {
    /// Plain words for forms and reports.
    pub fn describe(self) -> &'static str {
        match self {
            Disposition::Retrain => "retrain the model",
            Disposition::Retriage => "retriage (re-examine the signal and data)",
            Disposition::Rollback => "roll back to the previous version",
            Disposition::Retire => "retire the model",
            Disposition::Keep => "keep approved with conditions",
            Disposition::Tighten => "tighten monitoring",
            Disposition::Revalidate => "formal revalidation",
        }
    }
}

word_enum!(
    /// Impact flags: any of them escalates an exception and requires the business approver's co-sign.
    Impact { Customer = "customer", Compliance = "compliance", Financial = "financial" }
);

word_enum!(
    /// A model's approval state, derived from its approvals and status.
    ApprovalStatus { Approved = "approved", Pending = "pending", Lapsed = "lapsed", Retired = "retired" }
);

/// Parses a calendar date (`YYYY-MM-DD`), naming the field on error.
pub fn parse_date(field: &str, s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        CoreError::invalid(
            field,
            format!("{:?} is not a date; use YYYY-MM-DD", s.trim()),
        )
    })
}

/// Checks a free-text field: trimmed, non-empty (when required), at most `max` characters, no
/// control characters, nothing that looks like a secret value.
pub fn check_text(field: &str, s: &str, required: bool, max: usize) -> Result<String> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(CoreError::invalid(field, "is required"));
    }
    if t.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(CoreError::invalid(field, "contains control characters"));
    }
    // No free-text field anywhere in the registry may carry a secret value.
    crate::secrets::refuse_secret(field, t, crate::secrets::FieldKind::FreeText)?;
    Ok(t.to_string())
}

/// Normalises and checks an email address (a simple shape check: one `@`, text either side, a dot
/// in the domain).
pub fn check_email(field: &str, s: &str) -> Result<String> {
    let e = s.trim().to_lowercase();
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    };
    if !ok || e.len() > 254 {
        return Err(CoreError::invalid(
            field,
            format!("{:?} is not an email address", s.trim()),
        ));
    }
    Ok(e)
}

/// Checks a number is finite.
pub fn check_finite(field: &str, x: f64) -> Result<f64> {
    if !x.is_finite() {
        return Err(CoreError::invalid(field, "must be a finite number"));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_names_field() {
        for r in Role::ALL {
            assert_eq!(Role::parse("role", r.as_str()).unwrap(), *r);
        }
        let err = RiskTier::parse("tier", "extreme").unwrap_err();
        assert_eq!(err.field(), Some("tier"));
        assert!(err.to_string().contains("high, medium, low"));
        assert_eq!(
            NhiKind::parse("kind", "Service-Account").unwrap(),
            NhiKind::ServiceAccount
        );
    }

    #[test]
    fn emails_and_dates() {
        assert_eq!(
            check_email("email", " Ana@Example.com ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@example",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(check_email("email", bad).is_err(), "{bad}");
        }
        assert!(parse_date("expires", "2026-02-30").is_err());
        assert!(parse_date("expires", "2026-02-28").is_ok());
    }
}

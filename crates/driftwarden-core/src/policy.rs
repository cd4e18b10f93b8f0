//! Registry policy: approval lifetimes, deadlines and the re-breach window, per risk tier.
//! Stored in the registry (`meta.policy`), changed only by an admin, every change audited.

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use crate::domain::{RiskTier, Role};
use crate::error::{CoreError, Result};
use crate::registry::Registry;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TierValues {
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl TierValues {
    pub fn get(&self, tier: RiskTier) -> i64 {
        match tier {
            RiskTier::High => self.high,
            RiskTier::Medium => self.medium,
            RiskTier::Low => self.low,
        }
    }
    fn slot(&mut self, tier: &str) -> Option<&mut i64> {
        match tier {
            "high" => Some(&mut self.high),
            "medium" => Some(&mut self.medium),
            "low" => Some(&mut self.low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Policy {
    /// Longest approval, in months, per risk tier.
    pub approval_max_months: TierValues,
    /// Days from opening an exception to the validation deadline.
    pub validate_days: TierValues,
    /// Days from opening an exception to the decision deadline.
    pub decide_days: TierValues,
    /// Default follow-up review after a disposition, in days.
    pub follow_up_days: TierValues,
    /// A breach within this many days of a closed exception on the same model and metric is a
    /// re-breach.
    pub rebreach_window_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            approval_max_months: TierValues {
                high: 6,
                medium: 12,
                low: 24,
            },
            validate_days: TierValues {
                high: 2,
                medium: 5,
                low: 10,
            },
            decide_days: TierValues {
                high: 5,
                medium: 10,
                low: 20,
            },
            follow_up_days: TierValues {
                high: 30,
                medium: 60,
                low: 90,
            },
            rebreach_window_days: 90,
        }
    }
}

/// The keys `Registry::set_policy` accepts.
pub const POLICY_KEYS: &[&str] = &[
    "approval_max_months.{high,medium,low}",
    "validate_days.{high,medium,low}",
    "decide_days.{high,medium,low}",
    "follow_up_days.{high,medium,low}",
    "rebreach_window_days",
];

pub(crate) fn load(conn: &rusqlite::Connection) -> Result<Policy> {
    use rusqlite::OptionalExtension;
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match text {
        None => Ok(Policy::default()),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| CoreError::Tampered(format!("the registry policy is unreadable: {e}"))),
    }
}

impl Registry {
    pub fn policy(&self) -> Result<Policy> {
        load(&self.conn)
    }

    /// Changes one policy value (admin only), e.g. `approval_max_months.high = 3`.
    pub fn set_policy(&mut self, key: &str, value: i64) -> Result<Policy> {
        self.actor
            .require_any(&[Role::Admin], "changing the registry policy")?;
        let mut p = self.policy()?;
        let before = p.clone();
        let bad_key = || {
            CoreError::invalid(
                "key",
                format!(
                    "unknown policy key {key:?}; keys: {}",
                    POLICY_KEYS.join(", ")
                ),
            )
        };
        let (group, tier) = key.split_once('.').unwrap_or((key, ""));
        let (slot, min, max) = match group {
            "rebreach_window_days" if tier.is_empty() => (&mut p.rebreach_window_days, 0, 3650),
            "approval_max_months" => (p.approval_max_months.slot(tier).ok_or_else(bad_key)?, 1, 60),
            "validate_days" => (p.validate_days.slot(tier).ok_or_else(bad_key)?, 1, 365),
            "decide_days" => (p.decide_days.slot(tier).ok_or_else(bad_key)?, 1, 365),
            "follow_up_days" => (p.follow_up_days.slot(tier).ok_or_else(bad_key)?, 1, 3650),
            _ => return Err(bad_key()),
        };
        if value < min || value > max {
            return Err(CoreError::invalid(
                "value",
                format!("{key} must be between {min} and {max}"),
            ));
        }
        *slot = value;
        let text = serde_json::to_string(&p).expect("policy serialises");
        self.write(|w| {
            w.execute(
                "INSERT INTO meta (key, value) VALUES ('policy', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [&text],
            )?;
            w.record("policy.set", "registry", "policy", json!({ "key": key, "value": value, "before": before }))?;
            Ok(())
        })?;
        Ok(p)
    }
}

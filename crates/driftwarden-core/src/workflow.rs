//! The exception state machine: the only place that decides which transitions are allowed.
//!
//! ```text
//!  opened ──start──▶ validating ──confirm──▶ confirmed ──decide──▶ decided ──cosign──▶ closed
//!    │  └──────confirm────────────────────────▲   │                   (no co-sign required:
//!    │                                             │                    decide closes directly)
//!    ├─dismiss (reason) ─▶ dismissed ◀─────────────┤ (from opened, validating, escalated, recovered)
//!    ├─escalate (deadline / impact) ─▶ escalated ──decide (once confirmed)──▶ decided
//!    └─recover (back under threshold) ─▶ recovered ──decide──▶ decided
//!                                          └─breach again─▶ (the state it left; confirmed
//!                                                             if validated meanwhile)
//! ```

use crate::domain::{ExceptionState as S, Validation as V};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StartValidation,
    Confirm,
    Dismiss,
    Escalate,
    Recover,
    BreachAgain,
    Decide { cosign_required: bool },
    Cosign,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::StartValidation => "start validation",
            Action::Confirm => "confirm",
            Action::Dismiss => "dismiss",
            Action::Escalate => "escalate",
            Action::Recover => "mark recovered",
            Action::BreachAgain => "breach again",
            Action::Decide { .. } => "decide a disposition",
            Action::Cosign => "co-sign",
        }
    }
}

/// The state after `action`, or why it is not allowed from `state`.
pub fn next(state: S, validation: V, resume: Option<S>, action: Action) -> Result<S, String> {
    let refuse = |why: &str| {
        Err(format!(
            "cannot {} an exception that is {state}: {why}",
            action.name()
        ))
    };
    match (action, state) {
        (_, S::Dismissed | S::Closed) => refuse("it is final"),
        (Action::StartValidation, S::Opened) => Ok(S::Validating),
        (Action::StartValidation, _) => refuse("validation has already started"),
        (Action::Confirm | Action::Dismiss, _) if validation != V::Pending => {
            refuse(&format!("the validator already {validation} it"))
        }
        (Action::Confirm, S::Opened | S::Validating) => Ok(S::Confirmed),
        (Action::Confirm, S::Escalated | S::Recovered) => Ok(state),
        (Action::Dismiss, S::Opened | S::Validating | S::Escalated | S::Recovered) => {
            Ok(S::Dismissed)
        }
        (Action::Confirm | Action::Dismiss, _) => refuse("it has been decided"),
        (
            Action::Escalate,
            S::Opened | S::Validating | S::Confirmed | S::Recovered | S::Escalated,
        ) => Ok(S::Escalated),
        (Action::Escalate, _) => refuse("a disposition has already been decided"),
        (Action::Recover, S::Opened | S::Validating | S::Confirmed | S::Escalated) => {
            Ok(S::Recovered)
        }
        (Action::Recover, _) => refuse("it is not in breach"),
        // Back to the state it left; a signal the validator confirmed while it was recovered
        // resumes as confirmed (else it would be "opened" with nothing left to validate, and
        // nobody could decide it until a deadline escalated it).
        (Action::BreachAgain, S::Recovered) => Ok(match resume {
            Some(S::Opened | S::Validating) if validation == V::Confirmed => S::Confirmed,
            resume => resume.unwrap_or(S::Confirmed),
        }),
        (Action::BreachAgain, _) => refuse("it has not recovered"),
        (Action::Decide { .. }, S::Escalated) if validation != V::Confirmed => {
            refuse("the validator must confirm the signal first")
        }
        (Action::Decide { cosign_required }, S::Confirmed | S::Escalated | S::Recovered) => {
            Ok(if cosign_required {
                S::Decided
            } else {
                S::Closed
            })
        }
        (Action::Decide { .. }, S::Opened | S::Validating) => {
            refuse("the validator must confirm the signal first")
        }
        (Action::Decide { .. }, _) => refuse("a disposition has already been decided"),
        (Action::Cosign, S::Decided) => Ok(S::Closed),
        (Action::Cosign, _) => refuse("there is no decided disposition to co-sign"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typical_path_and_refusals() {
        let s = next(S::Opened, V::Pending, None, Action::StartValidation).unwrap();
        assert_eq!(s, S::Validating);
        let s = next(s, V::Pending, None, Action::Confirm).unwrap();
        assert_eq!(s, S::Confirmed);
        let s = next(s, V::Confirmed, None, Action::Escalate).unwrap();
        assert_eq!(s, S::Escalated);
        let s = next(
            s,
            V::Confirmed,
            None,
            Action::Decide {
                cosign_required: true,
            },
        )
        .unwrap();
        assert_eq!(s, S::Decided);
        assert_eq!(
            next(s, V::Confirmed, None, Action::Cosign).unwrap(),
            S::Closed
        );

        assert!(next(
            S::Opened,
            V::Pending,
            None,
            Action::Decide {
                cosign_required: false
            }
        )
        .is_err());
        assert!(next(S::Confirmed, V::Confirmed, None, Action::Cosign).is_err());
        assert!(next(S::Closed, V::Confirmed, None, Action::Escalate)
            .unwrap_err()
            .contains("final"));
        assert!(next(
            S::Escalated,
            V::Pending,
            None,
            Action::Decide {
                cosign_required: true
            }
        )
        .is_err());
        assert!(next(S::Confirmed, V::Confirmed, None, Action::Dismiss).is_err());
    }

    #[test]
    fn recovery_keeps_the_exception_open_and_a_new_breach_resumes() {
        let s = next(S::Escalated, V::Confirmed, None, Action::Recover).unwrap();
        assert_eq!(s, S::Recovered);
        assert!(!s.is_final());
        assert_eq!(
            next(s, V::Confirmed, Some(S::Escalated), Action::BreachAgain).unwrap(),
            S::Escalated
        );
        assert_eq!(
            next(
                s,
                V::Pending,
                None,
                Action::Decide {
                    cosign_required: false
                }
            )
            .unwrap(),
            S::Closed
        );
    }

    #[test]
    fn a_signal_confirmed_while_recovered_resumes_as_confirmed() {
        // Found by the property test (tests/properties.rs): opened → recovered → confirmed by
        // the validator → breach again used to return to "opened" with the validation already
        // confirmed, where no one could confirm, dismiss or decide it.
        for left in [S::Opened, S::Validating] {
            assert_eq!(
                next(S::Recovered, V::Confirmed, Some(left), Action::BreachAgain).unwrap(),
                S::Confirmed
            );
            assert_eq!(
                next(S::Recovered, V::Pending, Some(left), Action::BreachAgain).unwrap(),
                left
            );
        }
        assert_eq!(
            next(
                S::Recovered,
                V::Confirmed,
                Some(S::Escalated),
                Action::BreachAgain
            )
            .unwrap(),
            S::Escalated
        );
    }

    #[test]
    fn no_action_leaves_a_final_state() {
        let actions = [
            Action::StartValidation,
            Action::Confirm,
            Action::Dismiss,
            Action::Escalate,
            Action::Recover,
            Action::BreachAgain,
            Action::Decide {
                cosign_required: true,
            },
            Action::Cosign,
        ];
        for st in [S::Dismissed, S::Closed] {
            for v in [V::Pending, V::Confirmed, V::Dismissed] {
                for a in actions {
                    assert!(next(st, v, None, a).is_err());
                }
            }
        }
    }
}

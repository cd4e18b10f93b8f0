//! Operations: one module per area, each operation with explicit input and output types. Every
//! operation checks the actor's role or rights and validates its input here, in the core, and
//! writes its audit event in the same transaction as its change.

pub mod approvals;
pub mod backup;
pub mod calendar;
pub mod exceptions;
pub mod export;
pub mod heads;
pub mod inbox;
pub mod measurements;
pub mod members;
pub mod models;
pub mod nhis;
pub mod pages;
pub mod seed;
pub mod sweep;
pub mod thresholds;

//! Driftwarden core: the domain, its rules and operations, encrypted storage (SQLCipher), key
//! slots and the audit chain. The desktop shell and the CLI are thin adapters over this crate.

pub mod audit;
pub mod canonical;
pub mod clock;
mod db;
pub mod domain;
pub mod error;
pub mod fsutil;
pub mod keys;
pub mod ops;
pub mod page_crypto;
pub mod policy;
mod registry;
pub mod sample;
pub mod secrets;
mod signing;
pub mod workflow;

use std::path::PathBuf;

pub use audit::{AuditEventView, ModelTimeline, VerifyReport};
pub use clock::{Clock, FixedClock, SystemClock};
pub use db::{CipherProfile, DB_FILE, SCHEMA_VERSION};
pub use domain::*;
pub use error::{CoreError, ErrorBody, Result};
pub use ops::approvals::{ApprovalView, ApproveModel, GateItem};
pub use ops::backup::{restore_backup, BackupReport};
pub use ops::calendar::{
    CalendarItem, CalendarPage, CalendarQuery, DayCount, KindCount, ALARM_DAYS_BEFORE,
    MAX_RANGE_DAYS,
};
pub use ops::exceptions::{DecideException, EscalationView, ExceptionView};
pub use ops::export::{AuditChain, AuditEntry, ModelRights, PackData, PackScope, PackSummaryData};
pub use ops::heads::{default_state_dir, HeadCheck};
pub use ops::inbox::{Inbox, InboxItem, InboxQuery, StateCount};
pub use ops::measurements::{
    evidently_measurements, IngestFormat, IngestOptions, IngestReport, MeasurementView,
    NewMeasurement, Progress,
};
pub use ops::members::{AddMember, MemberView};
pub use ops::models::{
    AddModel, DecisionRights, ModelDetail, ModelView, SetDecisionRights, UpdateModel,
};
pub use ops::nhis::{
    Acceptance, AddNhi, DependentFinding, Finding, FindingCount, ModelPosture, NhiDetail,
    NhiLinkView, NhiPage, NhiQuery, NhiView, Posture, PostureQuery, TrendPoint, UpdateNhi,
    FINDING_CODES, NHI_CSV_HEADER,
};
pub use ops::pages::{
    downsample_min_max, ChartPoint, DriftSeries, ExceptionPage, ModelPage, ModelQuery, ModelSort,
    SortDirection, CHART_POINTS, MAX_PAGE,
};
pub use ops::seed::{seed_registry, SeedReport, SeedSpec, SEED_MEMBERS};
pub use ops::sweep::{SweepItem, SweepReport};
pub use ops::thresholds::{SetThreshold, ThresholdView};
pub use policy::{Policy, TierValues};
pub use registry::{CreateRegistry, Registry, SessionInfo, HEADER_FILE};
pub use signing::SignoffView;

/// The registry used when none is named: `DRIFTWARDEN_REGISTRY`, else the platform data folder
/// (e.g. `~/.local/share/driftwarden/registry` on Linux).
pub fn default_registry_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DRIFTWARDEN_REGISTRY").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("org", "Driftwarden", "driftwarden")
        .map(|p| p.data_dir().join("registry"))
        .unwrap_or_else(|| PathBuf::from("driftwarden-registry"))
}

-- Schema v5: indexes for the calendar, the NHI list and the NHI posture on large registries
-- (100,000 NHIs). No table changes; nothing is removed.

-- An NHI's next rotation date (last rotation, or registration, + its interval): the calendar's
-- rotations in a date range, what is overdue, and the posture's rotation compliance read this
-- index instead of computing every NHI. The expression is ROTATION_DUE_SQL in ops/nhis.rs; the
-- columns after it make the index covering for counts by day and by owner.
CREATE INDEX nhis_rotation_due ON nhis(status,
    date(coalesce(last_rotated, substr(created_at, 1, 10)), '+' || rotation_days || ' days'),
    owner_id, last_rotated, created_at, rotation_days);
-- NHI expiries in a date range, expired and expiring identities.
CREATE INDEX nhis_status_expires ON nhis(status, expires);
-- Acceptances in force (findings filtered and counted without accepted ones).
CREATE INDEX nhi_acceptances_until ON nhi_acceptances(finding, until, nhi_id);
-- The candidates of the findings the inventory filters and the posture counts: identities used
-- in several environments (a separator in the field) and with a privileged-looking scope (the
-- exact rules run on these rows only; see finding_sql in ops/nhis.rs), and human use.
CREATE INDEX nhis_multi_env ON nhis(status, environment)
    WHERE (instr(environment, ',') > 0 OR instr(environment, ';') > 0);
CREATE INDEX nhis_privileged ON nhis(status, scopes)
    WHERE (instr(scopes, '*') > 0 OR instr(lower(scopes), 'admin') > 0
        OR instr(lower(scopes), 'owner') > 0 OR instr(lower(scopes), 'full') > 0
        OR instr(lower(scopes), 'all-access') > 0);
CREATE INDEX nhis_human_use ON nhis(status) WHERE human_use != 0;
-- Identities of offboarded owners (orphaned) that are still active.
CREATE INDEX nhis_owner_status ON nhis(owner_id, status);

-- Schema v4: indexes for large registries (10,000 models, 100,000 NHIs, millions of rows).
-- No table changes; nothing is removed.

-- Escalations of one exception (every exception view; the sweep's "already escalated by this
-- rule?" check ran a scan of the whole table per due exception).
CREATE INDEX escalations_exception ON escalations(exception_id, rule);
-- The sweep's lapsed approvals and the calendar's expiries.
CREATE INDEX approvals_status_expiry ON approvals(status, expires_on);
-- A member's inbox: the models they validate or approve.
CREATE INDEX decision_rights_validator ON decision_rights(validator_id);
CREATE INDEX decision_rights_approver ON decision_rights(approver_id);
-- A metric's series in time order with its values, read from the index alone (drift charts,
-- their downsampling); replaces v2's (model_id, metric, observed_at).
DROP INDEX measurements_model_metric;
CREATE INDEX measurements_series ON measurements(model_id, metric, observed_at, id, value);

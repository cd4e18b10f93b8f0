-- Schema v6: indexes for the calendar and the NHI posture at full scale (100,000 NHIs). No table
-- changes; nothing is removed.

-- NHI expiries with their owner: the calendar's count of overdue expiries (half the NHIs at
-- scale) and one member's expiries read the index alone instead of every expired NHI's row.
CREATE INDEX nhis_status_expires_owner ON nhis(status, expires, owner_id);
-- One member's NHI expiries (Home's calendar): their dates in order, overdue ones counted, from
-- the index alone.
CREATE INDEX nhis_owner_expires ON nhis(owner_id, status, expires);

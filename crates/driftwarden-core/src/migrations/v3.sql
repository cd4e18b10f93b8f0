-- Schema v3: NHI governance. Identifiers, human use, revocation, rotation history, accepted
-- findings. Findings themselves are derived, never stored.
ALTER TABLE nhis ADD COLUMN identifier TEXT;
ALTER TABLE nhis ADD COLUMN human_use INTEGER NOT NULL DEFAULT 0 CHECK (human_use IN (0, 1));
ALTER TABLE nhis ADD COLUMN revoked_at TEXT;
ALTER TABLE nhis ADD COLUMN revoke_reason TEXT;

-- Every rotation, and the last-rotated date an NHI was registered with ('initial').
CREATE TABLE nhi_rotations (
    id          INTEGER PRIMARY KEY,
    nhi_id      INTEGER NOT NULL REFERENCES nhis(id),
    rotated_on  TEXT NOT NULL,                 -- YYYY-MM-DD
    kind        TEXT NOT NULL CHECK (kind IN ('initial', 'rotation')),
    recorded_by INTEGER REFERENCES members(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX nhi_rotations_nhi ON nhi_rotations(nhi_id, rotated_on);
INSERT INTO nhi_rotations (nhi_id, rotated_on, kind, recorded_at)
    SELECT id, last_rotated, 'initial', created_at FROM nhis WHERE last_rotated IS NOT NULL;

-- A finding accepted as a risk until a date, with a reason; it lapses like an approval.
CREATE TABLE nhi_acceptances (
    id          INTEGER PRIMARY KEY,
    nhi_id      INTEGER NOT NULL REFERENCES nhis(id),
    finding     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT NOT NULL,                 -- YYYY-MM-DD
    accepted_by INTEGER NOT NULL REFERENCES members(id),
    accepted_at TEXT NOT NULL
);
CREATE INDEX nhi_acceptances_nhi ON nhi_acceptances(nhi_id, finding);

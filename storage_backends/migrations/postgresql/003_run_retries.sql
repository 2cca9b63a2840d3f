-- How often a run was reopened (retried, or continued after its host died) and when last: 0 and
-- NULL for every run recorded before this migration, which none ever was. BIGINT, like an
-- attempt number, so that every uint32 count fits.
ALTER TABLE runs ADD COLUMN retries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retried_at TIMESTAMPTZ;

-- How often a run was reopened (retried, or continued after its host died) and when last: 0 and
-- NULL for every run recorded before this migration, which none ever was.
ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retried_at INTEGER;

-- Admission across processes (StateStore::AdmitRun): the schedule occurrence a run stands for,
-- and the indexes admission reads through.

-- The nominal fire time of the occurrence a scheduled run stands for; NULL for every other run
-- (manual, retried, and every run recorded before this migration).
ALTER TABLE runs ADD COLUMN occurrence_at TIMESTAMPTZ;

-- One run per occurrence of a job's schedule, whichever host fired it.
CREATE UNIQUE INDEX runs_one_per_occurrence ON runs (job_id, occurrence_at)
  WHERE occurrence_at IS NOT NULL;

-- Admission counts the job's runs still queued or running.
CREATE INDEX runs_incomplete_by_job ON runs (job_id, created_at DESC, id DESC)
  WHERE status IN ('queued', 'running');

-- What the store keeps about jobs between host restarts, the process that drives each run, and the
-- indexes recovery and cross-job dependencies read through.

-- "<hostname>/<pid>/<process start time>" of the host process driving the run; '' when no process
-- owns it (every run recorded before this migration), which recovery treats as dead.
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- Recovery on startup lists the runs still queued or running, oldest first: a handful, however
-- long the history.
CREATE INDEX runs_incomplete_oldest_first ON runs (created_at, id)
  WHERE status IN ('queued', 'running');

-- LastRun: the newest run of a job in given statuses, by end time; NULL ("not ended") last.
CREATE INDEX runs_by_job_status_newest_end
  ON runs (job_id, status, ended_at DESC NULLS LAST, id DESC);

CREATE TABLE jobs (
  id           TEXT COLLATE "C" PRIMARY KEY,
  paused       BOOLEAN NOT NULL,
  last_fire_at TIMESTAMPTZ,
  updated_at   TIMESTAMPTZ
);

-- A run changes status twice (queued, running, then its end), and each change rewrote every index
-- whose key holds the status. The status indexes of QueryRuns and LastRun now hold only ended
-- runs; runs still queued or running, a handful at any time, are read through the partial indexes
-- of migrations 002 and 006. So a run entering the store or starting touches none of them, and
-- its end adds to them once. The statements name the condition, so the planner can use them.
DROP INDEX runs_by_status_newest_first;
DROP INDEX runs_by_job_status_newest_first;
DROP INDEX runs_by_job_status_newest_end;
CREATE INDEX runs_ended_by_status_newest_first ON runs (status, created_at DESC, id DESC)
  WHERE status NOT IN ('queued', 'running');
CREATE INDEX runs_ended_by_job_status_newest_first ON runs (job_id, status, created_at DESC, id DESC)
  WHERE status NOT IN ('queued', 'running');
CREATE INDEX runs_ended_by_job_status_newest_end
  ON runs (job_id, status, ended_at DESC NULLS LAST, id DESC)
  WHERE status NOT IN ('queued', 'running');

-- StateStore::QueryRuns pages runs newest first, filtered by job and status and bounded by
-- creation time. With the two newest-first indexes of migration 001, every combination of filters
-- is read in order from an index (the store asks once per status), never sorted: a page reads
-- about its own size of rows whatever the history holds.
CREATE INDEX runs_by_status_newest_first ON runs (status, created_at DESC, id DESC);
CREATE INDEX runs_by_job_status_newest_first ON runs (job_id, status, created_at DESC, id DESC);

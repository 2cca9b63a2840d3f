-- Recovery's sweep of attempts left queued or running in runs that ended
-- (StateStore::InterruptStrandedAttempts), which every `petit run`, `trigger` and `retry` makes
-- at start: without this index it visited every attempt of every ended run, about a second per
-- 100,000 runs of 20 tasks. The index holds only the attempts not ended, a handful at any time.
-- The statements name its condition word for word, as SQLite requires to use it.
CREATE INDEX task_attempts_unended ON task_attempts (run_id) WHERE state IN ('queued', 'running');

-- Recovery's sweep of attempts left queued or running in runs that ended
-- (StateStore::InterruptStrandedAttempts), which every `petit run`, `trigger` and `retry` makes
-- at start: without this index it read every attempt of the history. The index holds only the
-- attempts not ended, a handful at any time.
CREATE INDEX task_attempts_unended ON task_attempts (run_id) WHERE state IN ('queued', 'running');

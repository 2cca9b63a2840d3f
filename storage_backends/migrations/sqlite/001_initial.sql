-- Petit state, SQLite dialect. Times are INTEGER microseconds since the Unix epoch; NULL means
-- "not yet". Ids compare as bytes (SQLite's default BINARY collation), as in every backend.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE runs (
  id           TEXT NOT NULL PRIMARY KEY,
  job_id       TEXT NOT NULL,
  status       TEXT NOT NULL,
  triggered_by TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  started_at   INTEGER,
  ended_at     INTEGER,
  error        TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- `petit runs` lists newest first, for every job or for one.
CREATE INDEX runs_newest_first ON runs (created_at DESC, id DESC);
CREATE INDEX runs_by_job_newest_first ON runs (job_id, created_at DESC, id DESC);

-- The primary key also serves "every attempt of a run, by task then attempt".
CREATE TABLE task_attempts (
  run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id    TEXT NOT NULL,
  attempt    INTEGER NOT NULL,
  state      TEXT NOT NULL,
  queued_at  INTEGER,
  started_at INTEGER,
  ended_at   INTEGER,
  exit_code  INTEGER,
  error      TEXT NOT NULL DEFAULT '',
  outputs    TEXT NOT NULL DEFAULT '{}',  -- JSON object; see storage_backends/src/text_codec.h
  PRIMARY KEY (run_id, task_id, attempt)
) WITHOUT ROWID;

CREATE TABLE task_logs (
  run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  stream  INTEGER NOT NULL CHECK (stream IN (1, 2)),  -- 1 stdout, 2 stderr
  data    BLOB NOT NULL,
  PRIMARY KEY (run_id, task_id, attempt, seq)
);

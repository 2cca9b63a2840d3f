-- Petit state, PostgreSQL dialect (14 or newer). Times are TIMESTAMPTZ; NULL means "not yet".
-- Ids use the "C" collation so they sort as bytes, as in every backend, whatever the database's
-- locale.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version    BIGINT PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE runs (
  id           TEXT COLLATE "C" PRIMARY KEY,
  job_id       TEXT COLLATE "C" NOT NULL,
  status       TEXT NOT NULL,
  triggered_by TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL,
  started_at   TIMESTAMPTZ,
  ended_at     TIMESTAMPTZ,
  error        TEXT NOT NULL DEFAULT ''
);

-- `petit runs` lists newest first, for every job or for one.
CREATE INDEX runs_newest_first ON runs (created_at DESC, id DESC);
CREATE INDEX runs_by_job_newest_first ON runs (job_id, created_at DESC, id DESC);

-- The primary key also serves "every attempt of a run, by task then attempt".
CREATE TABLE task_attempts (
  run_id     TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id    TEXT COLLATE "C" NOT NULL,
  attempt    BIGINT NOT NULL,
  state      TEXT NOT NULL,
  queued_at  TIMESTAMPTZ,
  started_at TIMESTAMPTZ,
  ended_at   TIMESTAMPTZ,
  exit_code  INTEGER,
  error      TEXT NOT NULL DEFAULT '',
  outputs    TEXT NOT NULL DEFAULT '{}',  -- JSON object; see storage_backends/src/text_codec.h
  PRIMARY KEY (run_id, task_id, attempt)
);

CREATE TABLE task_logs (
  run_id  TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id TEXT COLLATE "C" NOT NULL,
  attempt BIGINT NOT NULL,
  seq     BIGINT NOT NULL,
  stream  SMALLINT NOT NULL CHECK (stream IN (1, 2)),  -- 1 stdout, 2 stderr
  data    BYTEA NOT NULL,
  PRIMARY KEY (run_id, task_id, attempt, seq)
);

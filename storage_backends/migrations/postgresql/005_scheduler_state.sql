-- What the store keeps about the scheduler as a whole (StateStore::SaveScheduler): one row, absent
-- until first saved, which reads as "not paused".
CREATE TABLE scheduler_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  -- a paused scheduler fires no schedule; manual triggers still run
  paused     BOOLEAN NOT NULL,
  updated_at TIMESTAMPTZ
);

-- What the store keeps about the scheduler as a whole (StateStore::SaveScheduler): one row, absent
-- until first saved, which reads as "not paused".
CREATE TABLE scheduler_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  -- a paused scheduler fires no schedule; manual triggers still run
  paused     INTEGER NOT NULL CHECK (paused IN (0, 1)),
  updated_at INTEGER
);

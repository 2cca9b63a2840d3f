-- Who holds the host lock (StateStore::AcquireHostLock): the lock itself is a session advisory
-- lock, which the server releases with its connection; this row names the last process that took
-- it, so a refused host can say which one holds it. Written only by a process that holds the lock.
CREATE TABLE host_lock (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  -- "<hostname>/<pid>/<process start time>" of the holder
  owner       TEXT NOT NULL,
  -- for an operator reading the table
  acquired_at TIMESTAMPTZ NOT NULL
);

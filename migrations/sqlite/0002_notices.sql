-- Supervisor notices: things supervisors must see (limits pushed, deadlines, escalations).
CREATE TABLE notices (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  staff TEXT,
  request_id INTEGER,
  detail TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at INTEGER
);
CREATE INDEX notices_open ON notices(acknowledged_at, id);

-- A key is unique per staff member, not across the desk: the desk itself refuses to share
-- a key between real staff (a shared key hides who connected), but demo databases give
-- the demo logins one key.
CREATE TABLE staff_keys_new (
  id INTEGER PRIMARY KEY,
  staff_id INTEGER NOT NULL REFERENCES staff(id),
  algorithm TEXT NOT NULL,
  public_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  comment TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  UNIQUE (staff_id, fingerprint)
);
INSERT INTO staff_keys_new (id, staff_id, algorithm, public_key, fingerprint, comment, added_at)
  SELECT id, staff_id, algorithm, public_key, fingerprint, comment, added_at FROM staff_keys;
DROP TABLE staff_keys;
ALTER TABLE staff_keys_new RENAME TO staff_keys;
CREATE INDEX staff_keys_staff ON staff_keys(staff_id);
CREATE INDEX staff_keys_fingerprint ON staff_keys(fingerprint);

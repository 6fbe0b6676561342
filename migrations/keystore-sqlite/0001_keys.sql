-- The key store: wrapped data keys and the wrapped blind-index key, apart from the database.
CREATE TABLE keystore_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE wrapped_keys (
  kind TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  master_key_id TEXT NOT NULL,
  blob BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (kind, owner_id)
);
CREATE INDEX wrapped_keys_master ON wrapped_keys(master_key_id);

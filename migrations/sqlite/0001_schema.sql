-- privdesk schema, SQLite. Every personal value is a sealed BLOB (`*_ct`); blind indexes
-- and keyed word tokens live in their own tables so an erasure can delete them.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE id_counters (name TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
INSERT INTO id_counters (name, next_id) VALUES
  ('accounts', 1), ('contacts', 1), ('admin_logins', 1), ('login_history', 1),
  ('client_sessions', 1), ('requests', 1), ('request_entries', 1), ('verification_data', 1);

CREATE TABLE staff (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  lang TEXT,
  password_hash TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  last_login_at INTEGER,
  created_at INTEGER NOT NULL,
  demo BOOLEAN NOT NULL DEFAULT FALSE,
  generation INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE staff_keys (
  id INTEGER PRIMARY KEY,
  staff_id INTEGER NOT NULL REFERENCES staff(id),
  algorithm TEXT NOT NULL,
  public_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL UNIQUE,
  comment TEXT NOT NULL,
  added_at INTEGER NOT NULL
);
CREATE INDEX staff_keys_staff ON staff_keys(staff_id);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name_ct BLOB,
  email_ct BLOB,
  phone_ct BLOB,
  postal_ct BLOB,
  tax_ct BLOB,
  locked BOOLEAN NOT NULL DEFAULT FALSE,
  blocked BOOLEAN NOT NULL DEFAULT FALSE,
  erased BOOLEAN NOT NULL DEFAULT FALSE,
  erased_at INTEGER,
  admin_login_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE account_index (
  kind TEXT NOT NULL,
  hash BLOB NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  PRIMARY KEY (kind, hash, account_id)
) WITHOUT ROWID;
CREATE INDEX account_index_account ON account_index(account_id);

CREATE TABLE account_tokens (
  token TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  PRIMARY KEY (token, account_id)
) WITHOUT ROWID;
CREATE INDEX account_tokens_account ON account_tokens(account_id);

CREATE TABLE admin_logins (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  login_ct BLOB NOT NULL
);
CREATE INDEX admin_logins_account ON admin_logins(account_id);

CREATE TABLE contacts (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  name_ct BLOB,
  email_ct BLOB,
  phone_ct BLOB,
  passphrase_ct BLOB,
  has_email BOOLEAN NOT NULL,
  has_phone BOOLEAN NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE login_history (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  at INTEGER NOT NULL,
  source_ct BLOB NOT NULL,
  result TEXT NOT NULL
);
CREATE INDEX login_history_account ON login_history(account_id, at);

CREATE TABLE client_sessions (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  started_at INTEGER NOT NULL,
  source_ct BLOB NOT NULL
);
CREATE INDEX client_sessions_account ON client_sessions(account_id);

CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  queue INTEGER NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  requester_kind TEXT NOT NULL,
  requester_contact_id INTEGER,
  requester_ct BLOB,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  is_open BOOLEAN NOT NULL,
  assignee_id INTEGER REFERENCES staff(id),
  received_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  subject_ct BLOB,
  filed_by INTEGER REFERENCES staff(id),
  prepared_by INTEGER REFERENCES staff(id),
  severity INTEGER,
  leak BOOLEAN,
  identity_verified BOOLEAN NOT NULL DEFAULT FALSE,
  extended BOOLEAN NOT NULL DEFAULT FALSE,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX requests_open_due ON requests(queue, due_at, id) WHERE is_open = TRUE;
CREATE INDEX requests_state_due ON requests(queue, state, due_at, id);
CREATE INDEX requests_assignee_due ON requests(assignee_id, queue, due_at, id) WHERE is_open = TRUE;
CREATE INDEX requests_unassigned_due ON requests(queue, due_at, id)
  WHERE is_open = TRUE AND assignee_id IS NULL;
CREATE INDEX requests_filed_by ON requests(filed_by, queue, due_at, id);
CREATE INDEX requests_account ON requests(account_id);

-- Keyed subject tokens (HMAC words). Contentless: the index holds no subject text.
CREATE VIRTUAL TABLE subject_index USING fts5(
  tokens, content = '', contentless_delete = 1, tokenize = 'ascii'
);

-- Open requests per queue and due hour: queue badges in constant time at any size.
CREATE TABLE queue_buckets (
  queue INTEGER NOT NULL,
  due_hour INTEGER NOT NULL,
  open_count INTEGER NOT NULL,
  PRIMARY KEY (queue, due_hour)
) WITHOUT ROWID;

CREATE TABLE request_entries (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  body_ct BLOB NOT NULL
);
CREATE INDEX request_entries_request ON request_entries(request_id, id);
CREATE INDEX request_entries_account ON request_entries(account_id);

CREATE TABLE verification_data (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  label TEXT NOT NULL,
  value_ct BLOB NOT NULL,
  value_index BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX verification_data_request ON verification_data(request_id);
CREATE INDEX verification_data_account ON verification_data(account_id);

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  account_id INTEGER,
  request_id INTEGER,
  target TEXT,
  fields TEXT NOT NULL,
  purpose TEXT,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_account ON audit(account_id, seq);
CREATE INDEX audit_request ON audit(request_id, seq);
CREATE INDEX audit_actor ON audit(actor, seq);
CREATE INDEX audit_action ON audit(action, seq);

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL);
INSERT INTO changes (id, counter) VALUES (1, 0);

CREATE TABLE doomed_keys (account_id INTEGER PRIMARY KEY, doomed_at INTEGER NOT NULL);

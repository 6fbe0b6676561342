-- Imports commit in short transactions (src/desk/import/mod.rs). What a running import has
-- written stays invisible to the desk until its final transaction:
-- * its new accounts carry `import_pending` (the import's id), and every account query
--   passes by an account so marked unless the import is `sweeping` (it has finished);
--   their indexes, tokens and contacts are found only through them;
-- * the new rows of an account it replaces (indexes, tokens, admin logins, contacts) carry
--   the import's id as their generation `gen`, every lookup reads only the rows of an
--   account's current generation, and the new sealed values of the account row wait in
--   `import_replacements`.
-- The final transaction sets the import's state to `sweeping`, which puts every account
-- marked with it in the desk at once, and moves the replaced accounts to the new
-- generation; afterwards the marks are cleared and the superseded rows removed, a batch at
-- a time, and the import's row deleted.

-- One row per running import; its id is never reused (it doubles as a generation number).
-- `slot` lets one import run at a time.
CREATE TABLE imports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at INTEGER NOT NULL,
  -- writing, then sweeping (the final step committed) or discarding (it failed)
  state TEXT NOT NULL DEFAULT 'writing',
  slot INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (slot = 1)
);

-- The account ids an import reserved: the data keys it made for them are destroyed if it
-- fails, here or after a crash (at the next start).
CREATE TABLE import_ranges (
  import_id INTEGER NOT NULL REFERENCES imports(id),
  first_id INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (import_id, first_id)
);

-- The new sealed values of the accounts an import replaces (`--update`).
CREATE TABLE import_replacements (
  import_id INTEGER NOT NULL REFERENCES imports(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL,
  name_ct BLOB,
  email_ct BLOB,
  phone_ct BLOB,
  postal_ct BLOB,
  tax_ct BLOB,
  admin_login_count INTEGER NOT NULL,
  PRIMARY KEY (import_id, account_id)
);
CREATE INDEX import_replacements_account ON import_replacements(account_id);

ALTER TABLE accounts ADD COLUMN import_pending INTEGER REFERENCES imports(id);
ALTER TABLE accounts ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_import_pending ON accounts(import_pending) WHERE import_pending IS NOT NULL;
ALTER TABLE admin_logins ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;

-- An unchanged email of a replaced account is the same (kind, hash, account) in two
-- generations: the generation joins the keys.
CREATE TABLE account_index_new (
  kind TEXT NOT NULL,
  hash BLOB NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, hash, account_id, gen)
) WITHOUT ROWID;
INSERT INTO account_index_new (kind, hash, account_id) SELECT kind, hash, account_id FROM account_index;
DROP TABLE account_index;
ALTER TABLE account_index_new RENAME TO account_index;
CREATE INDEX account_index_account ON account_index(account_id);

CREATE TABLE account_tokens_new (
  token TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  gen INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (token, account_id, gen)
) WITHOUT ROWID;
INSERT INTO account_tokens_new (token, account_id) SELECT token, account_id FROM account_tokens;
DROP TABLE account_tokens;
ALTER TABLE account_tokens_new RENAME TO account_tokens;
CREATE INDEX account_tokens_account ON account_tokens(account_id);

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
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at BIGINT NOT NULL,
  -- writing, then sweeping (the final step committed) or discarding (it failed)
  state TEXT NOT NULL DEFAULT 'writing',
  slot INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (slot = 1)
);

-- The account ids an import reserved: the data keys it made for them are destroyed if it
-- fails, here or after a crash (at the next start).
CREATE TABLE import_ranges (
  import_id BIGINT NOT NULL REFERENCES imports(id),
  first_id BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (import_id, first_id)
);

-- The new sealed values of the accounts an import replaces (`--update`).
CREATE TABLE import_replacements (
  import_id BIGINT NOT NULL REFERENCES imports(id),
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL,
  name_ct BYTEA,
  email_ct BYTEA,
  phone_ct BYTEA,
  postal_ct BYTEA,
  tax_ct BYTEA,
  admin_login_count BIGINT NOT NULL,
  PRIMARY KEY (import_id, account_id)
);
CREATE INDEX import_replacements_account ON import_replacements(account_id);

ALTER TABLE accounts ADD COLUMN import_pending BIGINT REFERENCES imports(id);
ALTER TABLE accounts ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX accounts_import_pending ON accounts(import_pending) WHERE import_pending IS NOT NULL;
ALTER TABLE admin_logins ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;

-- An unchanged email of a replaced account is the same (kind, hash, account) in two
-- generations: the generation joins the keys.
ALTER TABLE account_index ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_index DROP CONSTRAINT account_index_pkey;
ALTER TABLE account_index ADD PRIMARY KEY (kind, hash, account_id, gen);
ALTER TABLE account_tokens ADD COLUMN gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_pkey;
ALTER TABLE account_tokens ADD PRIMARY KEY (token, account_id, gen);

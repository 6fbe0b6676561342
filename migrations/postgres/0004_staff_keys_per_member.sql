-- A key is unique per staff member, not across the desk: the desk itself refuses to share
-- a key between real staff (a shared key hides who connected), but demo databases give
-- the demo logins one key.
ALTER TABLE staff_keys DROP CONSTRAINT staff_keys_fingerprint_key;
ALTER TABLE staff_keys ADD CONSTRAINT staff_keys_member_fingerprint UNIQUE (staff_id, fingerprint);
CREATE INDEX staff_keys_fingerprint ON staff_keys(fingerprint);

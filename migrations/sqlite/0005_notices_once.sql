-- One open notice per kind, staff member and request: a limit pushed again before a
-- supervisor acknowledged the notice adds nothing to the list (every attempt stays in the
-- audit log). Open duplicates from before are folded into the first.
DELETE FROM notices
WHERE acknowledged_at IS NULL
  AND id NOT IN (
    SELECT min(id) FROM notices
    WHERE acknowledged_at IS NULL
    GROUP BY kind, COALESCE(staff, ''), COALESCE(request_id, 0)
  );

CREATE UNIQUE INDEX notices_one_open
  ON notices (kind, (COALESCE(staff, '')), (COALESCE(request_id, 0)))
  WHERE acknowledged_at IS NULL;

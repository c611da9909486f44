-- The per-issue counter tables are upserted for every batch of the grouping worker; their foreign
-- keys cost one trigger query per row on that hot path. Deleting and merging issues clean these
-- tables explicitly, and the worker checks that every issue it counts for still exists.
ALTER TABLE issue_tags DROP CONSTRAINT IF EXISTS issue_tags_issue_id_fkey;
ALTER TABLE issue_hourly DROP CONSTRAINT IF EXISTS issue_hourly_issue_id_fkey;
ALTER TABLE issue_users DROP CONSTRAINT IF EXISTS issue_users_issue_id_fkey;

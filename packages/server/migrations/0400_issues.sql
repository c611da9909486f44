-- Issues: grouped errors, their events (time-partitioned), per-issue tag/hour/user counters and
-- the outbox of issue updates. No foreign keys to identity's tables: the issues worker must keep
-- ingesting while projects are administered, and project deletion cleans up through the store.

CREATE TABLE IF NOT EXISTS issues (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL,
  fingerprint text NOT NULL,
  grouping jsonb NOT NULL,
  title text NOT NULL,
  culprit text,
  level text NOT NULL,
  platform text NOT NULL,
  status text NOT NULL DEFAULT 'unresolved' CHECK (status IN ('unresolved', 'resolved', 'ignored')),
  resolved_at timestamptz,
  resolved_by bigint,
  resolve_in_next_release boolean NOT NULL DEFAULT false,
  resolved_release text,
  ignore_until timestamptz,
  ignore_count bigint,
  ignore_count_base bigint,
  assignee_id bigint,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  first_release text,
  last_release text,
  event_count bigint NOT NULL DEFAULT 0,
  user_count bigint NOT NULL DEFAULT 0,
  last_event_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Sorts of the issue list, scoped by project and status (the default list is unresolved by last seen).
CREATE INDEX IF NOT EXISTS issues_list_last_seen ON issues (project_id, status, last_seen DESC, id DESC);
CREATE INDEX IF NOT EXISTS issues_list_first_seen ON issues (project_id, status, first_seen DESC, id DESC);
CREATE INDEX IF NOT EXISTS issues_list_count ON issues (project_id, status, event_count DESC, id DESC);
CREATE INDEX IF NOT EXISTS issues_list_users ON issues (project_id, status, user_count DESC, id DESC);
CREATE INDEX IF NOT EXISTS issues_project_last_seen ON issues (project_id, last_seen DESC, id DESC);

-- Which issue a fingerprint belongs to; merging moves fingerprints, so future events follow.
CREATE TABLE IF NOT EXISTS issue_fingerprints (
  project_id bigint NOT NULL,
  fingerprint text NOT NULL,
  issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, fingerprint)
);
CREATE INDEX IF NOT EXISTS issue_fingerprints_issue ON issue_fingerprints (issue_id);

-- Events, partitioned by day of arrival so retention drops whole partitions. Partitions are
-- created ahead by the issues worker. Payload is `json` (not jsonb): inserts are twice as fast.
CREATE TABLE IF NOT EXISTS events (
  project_id bigint NOT NULL,
  event_id uuid NOT NULL,
  received_at timestamptz NOT NULL,
  issue_id bigint NOT NULL,
  timestamp timestamptz NOT NULL,
  level text NOT NULL,
  release text,
  environment text,
  user_key text,
  title text NOT NULL,
  payload json NOT NULL,
  PRIMARY KEY (project_id, event_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX IF NOT EXISTS events_issue_received ON events (issue_id, received_at DESC, event_id DESC);

-- Top tag values per issue (also the tag filter of the issue list, hence project_id/key/value first).
CREATE TABLE IF NOT EXISTS issue_tags (
  issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  key text NOT NULL,
  value text NOT NULL,
  project_id bigint NOT NULL,
  count bigint NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (issue_id, key, value)
);
CREATE INDEX IF NOT EXISTS issue_tags_filter ON issue_tags (project_id, key, value, issue_id);

-- Events per issue per hour of arrival: sparklines, the detail chart and alert thresholds.
CREATE TABLE IF NOT EXISTS issue_hourly (
  issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (issue_id, hour)
);

-- Distinct users per issue (hashed user identity); inserting a known pair does nothing.
CREATE TABLE IF NOT EXISTS issue_users (
  issue_id bigint NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
  user_key text NOT NULL,
  PRIMARY KEY (issue_id, user_key)
);

-- Releases per project in order of first appearance ("resolved in next release").
CREATE TABLE IF NOT EXISTS project_releases (
  project_id bigint NOT NULL,
  version text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, version)
);

-- Issue updates written in the same transaction as the counts, relayed to the bus afterwards.
CREATE TABLE IF NOT EXISTS issue_outbox (
  id bigserial PRIMARY KEY,
  update_id text NOT NULL UNIQUE,
  project_id bigint NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Ingest: attachments kept with their event, and per-project hourly ingest outcome counters.

CREATE TABLE ingest_attachments (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  event_id text NOT NULL CHECK (event_id ~ '^[0-9a-f]{32}$'),
  -- Content digest (first 32 hex of SHA-256 over name, type and bytes): a retried upload is a no-op.
  id text NOT NULL,
  filename text NOT NULL,
  content_type text,
  attachment_type text,
  size int NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, event_id, id)
);
CREATE INDEX ingest_attachments_created_idx ON ingest_attachments (created_at);

-- outcome: accepted | rate_limited | invalid | dropped; reason is '' for accepted.
CREATE TABLE ingest_stats (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  hour timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'rate_limited', 'invalid', 'dropped')),
  reason text NOT NULL DEFAULT '',
  count bigint NOT NULL,
  PRIMARY KEY (project_id, hour, outcome, reason)
);

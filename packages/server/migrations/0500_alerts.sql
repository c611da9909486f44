-- Alerts: rules per project, per-window counts (kept here so evaluation survives restarts and
-- runs on several alert workers), alert records with dedup, silences, and the delivery queue.
-- project_id columns carry no foreign key: the alerts domain stays loosely coupled to identity.

CREATE TABLE IF NOT EXISTS alert_rules (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL,
  name text NOT NULL,
  trigger jsonb NOT NULL,
  filters jsonb NOT NULL DEFAULT '{}',
  actions jsonb NOT NULL,
  cooldown_minutes int NOT NULL DEFAULT 60 CHECK (cooldown_minutes >= 0),
  enabled boolean NOT NULL DEFAULT true,
  created_by bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_rules_project_idx ON alert_rules (project_id, id);

-- Bus messages already evaluated ('u:' + updateId, 'm:' + monitor eventId): redelivery is a no-op.
CREATE TABLE IF NOT EXISTS alert_processed (
  message_id text PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_processed_at_idx ON alert_processed (processed_at);

-- Matching events per rule, subject ('project' or 'issue:<id>') and bucket (1 minute for
-- frequency rules, the anomaly window for anomaly rules).
CREATE TABLE IF NOT EXISTS alert_counts (
  rule_id bigint NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  subject text NOT NULL,
  bucket timestamptz NOT NULL,
  events bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (rule_id, subject, bucket)
);
CREATE INDEX IF NOT EXISTS alert_counts_bucket_idx ON alert_counts (bucket);

-- Distinct users per rule, subject and minute (frequency rules with metric 'users').
CREATE TABLE IF NOT EXISTS alert_users (
  rule_id bigint NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  subject text NOT NULL,
  bucket timestamptz NOT NULL,
  user_id text NOT NULL,
  PRIMARY KEY (rule_id, subject, bucket, user_id)
);
CREATE INDEX IF NOT EXISTS alert_users_bucket_idx ON alert_users (bucket);

-- Anomaly bookkeeping per rule and subject: since when it counts (history) and the run of
-- consecutive anomalous windows.
CREATE TABLE IF NOT EXISTS alert_anomaly_state (
  rule_id bigint NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  subject text NOT NULL,
  since timestamptz NOT NULL,
  last_window timestamptz,
  streak int NOT NULL DEFAULT 0,
  fired_window timestamptz,
  PRIMARY KEY (rule_id, subject)
);

CREATE TABLE IF NOT EXISTS alerts (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL,
  rule_id bigint REFERENCES alert_rules (id) ON DELETE SET NULL,
  rule_name text NOT NULL,
  subject text NOT NULL,
  issue_id bigint,
  service_id bigint,
  endpoint_id bigint,
  trigger_type text NOT NULL,
  reason text NOT NULL,
  state text NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  count int NOT NULL DEFAULT 1,
  details jsonb NOT NULL DEFAULT '{}',
  first_fired_at timestamptz NOT NULL,
  last_fired_at timestamptz NOT NULL,
  last_notified_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by bigint,
  resolved_at timestamptz,
  resolved_by bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One open alert per rule and subject.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_open_uq ON alerts (rule_id, subject) WHERE state <> 'resolved';
CREATE INDEX IF NOT EXISTS alerts_project_idx ON alerts (project_id, id DESC);

CREATE TABLE IF NOT EXISTS alert_silences (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL,
  rule_id bigint,
  issue_id bigint,
  until timestamptz NOT NULL,
  comment text NOT NULL DEFAULT '',
  created_by bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_silences_project_idx ON alert_silences (project_id, until);

-- The delivery queue: one row per notification, claimed with FOR UPDATE SKIP LOCKED under a lease.
CREATE TABLE IF NOT EXISTS alert_deliveries (
  id bigserial PRIMARY KEY,
  project_id bigint,
  alert_id bigint REFERENCES alerts (id) ON DELETE SET NULL,
  rule_id bigint,
  kind text NOT NULL CHECK (kind IN ('alert', 'test', 'uptime_webhook')),
  channel text NOT NULL CHECK (channel IN ('webhook', 'slack', 'email')),
  target jsonb NOT NULL,
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivering', 'delivered', 'dead')),
  attempts int NOT NULL DEFAULT 0,
  max_attempts int,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_status int,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  dead_at timestamptz
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS alert_deliveries_lease_idx ON alert_deliveries (locked_until) WHERE state = 'delivering';
CREATE INDEX IF NOT EXISTS alert_deliveries_project_idx ON alert_deliveries (project_id, state, id DESC);
CREATE INDEX IF NOT EXISTS alert_deliveries_alert_idx ON alert_deliveries (alert_id);

CREATE TABLE IF NOT EXISTS alert_delivery_attempts (
  id bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES alert_deliveries (id) ON DELETE CASCADE,
  attempt int NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  duration_ms int NOT NULL,
  status int,
  error text
);
CREATE INDEX IF NOT EXISTS alert_delivery_attempts_delivery_idx ON alert_delivery_attempts (delivery_id, attempt);

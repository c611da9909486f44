-- Uptime monitoring: services, endpoints (with their scheduler state), pings, incidents,
-- 5-minute windows, maintenance windows, webhooks (delivered by alerts) and an outbox that
-- relays incident transitions to the bus in the same transaction as the change.

CREATE TABLE IF NOT EXISTS uptime_services (
  id bigserial PRIMARY KEY,
  org_id bigint NOT NULL,
  project_id bigint,
  name text NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS uptime_services_org ON uptime_services (org_id);
CREATE INDEX IF NOT EXISTS uptime_services_project ON uptime_services (project_id) WHERE project_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS uptime_endpoints (
  id bigserial PRIMARY KEY,
  service_id bigint NOT NULL REFERENCES uptime_services (id) ON DELETE CASCADE,
  name text NOT NULL,
  url text NOT NULL,
  method text NOT NULL DEFAULT 'GET',
  headers jsonb NOT NULL DEFAULT '{}',
  body text,
  -- The API enforces 10 s; the table allows shorter intervals for tests and benchmarks.
  interval_s integer NOT NULL CHECK (interval_s >= 1),
  timeout_ms integer NOT NULL DEFAULT 10000 CHECK (timeout_ms > 0),
  expected_status integer[],
  keyword text,
  degraded_after_ms integer,
  failure_threshold integer NOT NULL DEFAULT 3 CHECK (failure_threshold >= 1),
  recovery_threshold integer NOT NULL DEFAULT 2 CHECK (recovery_threshold >= 1),
  enabled boolean NOT NULL DEFAULT true,
  -- scheduler: the due time of the next slot and the lease of the worker running it
  next_due_at timestamptz NOT NULL,
  lease_owner text,
  lease_until timestamptz,
  -- incident state machine
  consecutive_failures integer NOT NULL DEFAULT 0,
  consecutive_successes integer NOT NULL DEFAULT 0,
  failing_since timestamptz,
  last_status text,
  last_checked_at timestamptz,
  last_latency_ms real,
  open_incident_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS uptime_endpoints_service ON uptime_endpoints (service_id);
CREATE INDEX IF NOT EXISTS uptime_endpoints_due ON uptime_endpoints (next_due_at) WHERE enabled;

CREATE TABLE IF NOT EXISTS uptime_pings (
  id bigserial PRIMARY KEY,
  endpoint_id bigint NOT NULL REFERENCES uptime_endpoints (id) ON DELETE CASCADE,
  -- the schedule slot this ping fills (its due time); one ping per slot
  slot_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  ok boolean NOT NULL,
  status text NOT NULL,
  http_status integer,
  error_kind text,
  error text,
  latency_ms real,
  dns_ms real,
  connect_ms real,
  tls_ms real,
  ttfb_ms real,
  cert_expires_at timestamptz,
  worker text,
  incident_id bigint,
  UNIQUE (endpoint_id, slot_at)
);
CREATE INDEX IF NOT EXISTS uptime_pings_slot_brin ON uptime_pings USING brin (slot_at);
CREATE INDEX IF NOT EXISTS uptime_pings_incident ON uptime_pings (incident_id) WHERE incident_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS uptime_incidents (
  id bigserial PRIMARY KEY,
  endpoint_id bigint NOT NULL REFERENCES uptime_endpoints (id) ON DELETE CASCADE,
  service_id bigint NOT NULL REFERENCES uptime_services (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  cause text NOT NULL,
  error_kind text,
  started_at timestamptz NOT NULL,
  opened_at timestamptz NOT NULL,
  resolved_at timestamptz,
  resolved_by text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS uptime_incidents_endpoint ON uptime_incidents (endpoint_id, started_at DESC);
CREATE INDEX IF NOT EXISTS uptime_incidents_open ON uptime_incidents (service_id) WHERE status = 'open';
CREATE UNIQUE INDEX IF NOT EXISTS uptime_incidents_one_open ON uptime_incidents (endpoint_id) WHERE status = 'open';

CREATE TABLE IF NOT EXISTS uptime_windows (
  endpoint_id bigint NOT NULL REFERENCES uptime_endpoints (id) ON DELETE CASCADE,
  window_start timestamptz NOT NULL,
  checks integer NOT NULL,
  failures integer NOT NULL,
  degraded integer NOT NULL,
  availability double precision NOT NULL,
  latency_min double precision,
  latency_avg double precision,
  latency_p50 double precision,
  latency_p95 double precision,
  latency_p99 double precision,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint_id, window_start)
);
CREATE INDEX IF NOT EXISTS uptime_windows_start_brin ON uptime_windows USING brin (window_start);

-- How far the window aggregation has got (one row).
CREATE TABLE IF NOT EXISTS uptime_aggregation (
  id integer PRIMARY KEY CHECK (id = 1),
  watermark timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS uptime_maintenance (
  id bigserial PRIMARY KEY,
  service_id bigint REFERENCES uptime_services (id) ON DELETE CASCADE,
  endpoint_id bigint REFERENCES uptime_endpoints (id) ON DELETE CASCADE,
  title text NOT NULL DEFAULT '',
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((service_id IS NULL) <> (endpoint_id IS NULL)),
  CHECK (ends_at > starts_at)
);
CREATE INDEX IF NOT EXISTS uptime_maintenance_service ON uptime_maintenance (service_id, ends_at) WHERE service_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS uptime_maintenance_endpoint ON uptime_maintenance (endpoint_id, ends_at) WHERE endpoint_id IS NOT NULL;

-- Read by the alerts worker, which delivers monitor events to matching webhooks.
CREATE TABLE IF NOT EXISTS uptime_webhooks (
  id bigserial PRIMARY KEY,
  service_id bigint NOT NULL REFERENCES uptime_services (id) ON DELETE CASCADE,
  url text NOT NULL,
  events text[] NOT NULL,
  secret text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS uptime_webhooks_service ON uptime_webhooks (service_id);

CREATE TABLE IF NOT EXISTS uptime_outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Insights: one analysis per issue at a time. The row is both the durable job (pending, with
-- attempts, back-off and a lease) and its result (ready or failed).
CREATE TABLE IF NOT EXISTS insights (
  issue_id bigint PRIMARY KEY,
  project_id bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  kind text NOT NULL DEFAULT 'builtin' CHECK (kind IN ('ai', 'builtin', 'text')),
  provider text,
  model text,
  content jsonb,
  error text,
  reason text NOT NULL DEFAULT 'created',
  last_update_id text,
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  requested_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS insights_due ON insights (next_attempt_at) WHERE status = 'pending';

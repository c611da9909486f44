-- Alerts: optional digest per rule (notifications of a rule batched into one message per period).
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS digest_minutes int NOT NULL DEFAULT 0 CHECK (digest_minutes >= 0);
ALTER TABLE alert_deliveries DROP CONSTRAINT IF EXISTS alert_deliveries_kind_check;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_kind_check
  CHECK (kind IN ('alert', 'test', 'uptime_webhook', 'digest'));
-- The open digest of a rule and target, appended to until it is sent.
CREATE INDEX IF NOT EXISTS alert_deliveries_open_digest_idx ON alert_deliveries (rule_id)
  WHERE kind = 'digest' AND state = 'pending' AND attempts = 0;

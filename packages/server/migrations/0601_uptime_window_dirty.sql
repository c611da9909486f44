-- Windows whose pings arrived after the aggregation passed them (a slot run very late): the
-- aggregation recomputes these on its next run.
CREATE TABLE IF NOT EXISTS uptime_window_dirty (
  endpoint_id bigint NOT NULL,
  window_start timestamptz NOT NULL,
  PRIMARY KEY (endpoint_id, window_start)
);

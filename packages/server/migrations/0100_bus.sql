-- Embedded event bus: an append-only log per (topic, partition), offsets assigned under a
-- row lock on the partition's head so rows of one partition commit in offset order (a consumer
-- can never skip a lower offset that commits later), and committed offsets per consumer group.
CREATE TABLE IF NOT EXISTS bus_topics (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  partitions int NOT NULL CHECK (partitions > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS bus_heads (
  topic_id int NOT NULL REFERENCES bus_topics (id) ON DELETE CASCADE,
  partition int NOT NULL,
  next_offset bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (topic_id, partition)
);

CREATE TABLE IF NOT EXISTS bus_log (
  topic_id int NOT NULL,
  partition int NOT NULL,
  "offset" bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  key text NOT NULL,
  headers text,
  value bytea NOT NULL,
  PRIMARY KEY (topic_id, partition, "offset")
);

-- One row per (consumer group, topic); its id keys the group's advisory locks.
CREATE TABLE IF NOT EXISTS bus_groups (
  id serial PRIMARY KEY,
  name text NOT NULL,
  topic_id int NOT NULL REFERENCES bus_topics (id) ON DELETE CASCADE,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, topic_id)
);

-- next_offset: the first offset the group has not processed yet.
CREATE TABLE IF NOT EXISTS bus_offsets (
  group_id int NOT NULL REFERENCES bus_groups (id) ON DELETE CASCADE,
  partition int NOT NULL,
  next_offset bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, partition)
);

-- Publish a batch in one round trip: lock the touched partition heads in partition order (no
-- deadlock between concurrent publishers), take a contiguous offset range per partition, append
-- the rows, and wake consumers (NOTIFY is delivered on commit).
CREATE OR REPLACE FUNCTION bus_publish(p_topic int, p_parts int[], p_keys text[], p_values bytea[], p_headers text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  inserted bigint;
BEGIN
  PERFORM 1 FROM bus_heads WHERE topic_id = p_topic AND partition = ANY (p_parts) ORDER BY partition FOR UPDATE;
  WITH m AS (
    SELECT u.partition, u.key, u.value, u.headers,
           row_number() OVER (PARTITION BY u.partition ORDER BY u.ord) - 1 AS i
    FROM unnest(p_parts, p_keys, p_values, p_headers) WITH ORDINALITY AS u(partition, key, value, headers, ord)
  ), heads AS (
    UPDATE bus_heads h SET next_offset = h.next_offset + c.n
    FROM (SELECT partition, count(*) AS n FROM unnest(p_parts) AS x(partition) GROUP BY partition) c
    WHERE h.topic_id = p_topic AND h.partition = c.partition
    RETURNING h.partition, h.next_offset - c.n AS base
  )
  INSERT INTO bus_log (topic_id, partition, "offset", key, value, headers)
  SELECT p_topic, m.partition, heads.base + m.i, m.key, m.value, m.headers
  FROM m JOIN heads ON heads.partition = m.partition;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted <> coalesce(array_length(p_parts, 1), 0) THEN
    RAISE EXCEPTION 'bus_publish: topic % has no head for some partition in %', p_topic, p_parts;
  END IF;
  PERFORM pg_notify('beacon_bus', 't:' || p_topic);
END $$;

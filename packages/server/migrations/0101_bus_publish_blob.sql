-- Publish with every value in one bytea parameter (sent in binary) cut by lengths: avoids the
-- hex text encoding and array parsing of a bytea[] parameter, the main per-message cost.
CREATE OR REPLACE FUNCTION bus_publish_blob(p_topic int, p_parts int[], p_keys text[], p_blob bytea, p_lens int[], p_headers text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  inserted bigint;
BEGIN
  PERFORM 1 FROM bus_heads WHERE topic_id = p_topic AND partition = ANY (p_parts) ORDER BY partition FOR UPDATE;
  WITH u AS (
    SELECT x.partition, x.key, x.len, x.headers, x.ord,
           sum(x.len) OVER (ORDER BY x.ord) - x.len AS start
    FROM unnest(p_parts, p_keys, p_lens, p_headers) WITH ORDINALITY AS x(partition, key, len, headers, ord)
  ), m AS (
    SELECT u.partition, u.key, u.headers, substring(p_blob FROM (u.start + 1)::int FOR u.len) AS value,
           row_number() OVER (PARTITION BY u.partition ORDER BY u.ord) - 1 AS i
    FROM u
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
    RAISE EXCEPTION 'bus_publish_blob: topic % has no head for some partition in %', p_topic, p_parts;
  END IF;
  PERFORM pg_notify('beacon_bus', 't:' || p_topic);
END $$;

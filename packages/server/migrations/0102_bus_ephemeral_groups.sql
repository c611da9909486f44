-- Per-process consumer groups (e.g. live fan-out) neither hold back retention nor outlive their
-- consumer: their row (and offsets) are deleted when it stops, or by retention once stale.
ALTER TABLE bus_groups ADD COLUMN IF NOT EXISTS ephemeral boolean NOT NULL DEFAULT false;

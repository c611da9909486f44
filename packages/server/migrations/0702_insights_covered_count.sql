-- Insights: the issue's event count an analysis covered. An issue update whose count is not above
-- it (a redelivered `created` after a later `regressed`, or a second worker's copy) does not
-- re-open the job.
ALTER TABLE insights ADD COLUMN IF NOT EXISTS covered_count bigint NOT NULL DEFAULT 0;

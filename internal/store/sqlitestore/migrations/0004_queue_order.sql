-- Claims order the queue by (queue_at, id). With only queue_at indexed, a
-- backlog whose events share one due time (all released by one unpause)
-- had every claim read and sort the whole backlog; with both columns the
-- claim reads the index in order and stops at its limit.
DROP INDEX events_queue;
CREATE INDEX events_queue ON events (queue_at, id) WHERE queue_at IS NOT NULL;

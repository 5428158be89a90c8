-- Sluice schema, version 3: ordered delivery and concurrency caps.

-- The head of each ordered destination: its first pending event in ingest
-- order (request ids sort by arrival in one process).
CREATE INDEX events_ordered_head ON events (destination_id, request_id, id) WHERE queue_at IS NOT NULL;
-- Leased events by destination.
CREATE INDEX events_leased_destination ON events (destination_id) WHERE lease_owner IS NOT NULL;

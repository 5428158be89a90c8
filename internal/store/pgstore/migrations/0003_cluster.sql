-- Sluice schema, version 3: what several processes on one database share.

-- order_at is the ingest time of the event's request: with request_id and
-- id it orders the events of an ordered destination (ingest order across
-- processes, whose request ids agree only to the millisecond).
ALTER TABLE events ADD COLUMN order_at timestamptz;
UPDATE events e SET order_at = r.ingested_at FROM requests r WHERE r.id = e.request_id;
-- The head of each ordered destination: its first pending event.
CREATE INDEX events_ordered_head ON events (destination_id, order_at, request_id, id) WHERE queue_at IS NOT NULL;
-- Leased events by destination (ordered heads, concurrency caps).
CREATE INDEX events_leased_destination ON events (destination_id) WHERE lease_owner IS NOT NULL;

-- Which process holds a live CLI session for which connection, renewed by
-- the process's heartbeat. While some process listens for a connection,
-- only listening processes claim its events.
CREATE TABLE cli_listeners (
    connection_id text COLLATE "C" NOT NULL,
    owner         text NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (connection_id, owner)
);

-- Sluice schema, version 1.
--
-- Ids are text COLLATE "C": they sort in byte order, which is creation
-- order, and every list paginates by id. Times are timestamptz at
-- microsecond precision. Payloads (what was received or will be sent) live
-- apart from the rows that index them.

CREATE TABLE teams (
    id             text COLLATE "C" PRIMARY KEY,
    name           text NOT NULL,
    signing_secret text NOT NULL,
    is_default     boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX teams_one_default ON teams (is_default) WHERE is_default;

CREATE TABLE sources (
    id          text COLLATE "C" PRIMARY KEY,
    team_id     text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    description text,
    type        text NOT NULL,
    config      jsonb NOT NULL,
    disabled_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT sources_team_name UNIQUE (team_id, name)
);

CREATE TABLE destinations (
    id          text COLLATE "C" PRIMARY KEY,
    team_id     text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    description text,
    type        text NOT NULL,
    config      jsonb NOT NULL,
    disabled_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT destinations_team_name UNIQUE (team_id, name)
);

CREATE TABLE connections (
    id             text COLLATE "C" PRIMARY KEY,
    team_id        text COLLATE "C" NOT NULL,
    name           text NOT NULL,
    description    text,
    source_id      text COLLATE "C" NOT NULL,
    destination_id text COLLATE "C" NOT NULL,
    rules          text,
    disabled_at    timestamptz,
    paused_at      timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT connections_team_source_name UNIQUE (team_id, source_id, name)
);
CREATE INDEX connections_destination ON connections (destination_id);

-- Path and query are bytea: they come from the wire and may hold any byte.
-- Headers are JSON text (not jsonb, which refuses \u0000).
CREATE TABLE payloads (
    id      text COLLATE "C" PRIMARY KEY,
    method  text NOT NULL,
    path    bytea NOT NULL,
    query   bytea NOT NULL,
    headers text NOT NULL,
    body    bytea
);

CREATE TABLE requests (
    id               text COLLATE "C" PRIMARY KEY,
    team_id          text COLLATE "C" NOT NULL,
    source_id        text COLLATE "C" NOT NULL,
    verified         boolean,
    rejection_cause  text NOT NULL,
    data_id          text COLLATE "C" NOT NULL,
    original_ip      text NOT NULL,
    events_count     integer NOT NULL DEFAULT 0,
    cli_events_count integer NOT NULL DEFAULT 0,
    ignored_count    integer NOT NULL DEFAULT 0,
    routed_at        timestamptz,
    ingested_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- The router's lease while it routes the request.
    lease_owner      text,
    lease_until      timestamptz
);
CREATE INDEX requests_source ON requests (source_id, id);
CREATE INDEX requests_created ON requests (created_at);
-- The router's queue: accepted requests not yet routed.
CREATE INDEX requests_unrouted ON requests (id) WHERE routed_at IS NULL AND rejection_cause = '';

CREATE TABLE events (
    id              text COLLATE "C" PRIMARY KEY,
    team_id         text COLLATE "C" NOT NULL,
    connection_id   text COLLATE "C" NOT NULL,
    source_id       text COLLATE "C" NOT NULL,
    destination_id  text COLLATE "C" NOT NULL,
    request_id      text COLLATE "C" NOT NULL,
    data_id         text COLLATE "C" NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    response_status integer,
    error_code      text NOT NULL DEFAULT '',
    successful_at   timestamptz,
    cli_id          text NOT NULL DEFAULT '',
    next_trigger    text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- queue_at is when the event can next be claimed by a delivery worker:
    -- its due time while QUEUED or SCHEDULED and unleased, the end of the
    -- lease while leased (so an expired lease is claimable again by
    -- itself), NULL in every other status.
    queue_at        timestamptz,
    lease_owner     text,
    lease_until     timestamptz
);
CREATE INDEX events_queue ON events (queue_at, id) WHERE queue_at IS NOT NULL;
CREATE INDEX events_status ON events (status, id);
CREATE INDEX events_connection ON events (connection_id, id);
-- Pausing and unpausing touch only a connection's unfinished events.
CREATE INDEX events_connection_pending ON events (connection_id) WHERE status IN ('QUEUED', 'SCHEDULED', 'HOLD');
CREATE INDEX events_source ON events (source_id, id);
CREATE INDEX events_destination ON events (destination_id, id);
CREATE INDEX events_request ON events (request_id);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_lease_owner ON events (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE attempts (
    id               text COLLATE "C" PRIMARY KEY,
    team_id          text COLLATE "C" NOT NULL,
    event_id         text COLLATE "C" NOT NULL,
    destination_id   text COLLATE "C" NOT NULL,
    attempt_number   integer NOT NULL,
    trigger          text NOT NULL,
    status           text NOT NULL,
    response_status  integer,
    error_code       text NOT NULL,
    body             bytea NOT NULL,
    requested_url    text NOT NULL,
    http_method      text NOT NULL,
    successful_at    timestamptz,
    delivered_at     timestamptz,
    responded_at     timestamptz,
    delivery_latency integer,
    response_latency integer,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX attempts_event ON attempts (event_id, id);

CREATE TABLE ignored_events (
    id            text COLLATE "C" PRIMARY KEY,
    team_id       text COLLATE "C" NOT NULL,
    connection_id text COLLATE "C" NOT NULL,
    request_id    text COLLATE "C" NOT NULL,
    cause         text NOT NULL,
    meta          text,
    created_at    timestamptz NOT NULL
);
CREATE INDEX ignored_events_request ON ignored_events (request_id, id);
CREATE INDEX ignored_events_connection ON ignored_events (connection_id, id);

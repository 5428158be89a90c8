-- Sluice schema, version 2: transformations and their runs, deduplication
-- keys, and rate-limit slots.

-- Env is a JSON object as text.
CREATE TABLE transformations (
    id         text COLLATE "C" PRIMARY KEY,
    team_id    text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    code       text NOT NULL,
    env        text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT transformations_team_name UNIQUE (team_id, name)
);

-- Logs is a JSON array of console lines as text (not jsonb, which refuses
-- \u0000). transformed_data_id is '' when the run failed.
CREATE TABLE transformation_executions (
    id                  text COLLATE "C" PRIMARY KEY,
    team_id             text COLLATE "C" NOT NULL,
    transformation_id   text COLLATE "C" NOT NULL,
    connection_id       text COLLATE "C" NOT NULL,
    request_id          text COLLATE "C" NOT NULL,
    log_level           text NOT NULL,
    logs                text NOT NULL,
    original_data_id    text COLLATE "C" NOT NULL,
    transformed_data_id text COLLATE "C" NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX transformation_executions_transformation ON transformation_executions (transformation_id, id);
CREATE INDEX transformation_executions_connection ON transformation_executions (connection_id, id);

-- One row per (connection, content hash): the request that recorded it and
-- the end of its window. Expired rows are pruned as keys are checked.
CREATE TABLE dedup_keys (
    connection_id text COLLATE "C" NOT NULL,
    hash          text COLLATE "C" NOT NULL,
    request_id    text COLLATE "C" NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (connection_id, hash)
);
CREATE INDEX dedup_keys_expires ON dedup_keys (expires_at);

-- The next free delivery slot of each rate-limited destination.
CREATE TABLE rate_slots (
    destination_id text COLLATE "C" PRIMARY KEY,
    next_at        timestamptz NOT NULL
);

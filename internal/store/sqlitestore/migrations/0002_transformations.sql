-- Version 2: transformations and their runs, deduplication keys, and
-- rate-limit slots.

CREATE TABLE transformations (
	id         TEXT NOT NULL PRIMARY KEY,
	team_id    TEXT NOT NULL,
	name       TEXT NOT NULL,
	code       TEXT NOT NULL,
	env        TEXT NOT NULL, -- JSON object
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX transformations_name ON transformations (team_id, name);
CREATE INDEX transformations_team ON transformations (team_id, id);

-- transformed_data_id is '' when the run failed.
CREATE TABLE transformation_executions (
	id                  TEXT NOT NULL PRIMARY KEY,
	team_id             TEXT NOT NULL,
	transformation_id   TEXT NOT NULL,
	connection_id       TEXT NOT NULL,
	request_id          TEXT NOT NULL,
	log_level           TEXT NOT NULL,
	logs                TEXT NOT NULL, -- JSON array of console lines
	original_data_id    TEXT NOT NULL,
	transformed_data_id TEXT NOT NULL,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
);
CREATE INDEX transformation_executions_team ON transformation_executions (team_id, id);
CREATE INDEX transformation_executions_transformation ON transformation_executions (team_id, transformation_id, id);
CREATE INDEX transformation_executions_connection ON transformation_executions (team_id, connection_id, id);

-- One row per (connection, content hash): the request that recorded it and
-- the end of its window. Expired rows are pruned as keys are checked.
CREATE TABLE dedup_keys (
	connection_id TEXT NOT NULL,
	hash          TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	expires_at    INTEGER NOT NULL,
	PRIMARY KEY (connection_id, hash)
);
CREATE INDEX dedup_keys_expires ON dedup_keys (expires_at);

-- The next free delivery slot of each rate-limited destination.
CREATE TABLE rate_slots (
	destination_id TEXT NOT NULL PRIMARY KEY,
	next_at        INTEGER NOT NULL
);

-- Sluice's initial schema. Times are INTEGER unix microseconds (UTC);
-- JSON values are TEXT; ids sort by creation in byte order (BINARY collation).

CREATE TABLE teams (
	id             TEXT NOT NULL PRIMARY KEY,
	name           TEXT NOT NULL,
	signing_secret TEXT NOT NULL,
	is_default     INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_default ON teams (is_default) WHERE is_default = 1;

CREATE TABLE sources (
	id          TEXT NOT NULL PRIMARY KEY,
	team_id     TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT,
	type        TEXT NOT NULL,
	config      TEXT NOT NULL, -- model.SourceConfig as JSON
	disabled_at INTEGER,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX sources_name ON sources (team_id, name);
CREATE INDEX sources_team ON sources (team_id, id);

CREATE TABLE destinations (
	id          TEXT NOT NULL PRIMARY KEY,
	team_id     TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT,
	type        TEXT NOT NULL,
	config      TEXT NOT NULL, -- model.DestinationConfig as JSON
	disabled_at INTEGER,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX destinations_name ON destinations (team_id, name);
CREATE INDEX destinations_team ON destinations (team_id, id);

CREATE TABLE connections (
	id             TEXT NOT NULL PRIMARY KEY,
	team_id        TEXT NOT NULL,
	name           TEXT NOT NULL,
	description    TEXT,
	source_id      TEXT NOT NULL,
	destination_id TEXT NOT NULL,
	rules          TEXT, -- JSON array as given
	disabled_at    INTEGER,
	paused_at      INTEGER,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	FOREIGN KEY (source_id) REFERENCES sources (id) ON DELETE CASCADE,
	FOREIGN KEY (destination_id) REFERENCES destinations (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX connections_name ON connections (team_id, source_id, name) WHERE name <> '';
CREATE INDEX connections_team ON connections (team_id, id);
CREATE INDEX connections_source ON connections (source_id);
CREATE INDEX connections_destination ON connections (destination_id);

-- Payloads (request and event data) live apart from the rows that index
-- them, so that listing never reads bodies.
CREATE TABLE payloads (
	id         TEXT NOT NULL PRIMARY KEY,
	team_id    TEXT NOT NULL,
	method     TEXT NOT NULL,
	path       TEXT NOT NULL,
	query      TEXT NOT NULL,
	headers    TEXT NOT NULL, -- JSON object
	body       BLOB,
	created_at INTEGER NOT NULL
);
CREATE INDEX payloads_created ON payloads (created_at);

CREATE TABLE requests (
	id               TEXT NOT NULL PRIMARY KEY,
	team_id          TEXT NOT NULL,
	source_id        TEXT NOT NULL,
	verified         INTEGER, -- NULL: the source verifies nothing
	rejection_cause  TEXT NOT NULL DEFAULT '',
	data_id          TEXT NOT NULL,
	original_ip      TEXT NOT NULL DEFAULT '',
	events_count     INTEGER NOT NULL DEFAULT 0,
	cli_events_count INTEGER NOT NULL DEFAULT 0,
	ignored_count    INTEGER NOT NULL DEFAULT 0,
	routed_at        INTEGER,
	ingested_at      INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	lease_owner      TEXT,
	lease_until      INTEGER
);
-- The router's queue: accepted requests not yet routed.
CREATE INDEX requests_unrouted ON requests (id) WHERE routed_at IS NULL AND rejection_cause = '';
CREATE INDEX requests_lease_owner ON requests (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX requests_team ON requests (team_id, id);
CREATE INDEX requests_source ON requests (team_id, source_id, id);
CREATE INDEX requests_created ON requests (team_id, created_at);

CREATE TABLE events (
	id              TEXT NOT NULL PRIMARY KEY,
	team_id         TEXT NOT NULL,
	connection_id   TEXT NOT NULL,
	source_id       TEXT NOT NULL,
	destination_id  TEXT NOT NULL,
	request_id      TEXT NOT NULL,
	data_id         TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_attempt_at INTEGER,
	next_attempt_at INTEGER,
	response_status INTEGER,
	error_code      TEXT NOT NULL DEFAULT '',
	successful_at   INTEGER,
	cli_id          TEXT NOT NULL DEFAULT '',
	next_trigger    TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	-- The dispatcher's queue. queue_at is NULL unless the event is pending
	-- (QUEUED or SCHEDULED); then it is the time the event may next be
	-- claimed: when it is due, or when the lease of the worker holding it
	-- expires. An expired lease thus needs no sweeper.
	queue_at        INTEGER,
	lease_owner     TEXT,
	lease_until     INTEGER
);
CREATE INDEX events_queue ON events (queue_at) WHERE queue_at IS NOT NULL;
CREATE INDEX events_lease_owner ON events (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX events_team ON events (team_id, id);
CREATE INDEX events_status ON events (team_id, status, id);
CREATE INDEX events_connection ON events (team_id, connection_id, id);
CREATE INDEX events_source ON events (team_id, source_id, id);
CREATE INDEX events_destination ON events (team_id, destination_id, id);
CREATE INDEX events_request ON events (team_id, request_id, id);
CREATE INDEX events_created ON events (team_id, created_at);

CREATE TABLE attempts (
	id               TEXT NOT NULL PRIMARY KEY,
	team_id          TEXT NOT NULL,
	event_id         TEXT NOT NULL,
	destination_id   TEXT NOT NULL,
	attempt_number   INTEGER NOT NULL,
	trigger          TEXT NOT NULL,
	status           TEXT NOT NULL,
	response_status  INTEGER,
	error_code       TEXT NOT NULL DEFAULT '',
	body             TEXT NOT NULL DEFAULT '',
	requested_url    TEXT NOT NULL DEFAULT '',
	http_method      TEXT NOT NULL DEFAULT '',
	successful_at    INTEGER,
	delivered_at     INTEGER,
	responded_at     INTEGER,
	delivery_latency INTEGER,
	response_latency INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE INDEX attempts_team ON attempts (team_id, id);
CREATE INDEX attempts_event ON attempts (team_id, event_id, id);

CREATE TABLE ignored_events (
	id            TEXT NOT NULL PRIMARY KEY,
	team_id       TEXT NOT NULL,
	connection_id TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	cause         TEXT NOT NULL,
	meta          TEXT, -- JSON
	created_at    INTEGER NOT NULL
);
CREATE INDEX ignored_events_team ON ignored_events (team_id, id);
CREATE INDEX ignored_events_request ON ignored_events (team_id, request_id, id);
CREATE INDEX ignored_events_connection ON ignored_events (team_id, connection_id, id);

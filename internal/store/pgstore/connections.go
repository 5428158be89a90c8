package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const connectionCols = `id, team_id, name, description, source_id, destination_id, rules, disabled_at, paused_at, created_at, updated_at`

func scanConnection(r row) (model.Connection, error) {
	var c model.Connection
	var rules *string
	err := r.Scan(&c.ID, &c.TeamID, &c.Name, &c.Description, &c.SourceID, &c.DestinationID, &rules,
		&c.DisabledAt, &c.PausedAt, &c.CreatedAt, &c.UpdatedAt)
	c.Rules = textRaw(rules)
	return c, err
}

// CreateConnection inserts c; a name taken within its source gives
// store.ErrConflict. Its times are normalized in place to the stored
// precision.
func (s *Store) CreateConnection(ctx context.Context, c *model.Connection) error {
	c.DisabledAt, c.PausedAt = tsp(c.DisabledAt), tsp(c.PausedAt)
	c.CreatedAt, c.UpdatedAt = ts(c.CreatedAt), ts(c.UpdatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO connections (`+connectionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.TeamID, c.Name, c.Description, c.SourceID, c.DestinationID, rawText(c.Rules),
		c.DisabledAt, c.PausedAt, c.CreatedAt, c.UpdatedAt)
	return translate(err, "create connection "+c.ID)
}

// UpdateConnection overwrites Name, Description, Rules, SourceID,
// DestinationID, DisabledAt and UpdatedAt, and reads PausedAt and CreatedAt
// back into c.
func (s *Store) UpdateConnection(ctx context.Context, c *model.Connection) error {
	c.DisabledAt = tsp(c.DisabledAt)
	c.UpdatedAt = ts(c.UpdatedAt)
	err := s.pool.QueryRow(ctx, `UPDATE connections SET name = $3, description = $4, rules = $5,
		source_id = $6, destination_id = $7, disabled_at = $8, updated_at = $9
		WHERE team_id = $1 AND id = $2 RETURNING paused_at, created_at`,
		c.TeamID, c.ID, c.Name, c.Description, rawText(c.Rules), c.SourceID, c.DestinationID,
		c.DisabledAt, c.UpdatedAt).Scan(&c.PausedAt, &c.CreatedAt)
	return translate(err, "update connection "+c.ID)
}

// GetConnection returns the team's connection id.
func (s *Store) GetConnection(ctx context.Context, teamID, id string) (model.Connection, error) {
	return one(ctx, s.pool, scanConnection, "get connection "+id,
		`SELECT `+connectionCols+` FROM connections WHERE team_id = $1 AND id = $2`, teamID, id)
}

// GetConnectionByName returns the connection called name within a source.
func (s *Store) GetConnectionByName(ctx context.Context, teamID, sourceID, name string) (model.Connection, error) {
	return one(ctx, s.pool, scanConnection, "get connection by name "+name,
		`SELECT `+connectionCols+` FROM connections WHERE team_id = $1 AND source_id = $2 AND name = $3`,
		teamID, sourceID, name)
}

func connectionQuery(f store.ConnectionFilter) *query {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("id", f.IDs)
	q.in("name", f.Names)
	q.in("source_id", f.SourceIDs)
	q.in("destination_id", f.DestinationIDs)
	q.set("disabled_at", f.Disabled)
	q.set("paused_at", f.Paused)
	return q
}

// ListConnections returns one page of the connections f selects.
func (s *Store) ListConnections(ctx context.Context, f store.ConnectionFilter) ([]model.Connection, error) {
	q := connectionQuery(f)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanConnection, "list connections",
		`SELECT `+connectionCols+` FROM connections`+q.where()+tail, q.args...)
}

// CountConnections counts the connections f selects, ignoring its page.
func (s *Store) CountConnections(ctx context.Context, f store.ConnectionFilter) (int, error) {
	q := connectionQuery(f)
	return count(ctx, s.pool, "count connections", `SELECT count(*) FROM connections`+q.where(), q.args...)
}

// DeleteConnection deletes the connection; its events remain.
func (s *Store) DeleteConnection(ctx context.Context, teamID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM connections WHERE team_id = $1 AND id = $2`, teamID, id)
	if err != nil {
		return translate(err, "delete connection "+id)
	}
	if tag.RowsAffected() == 0 {
		return translate(pgx.ErrNoRows, "delete connection "+id)
	}
	return nil
}

// PauseConnection sets paused_at (keeping an earlier value, and then
// updated_at too) and moves the connection's QUEUED and SCHEDULED events
// that no unexpired lease holds to HOLD, in one transaction. Leased events
// stay with their worker.
func (s *Store) PauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, error) {
	at = ts(at)
	var c model.Connection
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Updating the row locks it: CompleteRouting reads it FOR SHARE,
		// so events routed concurrently are either seen below or routed
		// after this commits, into HOLD.
		var err error
		c, err = one(ctx, tx, scanConnection, "pause connection "+id,
			`UPDATE connections SET paused_at = COALESCE(paused_at, $3),
				updated_at = CASE WHEN paused_at IS NULL THEN $3 ELSE updated_at END
			WHERE team_id = $1 AND id = $2 RETURNING `+connectionCols, teamID, id, at)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE events SET status = 'HOLD', queue_at = NULL, lease_owner = NULL,
			lease_until = NULL, updated_at = $2
			WHERE connection_id = $1 AND status IN ('QUEUED', 'SCHEDULED')
			AND (lease_until IS NULL OR lease_until <= $2)`, id, at)
		return translate(err, "hold events of connection "+id)
	})
	return c, err
}

// UnpauseConnection clears paused_at (touching updated_at only if it was
// paused) and releases the connection's HOLD events (QUEUED, due at,
// trigger UNPAUSE) in one transaction.
func (s *Store) UnpauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, int, error) {
	at = ts(at)
	var c model.Connection
	var released int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = one(ctx, tx, scanConnection, "unpause connection "+id,
			`UPDATE connections SET paused_at = NULL,
				updated_at = CASE WHEN paused_at IS NULL THEN updated_at ELSE $3 END
			WHERE team_id = $1 AND id = $2 RETURNING `+connectionCols, teamID, id, at)
		if err != nil {
			return err
		}
		// A new statement, so a new snapshot: it sees every HOLD event
		// committed before the update above took the row lock.
		// An event leased for a manual attempt stays out of the queue
		// until its lease ends.
		tag, err := tx.Exec(ctx, `UPDATE events SET status = 'QUEUED', next_attempt_at = $2,
			queue_at = CASE WHEN lease_until > $2 THEN lease_until ELSE $2 END,
			next_trigger = 'UNPAUSE', updated_at = $2
			WHERE connection_id = $1 AND status = 'HOLD'`, id, at)
		if err != nil {
			return translate(err, "release events of connection "+id)
		}
		released = int(tag.RowsAffected())
		return nil
	})
	if released > 0 {
		s.notes.poke(ChannelEvents)
	}
	return c, released, err
}

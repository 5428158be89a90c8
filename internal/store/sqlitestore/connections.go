package sqlitestore

import (
	"context"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const connectionCols = `team_id, id, name, description, source_id, destination_id, rules, disabled_at, paused_at, created_at, updated_at`

func scanConnection(sc scanner) (model.Connection, error) {
	var c model.Connection
	err := sc.Scan(&c.TeamID, &c.ID, &c.Name, nullStringCol{&c.Description}, &c.SourceID, &c.DestinationID,
		rawCol{&c.Rules}, nullTimeCol{&c.DisabledAt}, nullTimeCol{&c.PausedAt}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt})
	return c, err
}

// CreateConnection inserts c. A taken name (per source) gives ErrConflict;
// a missing source or destination gives ErrNotFound.
func (s *Store) CreateConnection(ctx context.Context, c *model.Connection) error {
	return s.write(ctx, "create connection", func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO connections (`+connectionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.TeamID, c.ID, c.Name, c.Description, c.SourceID, c.DestinationID, nullRaw(c.Rules),
			nullMicros(c.DisabledAt), nullMicros(c.PausedAt), micros(c.CreatedAt), micros(c.UpdatedAt))
		return err
	})
}

// UpdateConnection overwrites c's configuration; PausedAt is left alone.
func (s *Store) UpdateConnection(ctx context.Context, c *model.Connection) error {
	return s.write(ctx, "update connection", func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE connections SET name = ?, description = ?, rules = ?, source_id = ?,
			destination_id = ?, disabled_at = ?, updated_at = ? WHERE team_id = ? AND id = ?`,
			c.Name, c.Description, nullRaw(c.Rules), c.SourceID, c.DestinationID, nullMicros(c.DisabledAt),
			micros(c.UpdatedAt), c.TeamID, c.ID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// GetConnection returns a connection by id.
func (s *Store) GetConnection(ctx context.Context, teamID, id string) (model.Connection, error) {
	c, err := scanConnection(s.rdb.QueryRowContext(ctx, `SELECT `+connectionCols+` FROM connections WHERE team_id = ? AND id = ?`, teamID, id))
	if err != nil {
		return model.Connection{}, readErr("get connection "+id, err)
	}
	return c, nil
}

// GetConnectionByName returns a source's connection by name.
func (s *Store) GetConnectionByName(ctx context.Context, teamID, sourceID, name string) (model.Connection, error) {
	c, err := scanConnection(s.rdb.QueryRowContext(ctx, `SELECT `+connectionCols+` FROM connections
		WHERE team_id = ? AND source_id = ? AND name = ?`, teamID, sourceID, name))
	if err != nil {
		return model.Connection{}, readErr("get connection named "+name, err)
	}
	return c, nil
}

func connectionQuery(f store.ConnectionFilter) *query {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "name", f.Names)
	in(q, "source_id", f.SourceIDs)
	in(q, "destination_id", f.DestinationIDs)
	q.isSet("disabled_at", f.Disabled)
	q.isSet("paused_at", f.Paused)
	return q
}

// ListConnections returns one page of connections.
func (s *Store) ListConnections(ctx context.Context, f store.ConnectionFilter) ([]model.Connection, error) {
	text, args := connectionQuery(f).list(connectionCols, "connections", f.Page)
	return list(ctx, s.rdb, "list connections", text, args, scanConnection)
}

// CountConnections counts the connections matching f, ignoring its page.
func (s *Store) CountConnections(ctx context.Context, f store.ConnectionFilter) (int, error) {
	text, args := connectionQuery(f).count("connections")
	return s.count(ctx, "count connections", text, args)
}

// DeleteConnection deletes a connection; its events stay in the log.
func (s *Store) DeleteConnection(ctx context.Context, teamID, id string) error {
	return s.write(ctx, "delete connection "+id, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE team_id = ? AND id = ?`, teamID, id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// PauseConnection pauses a connection and holds its pending events that no
// worker holds a lease on.
func (s *Store) PauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, error) {
	var c model.Connection
	err := s.write(ctx, "pause connection "+id, func(ctx context.Context, tx *wtx) error {
		var err error
		c, err = scanConnection(tx.QueryRowContext(ctx, `UPDATE connections
			SET updated_at = CASE WHEN paused_at IS NULL THEN ? ELSE updated_at END,
			    paused_at = COALESCE(paused_at, ?)
			WHERE team_id = ? AND id = ? RETURNING `+connectionCols, micros(at), micros(at), teamID, id))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET status = ?, queue_at = NULL, lease_owner = NULL,
			lease_until = NULL, updated_at = ?
			WHERE connection_id = ? AND status IN (?, ?) AND team_id = ?
			  AND NOT (lease_owner IS NOT NULL AND lease_until > ?)`,
			model.EventHold, micros(at), id, model.EventQueued, model.EventScheduled, teamID, micros(at))
		return err
	})
	return c, err
}

// UnpauseConnection resumes a connection and queues its held events for
// delivery now.
func (s *Store) UnpauseConnection(ctx context.Context, teamID, id string, at time.Time) (model.Connection, int, error) {
	var (
		c model.Connection
		n int64
	)
	err := s.write(ctx, "unpause connection "+id, func(ctx context.Context, tx *wtx) error {
		var err error
		c, err = scanConnection(tx.QueryRowContext(ctx, `UPDATE connections
			SET updated_at = CASE WHEN paused_at IS NULL THEN updated_at ELSE ? END, paused_at = NULL
			WHERE team_id = ? AND id = ? RETURNING `+connectionCols, micros(at), teamID, id))
		if err != nil {
			return err
		}
		// An event a worker holds for a manual attempt stays out of the
		// queue until that lease ends.
		res, err := tx.ExecContext(ctx, `UPDATE events SET status = ?, next_attempt_at = ?, next_trigger = ?,
			queue_at = CASE WHEN lease_owner IS NOT NULL AND lease_until > ? THEN lease_until ELSE ? END,
			updated_at = ?
			WHERE connection_id = ? AND status = ? AND team_id = ?`,
			model.EventQueued, micros(at), model.TriggerUnpause, micros(at), micros(at), micros(at),
			id, model.EventHold, teamID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return c, int(n), err
}

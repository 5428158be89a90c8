package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const destinationCols = `id, team_id, name, description, type, config, disabled_at, created_at, updated_at`

func scanDestination(r row) (model.Destination, error) {
	var d model.Destination
	err := r.Scan(&d.ID, &d.TeamID, &d.Name, &d.Description, &d.Type, &d.Config, &d.DisabledAt, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// CreateDestination inserts d; a taken name gives store.ErrConflict. Its
// times are normalized in place to the stored precision.
func (s *Store) CreateDestination(ctx context.Context, d *model.Destination) error {
	d.DisabledAt = tsp(d.DisabledAt)
	d.CreatedAt, d.UpdatedAt = ts(d.CreatedAt), ts(d.UpdatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO destinations (`+destinationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		d.ID, d.TeamID, d.Name, d.Description, d.Type, d.Config, d.DisabledAt, d.CreatedAt, d.UpdatedAt)
	return translate(err, "create destination "+d.ID)
}

// UpdateDestination overwrites every field but ID, TeamID and CreatedAt,
// and reads CreatedAt back into d.
func (s *Store) UpdateDestination(ctx context.Context, d *model.Destination) error {
	d.DisabledAt = tsp(d.DisabledAt)
	d.UpdatedAt = ts(d.UpdatedAt)
	err := s.pool.QueryRow(ctx, `UPDATE destinations SET name = $3, description = $4, type = $5, config = $6,
		disabled_at = $7, updated_at = $8 WHERE team_id = $1 AND id = $2 RETURNING created_at`,
		d.TeamID, d.ID, d.Name, d.Description, d.Type, d.Config, d.DisabledAt, d.UpdatedAt).Scan(&d.CreatedAt)
	return translate(err, "update destination "+d.ID)
}

// GetDestination returns the team's destination id.
func (s *Store) GetDestination(ctx context.Context, teamID, id string) (model.Destination, error) {
	return one(ctx, s.pool, scanDestination, "get destination "+id,
		`SELECT `+destinationCols+` FROM destinations WHERE team_id = $1 AND id = $2`, teamID, id)
}

// GetDestinationByName returns the team's destination called name.
func (s *Store) GetDestinationByName(ctx context.Context, teamID, name string) (model.Destination, error) {
	return one(ctx, s.pool, scanDestination, "get destination by name "+name,
		`SELECT `+destinationCols+` FROM destinations WHERE team_id = $1 AND name = $2`, teamID, name)
}

func destinationQuery(f store.DestinationFilter) *query {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("id", f.IDs)
	q.in("name", f.Names)
	q.in("type", f.Types)
	q.set("disabled_at", f.Disabled)
	return q
}

// ListDestinations returns one page of the destinations f selects.
func (s *Store) ListDestinations(ctx context.Context, f store.DestinationFilter) ([]model.Destination, error) {
	q := destinationQuery(f)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanDestination, "list destinations",
		`SELECT `+destinationCols+` FROM destinations`+q.where()+tail, q.args...)
}

// CountDestinations counts the destinations f selects, ignoring its page.
func (s *Store) CountDestinations(ctx context.Context, f store.DestinationFilter) (int, error) {
	q := destinationQuery(f)
	return count(ctx, s.pool, "count destinations", `SELECT count(*) FROM destinations`+q.where(), q.args...)
}

// DeleteDestination deletes the destination and its connections in one
// transaction.
func (s *Store) DeleteDestination(ctx context.Context, teamID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM destinations WHERE team_id = $1 AND id = $2`, teamID, id)
		if err != nil {
			return translate(err, "delete destination "+id)
		}
		if tag.RowsAffected() == 0 {
			return translate(pgx.ErrNoRows, "delete destination "+id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM connections WHERE team_id = $1 AND destination_id = $2`, teamID, id)
		return translate(err, "delete connections of destination "+id)
	})
}

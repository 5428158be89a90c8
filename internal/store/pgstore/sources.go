package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const sourceCols = `id, team_id, name, description, type, config, disabled_at, created_at, updated_at`

func scanSource(r row) (model.Source, error) {
	var s model.Source
	err := r.Scan(&s.ID, &s.TeamID, &s.Name, &s.Description, &s.Type, &s.Config, &s.DisabledAt, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// CreateSource inserts src; a taken name gives store.ErrConflict. Its times
// are normalized in place to the stored precision.
func (s *Store) CreateSource(ctx context.Context, src *model.Source) error {
	src.DisabledAt = tsp(src.DisabledAt)
	src.CreatedAt, src.UpdatedAt = ts(src.CreatedAt), ts(src.UpdatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		src.ID, src.TeamID, src.Name, src.Description, src.Type, src.Config, src.DisabledAt, src.CreatedAt, src.UpdatedAt)
	return translate(err, "create source "+src.ID)
}

// UpdateSource overwrites every field but ID, TeamID and CreatedAt, and
// reads CreatedAt back into src.
func (s *Store) UpdateSource(ctx context.Context, src *model.Source) error {
	src.DisabledAt = tsp(src.DisabledAt)
	src.UpdatedAt = ts(src.UpdatedAt)
	err := s.pool.QueryRow(ctx, `UPDATE sources SET name = $3, description = $4, type = $5, config = $6,
		disabled_at = $7, updated_at = $8 WHERE team_id = $1 AND id = $2 RETURNING created_at`,
		src.TeamID, src.ID, src.Name, src.Description, src.Type, src.Config, src.DisabledAt, src.UpdatedAt).Scan(&src.CreatedAt)
	return translate(err, "update source "+src.ID)
}

// GetSource returns the team's source id.
func (s *Store) GetSource(ctx context.Context, teamID, id string) (model.Source, error) {
	return one(ctx, s.pool, scanSource, "get source "+id,
		`SELECT `+sourceCols+` FROM sources WHERE team_id = $1 AND id = $2`, teamID, id)
}

// GetSourceByName returns the team's source called name.
func (s *Store) GetSourceByName(ctx context.Context, teamID, name string) (model.Source, error) {
	return one(ctx, s.pool, scanSource, "get source by name "+name,
		`SELECT `+sourceCols+` FROM sources WHERE team_id = $1 AND name = $2`, teamID, name)
}

func sourceQuery(f store.SourceFilter) *query {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("id", f.IDs)
	q.in("name", f.Names)
	q.set("disabled_at", f.Disabled)
	return q
}

// ListSources returns one page of the sources f selects.
func (s *Store) ListSources(ctx context.Context, f store.SourceFilter) ([]model.Source, error) {
	q := sourceQuery(f)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanSource, "list sources", `SELECT `+sourceCols+` FROM sources`+q.where()+tail, q.args...)
}

// CountSources counts the sources f selects, ignoring its page.
func (s *Store) CountSources(ctx context.Context, f store.SourceFilter) (int, error) {
	q := sourceQuery(f)
	return count(ctx, s.pool, "count sources", `SELECT count(*) FROM sources`+q.where(), q.args...)
}

// DeleteSource deletes the source and its connections in one transaction.
func (s *Store) DeleteSource(ctx context.Context, teamID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sources WHERE team_id = $1 AND id = $2`, teamID, id)
		if err != nil {
			return translate(err, "delete source "+id)
		}
		if tag.RowsAffected() == 0 {
			return translate(pgx.ErrNoRows, "delete source "+id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM connections WHERE team_id = $1 AND source_id = $2`, teamID, id)
		return translate(err, "delete connections of source "+id)
	})
}

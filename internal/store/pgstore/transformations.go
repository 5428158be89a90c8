package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const transformationCols = `id, team_id, name, code, env, created_at, updated_at`

func scanTransformation(r row) (model.Transformation, error) {
	var tr model.Transformation
	var env string
	if err := r.Scan(&tr.ID, &tr.TeamID, &tr.Name, &tr.Code, &env, &tr.CreatedAt, &tr.UpdatedAt); err != nil {
		return tr, err
	}
	if err := json.Unmarshal([]byte(env), &tr.Env); err != nil {
		return tr, fmt.Errorf("decode env of transformation %s: %w", tr.ID, err)
	}
	return tr, nil
}

// envText encodes a transformation's env as JSON text.
func envText(env map[string]string) (string, error) {
	b, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("encode env: %w", err)
	}
	return string(b), nil
}

// CreateTransformation inserts t; a name taken in its team gives
// store.ErrConflict. Its times are normalized in place to the stored
// precision.
func (s *Store) CreateTransformation(ctx context.Context, t *model.Transformation) error {
	env, err := envText(t.Env)
	if err != nil {
		return fmt.Errorf("pgstore: create transformation %s: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = ts(t.CreatedAt), ts(t.UpdatedAt)
	_, err = s.pool.Exec(ctx, `INSERT INTO transformations (`+transformationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.TeamID, t.Name, t.Code, env, t.CreatedAt, t.UpdatedAt)
	return translate(err, "create transformation "+t.ID)
}

// UpdateTransformation overwrites Name, Code, Env and UpdatedAt, and reads
// CreatedAt back into t.
func (s *Store) UpdateTransformation(ctx context.Context, t *model.Transformation) error {
	env, err := envText(t.Env)
	if err != nil {
		return fmt.Errorf("pgstore: update transformation %s: %w", t.ID, err)
	}
	t.UpdatedAt = ts(t.UpdatedAt)
	err = s.pool.QueryRow(ctx, `UPDATE transformations SET name = $3, code = $4, env = $5, updated_at = $6
		WHERE team_id = $1 AND id = $2 RETURNING created_at`,
		t.TeamID, t.ID, t.Name, t.Code, env, t.UpdatedAt).Scan(&t.CreatedAt)
	return translate(err, "update transformation "+t.ID)
}

// GetTransformation returns the team's transformation id.
func (s *Store) GetTransformation(ctx context.Context, teamID, id string) (model.Transformation, error) {
	return one(ctx, s.pool, scanTransformation, "get transformation "+id,
		`SELECT `+transformationCols+` FROM transformations WHERE team_id = $1 AND id = $2`, teamID, id)
}

// GetTransformationByName returns the team's transformation called name.
func (s *Store) GetTransformationByName(ctx context.Context, teamID, name string) (model.Transformation, error) {
	return one(ctx, s.pool, scanTransformation, "get transformation by name "+name,
		`SELECT `+transformationCols+` FROM transformations WHERE team_id = $1 AND name = $2`, teamID, name)
}

func transformationQuery(f store.TransformationFilter) *query {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.in("id", f.IDs)
	q.in("name", f.Names)
	return q
}

// ListTransformations returns one page of the transformations f selects.
func (s *Store) ListTransformations(ctx context.Context, f store.TransformationFilter) ([]model.Transformation, error) {
	q := transformationQuery(f)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanTransformation, "list transformations",
		`SELECT `+transformationCols+` FROM transformations`+q.where()+tail, q.args...)
}

// CountTransformations counts the transformations f selects, ignoring its
// page.
func (s *Store) CountTransformations(ctx context.Context, f store.TransformationFilter) (int, error) {
	q := transformationQuery(f)
	return count(ctx, s.pool, "count transformations", `SELECT count(*) FROM transformations`+q.where(), q.args...)
}

// DeleteTransformation deletes the team's transformation id. Its
// executions stay, as the log of what ran.
func (s *Store) DeleteTransformation(ctx context.Context, teamID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM transformations WHERE team_id = $1 AND id = $2`, teamID, id)
	if err != nil {
		return translate(err, "delete transformation "+id)
	}
	if tag.RowsAffected() == 0 {
		return translate(pgx.ErrNoRows, "delete transformation "+id)
	}
	return nil
}

// Execution columns (unaliased).
const executionCols = `id, team_id, transformation_id, connection_id, request_id, log_level, logs,
	original_data_id, transformed_data_id, created_at, updated_at`

func scanExecution(r row) (model.TransformationExecution, error) {
	var x model.TransformationExecution
	var logs string
	err := r.Scan(&x.ID, &x.TeamID, &x.TransformationID, &x.ConnectionID, &x.RequestID, &x.LogLevel, &logs,
		&x.OriginalDataID, &x.TransformedDataID, &x.CreatedAt, &x.UpdatedAt)
	if err != nil {
		return x, err
	}
	if err := json.Unmarshal([]byte(logs), &x.Logs); err != nil {
		return x, fmt.Errorf("decode logs of execution %s: %w", x.ID, err)
	}
	return x, nil
}

// queueExecution adds the insert of one execution to b.
func queueExecution(b *pgx.Batch, x *model.TransformationExecution) error {
	logs, err := json.Marshal(x.Logs)
	if err != nil {
		return fmt.Errorf("encode logs of execution %s: %w", x.ID, err)
	}
	b.Queue(`INSERT INTO transformation_executions (`+executionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		x.ID, x.TeamID, x.TransformationID, x.ConnectionID, x.RequestID, x.LogLevel, string(logs),
		x.OriginalDataID, x.TransformedDataID, ts(x.CreatedAt), ts(x.UpdatedAt))
	return nil
}

// GetTransformationExecution returns the team's execution id.
func (s *Store) GetTransformationExecution(ctx context.Context, teamID, id string) (model.TransformationExecution, error) {
	return one(ctx, s.pool, scanExecution, "get transformation execution "+id,
		`SELECT `+executionCols+` FROM transformation_executions WHERE team_id = $1 AND id = $2`, teamID, id)
}

// ListTransformationExecutions returns one page of the executions f
// selects.
func (s *Store) ListTransformationExecutions(ctx context.Context, f store.ExecutionFilter) ([]model.TransformationExecution, error) {
	q := &query{}
	q.eq("team_id", f.TeamID)
	q.eq("transformation_id", f.TransformationID)
	q.in("connection_id", f.ConnectionIDs)
	q.in("log_level", f.LogLevels)
	q.timeRange("created_at", f.CreatedAt)
	tail := q.page("id", f.Page)
	return many(ctx, s.pool, scanExecution, "list transformation executions",
		`SELECT `+executionCols+` FROM transformation_executions`+q.where()+tail, q.args...)
}

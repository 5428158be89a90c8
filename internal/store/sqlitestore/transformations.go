package sqlitestore

import (
	"context"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const transformationCols = `team_id, id, name, code, env, created_at, updated_at`

func scanTransformation(sc scanner) (model.Transformation, error) {
	var tr model.Transformation
	err := sc.Scan(&tr.TeamID, &tr.ID, &tr.Name, &tr.Code, jsonCol{&tr.Env}, timeCol{&tr.CreatedAt}, timeCol{&tr.UpdatedAt})
	return tr, err
}

// envText encodes a transformation's env as a JSON object.
func envText(env map[string]string) (string, error) {
	if env == nil {
		return "{}", nil
	}
	return jsonText(env)
}

// CreateTransformation inserts t; a name taken in its team gives
// ErrConflict.
func (s *Store) CreateTransformation(ctx context.Context, t *model.Transformation) error {
	env, err := envText(t.Env)
	if err != nil {
		return err
	}
	return s.write(ctx, "create transformation", func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO transformations (`+transformationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.TeamID, t.ID, t.Name, t.Code, env, micros(t.CreatedAt), micros(t.UpdatedAt))
		return err
	})
}

// UpdateTransformation overwrites Name, Code, Env and UpdatedAt.
func (s *Store) UpdateTransformation(ctx context.Context, t *model.Transformation) error {
	env, err := envText(t.Env)
	if err != nil {
		return err
	}
	return s.write(ctx, "update transformation", func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE transformations SET name = ?, code = ?, env = ?, updated_at = ?
			WHERE id = ? AND team_id = ?`, t.Name, t.Code, env, micros(t.UpdatedAt), t.ID, t.TeamID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// GetTransformation returns a transformation by id.
func (s *Store) GetTransformation(ctx context.Context, teamID, id string) (model.Transformation, error) {
	tr, err := scanTransformation(s.rdb.QueryRowContext(ctx, `SELECT `+transformationCols+` FROM transformations
		WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return model.Transformation{}, readErr("get transformation "+id, err)
	}
	return tr, nil
}

// GetTransformationByName returns a transformation by name.
func (s *Store) GetTransformationByName(ctx context.Context, teamID, name string) (model.Transformation, error) {
	tr, err := scanTransformation(s.rdb.QueryRowContext(ctx, `SELECT `+transformationCols+` FROM transformations
		WHERE team_id = ? AND name = ?`, teamID, name))
	if err != nil {
		return model.Transformation{}, readErr("get transformation named "+name, err)
	}
	return tr, nil
}

func transformationQuery(f store.TransformationFilter) *query {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "name", f.Names)
	return q
}

// ListTransformations returns one page of transformations.
func (s *Store) ListTransformations(ctx context.Context, f store.TransformationFilter) ([]model.Transformation, error) {
	text, args := transformationQuery(f).list(transformationCols, "transformations", f.Page)
	return list(ctx, s.rdb, "list transformations", text, args, scanTransformation)
}

// CountTransformations counts the transformations matching f, ignoring
// its page.
func (s *Store) CountTransformations(ctx context.Context, f store.TransformationFilter) (int, error) {
	text, args := transformationQuery(f).count("transformations")
	return s.count(ctx, "count transformations", text, args)
}

// DeleteTransformation deletes a transformation; its runs stay in the log.
func (s *Store) DeleteTransformation(ctx context.Context, teamID, id string) error {
	return s.write(ctx, "delete transformation "+id, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM transformations WHERE id = ? AND team_id = ?`, id, teamID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

const executionCols = `team_id, id, transformation_id, connection_id, request_id, log_level, logs,
	original_data_id, transformed_data_id, created_at, updated_at`

func scanExecution(sc scanner) (model.TransformationExecution, error) {
	var x model.TransformationExecution
	err := sc.Scan(&x.TeamID, &x.ID, &x.TransformationID, &x.ConnectionID, &x.RequestID, &x.LogLevel,
		jsonCol{&x.Logs}, &x.OriginalDataID, &x.TransformedDataID, timeCol{&x.CreatedAt}, timeCol{&x.UpdatedAt})
	return x, err
}

// insertExecution stores one transformation run (part of a routing outcome).
func insertExecution(ctx context.Context, tx *wtx, x *model.TransformationExecution) error {
	logs := "[]"
	if len(x.Logs) > 0 {
		l, err := jsonText(x.Logs)
		if err != nil {
			return err
		}
		logs = l
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO transformation_executions (`+executionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.TeamID, x.ID, x.TransformationID, x.ConnectionID, x.RequestID, x.LogLevel, logs,
		x.OriginalDataID, x.TransformedDataID, micros(x.CreatedAt), micros(x.UpdatedAt))
	return err
}

// GetTransformationExecution returns a transformation run by id.
func (s *Store) GetTransformationExecution(ctx context.Context, teamID, id string) (model.TransformationExecution, error) {
	x, err := scanExecution(s.rdb.QueryRowContext(ctx, `SELECT `+executionCols+` FROM transformation_executions
		WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return model.TransformationExecution{}, readErr("get transformation execution "+id, err)
	}
	return x, nil
}

// ListTransformationExecutions returns one page of transformation runs.
func (s *Store) ListTransformationExecutions(ctx context.Context, f store.ExecutionFilter) ([]model.TransformationExecution, error) {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	q.eq("transformation_id", f.TransformationID)
	in(q, "connection_id", f.ConnectionIDs)
	in(q, "log_level", f.LogLevels)
	q.timeRange("created_at", f.CreatedAt)
	text, args := q.list(executionCols, "transformation_executions", f.Page)
	return list(ctx, s.rdb, "list transformation executions", text, args, scanExecution)
}

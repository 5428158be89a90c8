package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect scans every row.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// list runs a page query and scans its rows.
func list[T any](ctx context.Context, db queryer, what, sqlText string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, readErr(what, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, readErr(what, err)
	}
	return out, nil
}

func (s *Store) count(ctx context.Context, what, sqlText string, args []any) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, sqlText, args...).Scan(&n); err != nil {
		return 0, readErr(what, err)
	}
	return n, nil
}

const defaultTeamName = "Default"

// EnsureDefaultTeam returns the default team, creating it on first use.
func (s *Store) EnsureDefaultTeam(ctx context.Context) (model.Team, error) {
	const q = `SELECT id, name, signing_secret, created_at FROM teams WHERE is_default = 1`
	scan := func(sc scanner) (model.Team, error) {
		var t model.Team
		err := sc.Scan(&t.ID, &t.Name, &t.SigningSecret, timeCol{&t.CreatedAt})
		return t, err
	}
	t, err := scan(s.rdb.QueryRowContext(ctx, q))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return model.Team{}, readErr("get default team", err)
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return model.Team{}, err
	}
	fresh := model.Team{
		ID: model.NewID(model.PrefixTeam), Name: defaultTeamName,
		SigningSecret: hex.EncodeToString(secret), CreatedAt: nowUTC(),
	}
	err = s.write(ctx, "create default team", func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO teams (id, name, signing_secret, is_default, created_at)
			VALUES (?, ?, ?, 1, ?)`, fresh.ID, fresh.Name, fresh.SigningSecret, micros(fresh.CreatedAt)); err != nil {
			return err
		}
		t, err = scan(tx.QueryRowContext(ctx, q))
		return err
	})
	if err != nil {
		return model.Team{}, err
	}
	return t, nil
}

// Sources.

const sourceCols = `team_id, id, name, description, type, config, disabled_at, created_at, updated_at`

func scanSource(sc scanner) (model.Source, error) {
	var s model.Source
	err := sc.Scan(&s.TeamID, &s.ID, &s.Name, nullStringCol{&s.Description}, &s.Type, jsonCol{&s.Config},
		nullTimeCol{&s.DisabledAt}, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt})
	return s, err
}

// CreateSource inserts s; a taken name gives ErrConflict.
func (s *Store) CreateSource(ctx context.Context, src *model.Source) error {
	cfg, err := jsonText(src.Config)
	if err != nil {
		return err
	}
	return s.write(ctx, "create source", func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			src.TeamID, src.ID, src.Name, src.Description, src.Type, cfg,
			nullMicros(src.DisabledAt), micros(src.CreatedAt), micros(src.UpdatedAt))
		return err
	})
}

// UpdateSource overwrites every field of src but ID, TeamID and CreatedAt.
func (s *Store) UpdateSource(ctx context.Context, src *model.Source) error {
	cfg, err := jsonText(src.Config)
	if err != nil {
		return err
	}
	return s.write(ctx, "update source", func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, description = ?, type = ?, config = ?,
			disabled_at = ?, updated_at = ? WHERE team_id = ? AND id = ?`,
			src.Name, src.Description, src.Type, cfg, nullMicros(src.DisabledAt), micros(src.UpdatedAt), src.TeamID, src.ID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// GetSource returns a source by id.
func (s *Store) GetSource(ctx context.Context, teamID, id string) (model.Source, error) {
	src, err := scanSource(s.rdb.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE team_id = ? AND id = ?`, teamID, id))
	if err != nil {
		return model.Source{}, readErr("get source "+id, err)
	}
	return src, nil
}

// GetSourceByName returns a source by name.
func (s *Store) GetSourceByName(ctx context.Context, teamID, name string) (model.Source, error) {
	src, err := scanSource(s.rdb.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE team_id = ? AND name = ?`, teamID, name))
	if err != nil {
		return model.Source{}, readErr("get source named "+name, err)
	}
	return src, nil
}

func sourceQuery(f store.SourceFilter) *query {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "name", f.Names)
	q.isSet("disabled_at", f.Disabled)
	return q
}

// ListSources returns one page of sources.
func (s *Store) ListSources(ctx context.Context, f store.SourceFilter) ([]model.Source, error) {
	text, args := sourceQuery(f).list(sourceCols, "sources", f.Page)
	return list(ctx, s.rdb, "list sources", text, args, scanSource)
}

// CountSources counts the sources matching f, ignoring its page.
func (s *Store) CountSources(ctx context.Context, f store.SourceFilter) (int, error) {
	text, args := sourceQuery(f).count("sources")
	return s.count(ctx, "count sources", text, args)
}

// DeleteSource deletes a source and (by foreign key) its connections.
func (s *Store) DeleteSource(ctx context.Context, teamID, id string) error {
	return s.write(ctx, "delete source "+id, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE team_id = ? AND id = ?`, teamID, id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// Destinations.

const destinationCols = `team_id, id, name, description, type, config, disabled_at, created_at, updated_at`

func scanDestination(sc scanner) (model.Destination, error) {
	var d model.Destination
	err := sc.Scan(&d.TeamID, &d.ID, &d.Name, nullStringCol{&d.Description}, &d.Type, jsonCol{&d.Config},
		nullTimeCol{&d.DisabledAt}, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	return d, err
}

// CreateDestination inserts d; a taken name gives ErrConflict.
func (s *Store) CreateDestination(ctx context.Context, d *model.Destination) error {
	cfg, err := jsonText(d.Config)
	if err != nil {
		return err
	}
	return s.write(ctx, "create destination", func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO destinations (`+destinationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.TeamID, d.ID, d.Name, d.Description, d.Type, cfg,
			nullMicros(d.DisabledAt), micros(d.CreatedAt), micros(d.UpdatedAt))
		return err
	})
}

// UpdateDestination overwrites every field of d but ID, TeamID and CreatedAt.
func (s *Store) UpdateDestination(ctx context.Context, d *model.Destination) error {
	cfg, err := jsonText(d.Config)
	if err != nil {
		return err
	}
	return s.write(ctx, "update destination", func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE destinations SET name = ?, description = ?, type = ?, config = ?,
			disabled_at = ?, updated_at = ? WHERE team_id = ? AND id = ?`,
			d.Name, d.Description, d.Type, cfg, nullMicros(d.DisabledAt), micros(d.UpdatedAt), d.TeamID, d.ID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

// GetDestination returns a destination by id.
func (s *Store) GetDestination(ctx context.Context, teamID, id string) (model.Destination, error) {
	d, err := scanDestination(s.rdb.QueryRowContext(ctx, `SELECT `+destinationCols+` FROM destinations WHERE team_id = ? AND id = ?`, teamID, id))
	if err != nil {
		return model.Destination{}, readErr("get destination "+id, err)
	}
	return d, nil
}

// GetDestinationByName returns a destination by name.
func (s *Store) GetDestinationByName(ctx context.Context, teamID, name string) (model.Destination, error) {
	d, err := scanDestination(s.rdb.QueryRowContext(ctx, `SELECT `+destinationCols+` FROM destinations WHERE team_id = ? AND name = ?`, teamID, name))
	if err != nil {
		return model.Destination{}, readErr("get destination named "+name, err)
	}
	return d, nil
}

func destinationQuery(f store.DestinationFilter) *query {
	q := &query{}
	q.add("team_id = ?", f.TeamID)
	in(q, "id", f.IDs)
	in(q, "name", f.Names)
	in(q, "type", f.Types)
	q.isSet("disabled_at", f.Disabled)
	return q
}

// ListDestinations returns one page of destinations.
func (s *Store) ListDestinations(ctx context.Context, f store.DestinationFilter) ([]model.Destination, error) {
	text, args := destinationQuery(f).list(destinationCols, "destinations", f.Page)
	return list(ctx, s.rdb, "list destinations", text, args, scanDestination)
}

// CountDestinations counts the destinations matching f, ignoring its page.
func (s *Store) CountDestinations(ctx context.Context, f store.DestinationFilter) (int, error) {
	text, args := destinationQuery(f).count("destinations")
	return s.count(ctx, "count destinations", text, args)
}

// DeleteDestination deletes a destination and (by foreign key) its
// connections.
func (s *Store) DeleteDestination(ctx context.Context, teamID, id string) error {
	return s.write(ctx, "delete destination "+id, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM destinations WHERE team_id = ? AND id = ?`, teamID, id)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
}

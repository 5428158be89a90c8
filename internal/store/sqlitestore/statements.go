package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// The hot inserts, prepared once on the writer connection: compiling SQL
// costs the single writer more than running it.
var (
	sqlInsertPayload = `INSERT INTO payloads (id, team_id, method, path, query, headers, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertRequest = `INSERT INTO requests (` + requestCols + `) VALUES (` + marks(14) + `)`
	sqlInsertEvent   = `INSERT INTO events (` + eventCols + `, queue_at) VALUES (` + marks(19) + `)`
	sqlInsertAttempt = `INSERT INTO attempts (` + attemptCols + `) VALUES (` + marks(19) + `)`
)

func marks(n int) string { return strings.Repeat(",?", n)[1:] }

// prepare compiles the hot statements. It must run before the committer
// starts: the writer pool has one connection, which a transaction holds.
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlInsertPayload, sqlInsertRequest, sqlInsertEvent, sqlInsertAttempt} {
		st, err := s.wdb.PrepareContext(ctx, q)
		if err != nil {
			return errors.Join(err, s.closeStmts())
		}
		s.stmts[q] = st
	}
	return nil
}

func (s *Store) closeStmts() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// exec runs q in tx, through its prepared statement when it has one.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// Compiling SQL costs the single writer more than running it: a profile of
// the gateway under load spent a quarter of the writer's time in SQLite's
// parser. So every statement the writer runs is prepared once, on the
// writer connection, and reused by later transactions (see wtx). A
// statement seen for the first time runs unprepared and is queued; the
// committer prepares the queue before it begins the next transaction,
// while the connection is idle.

// The statements on every webhook's path.
var (
	sqlInsertPayload = `INSERT INTO payloads (id, team_id, method, path, query, headers, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertRequest = `INSERT INTO requests (` + requestCols + `) VALUES (` + marks(14) + `)`
	// sqlInsertEvent stores an event as given (?8 its status, ?19 its due
	// time), or in HOLD (?20) out of the queue if its connection is paused.
	sqlInsertEvent = `INSERT INTO events (` + eventCols + `, queue_at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN p.paused THEN ?20 ELSE ?8 END, ?9, ?10, ?11, ?12, ?13,
			?14, ?15, ?16, ?17, ?18, CASE WHEN p.paused THEN NULL ELSE ?19 END
		FROM (SELECT EXISTS (SELECT 1 FROM connections WHERE id = ?3 AND paused_at IS NOT NULL) AS paused) AS p`
	sqlInsertAttempt   = `INSERT INTO attempts (` + attemptCols + `) VALUES (` + marks(19) + `)`
	sqlSourceConnected = `SELECT EXISTS (SELECT 1 FROM connections WHERE source_id = ?)`
)

func marks(n int) string { return strings.Repeat(",?", n)[1:] }

// maxPrepared bounds the statements kept prepared. Statements whose text
// varies (IN lists of different lengths) each take an entry; past the
// bound, new texts simply run unprepared.
const maxPrepared = 1024

// preparedSet holds prepared statements by SQL text, up to maxPrepared.
// A nil statement marks a text that runs unprepared (queued, or failed to
// prepare).
type preparedSet struct {
	mu       sync.Mutex
	prepared map[string]*sql.Stmt
}

// lookup returns q's statement and whether q has an entry.
func (p *preparedSet) lookup(q string) (*sql.Stmt, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.prepared[q]
	return st, ok
}

// store records st for q, unless q already has a statement (prepared
// meanwhile by another caller) or the set is full, and returns the
// statement to use (nil: run unprepared). A st not kept is closed.
func (p *preparedSet) store(q string, st *sql.Stmt) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, ok := p.prepared[q]
	if prev != nil || (!ok && len(p.prepared) >= maxPrepared) {
		if st != nil {
			_ = st.Close()
		}
		return prev
	}
	if p.prepared == nil {
		p.prepared = map[string]*sql.Stmt{}
	}
	p.prepared[q] = st
	return st
}

// reserve records q as running unprepared for now, if it has no entry and
// the set is not full, and reports whether it did.
func (p *preparedSet) reserve(q string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.prepared[q]; ok || len(p.prepared) >= maxPrepared {
		return false
	}
	if p.prepared == nil {
		p.prepared = map[string]*sql.Stmt{}
	}
	p.prepared[q] = nil
	return true
}

// close closes every prepared statement.
func (p *preparedSet) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for q, st := range p.prepared {
		if st != nil {
			errs = append(errs, st.Close())
		}
		delete(p.prepared, q)
	}
	return errors.Join(errs...)
}

// stmtCache holds the writer connection's prepared statements. A text
// seen for the first time is queued (recorded as nil) and prepared by
// prepareQueued between transactions.
type stmtCache struct {
	preparedSet
	qmu    sync.Mutex
	queued []string
}

func newStmtCache() *stmtCache { return &stmtCache{} }

// get returns q's prepared statement, or nil after queueing q to be
// prepared.
func (c *stmtCache) get(q string) *sql.Stmt {
	if st, ok := c.lookup(q); ok {
		return st
	}
	if c.reserve(q) {
		c.qmu.Lock()
		c.queued = append(c.queued, q)
		c.qmu.Unlock()
	}
	return nil
}

// prepareQueued prepares the queued statements on db, whose only
// connection must be idle.
func (c *stmtCache) prepareQueued(ctx context.Context, db *sql.DB) {
	c.qmu.Lock()
	queued := c.queued
	c.queued = nil
	c.qmu.Unlock()
	for _, q := range queued {
		if st, err := db.PrepareContext(ctx, q); err == nil {
			c.store(q, st)
		}
	}
}

// wtx is a writer transaction as the group committer drives it. Its
// ExecContext, QueryContext and QueryRowContext run each statement through
// its prepared form once it has one.
type wtx struct {
	tx    *sql.Tx
	stmts *stmtCache
	// committed, if set, is called after a successful commit.
	committed func()
}

// Commit commits the transaction.
func (t *wtx) Commit(context.Context) error {
	if err := t.tx.Commit(); err != nil {
		return err
	}
	if t.committed != nil {
		t.committed()
	}
	return nil
}

// Rollback abandons the transaction.
func (t *wtx) Rollback(context.Context) error { return t.tx.Rollback() }

// ExecContext runs a statement that returns no rows.
func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// QueryContext runs a statement that returns rows.
func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a statement that returns at most one row.
func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// readPool is the read-only connection pool; its queries run through
// statements prepared once per SQL text (database/sql prepares each on a
// connection the first time it runs there).
type readPool struct {
	*sql.DB
	preparedSet
}

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db}
}

// stmt returns q's prepared statement, preparing it the first time; nil
// when it cannot be prepared or too many are.
func (p *readPool) stmt(ctx context.Context, q string) *sql.Stmt {
	if st, ok := p.lookup(q); ok {
		return st
	}
	st, err := p.DB.PrepareContext(ctx, q)
	if err != nil {
		st = nil
	}
	return p.store(q, st)
}

// QueryContext runs a query that returns rows.
func (p *readPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (p *readPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, q, args...)
}

// Close closes the prepared statements and the pool.
func (p *readPool) Close() error {
	return errors.Join(p.preparedSet.close(), p.DB.Close())
}

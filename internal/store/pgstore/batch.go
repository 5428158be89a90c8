package pgstore

import (
	"context"

	"github.com/sluice-gw/sluice/internal/store/groupcommit"
)

// batchTx adapts a group of calls to groupcommit.Tx for writes that send
// a whole group at once (ingest, attempt records): each call only adds its
// row, and Commit hands every row to write, which sends them and sets each
// row's own outcome — so Commit itself never fails, and one bad row cannot
// fail its neighbours. Nothing is sent before Commit, so Rollback only
// drops the rows.
type batchTx[R any] struct {
	rows  []R
	write func(ctx context.Context, rows []R)
}

// newBatchCommitter starts a group committer whose transactions are
// batchTx groups written by write.
func newBatchCommitter[R any](write func(ctx context.Context, rows []R), cfg groupcommit.Config) *groupcommit.Committer[*batchTx[R]] {
	return groupcommit.New(func(context.Context) (*batchTx[R], error) { return &batchTx[R]{write: write}, nil }, cfg)
}

// add collects row; a row may be added twice (groupcommit reruns a failed
// group one by one) and is then simply sent again.
func (t *batchTx[R]) add(row R) error {
	t.rows = append(t.rows, row)
	return nil
}

// Rollback drops the collected rows; nothing was sent yet.
func (t *batchTx[R]) Rollback(context.Context) error {
	t.rows = nil
	return nil
}

// Commit writes the collected rows; their outcomes are per row.
func (t *batchTx[R]) Commit(ctx context.Context) error {
	t.write(ctx, t.rows)
	return nil
}

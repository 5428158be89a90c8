package pgstore

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-gw/sluice/internal/store"
)

// dedupPrune caps the expired keys one CheckDedup call deletes, so that
// pruning keeps pace with recording without ever growing a call's work.
const dedupPrune = 64

// recordDedupSQL records a key unless a different request holds it inside
// its window; it returns a row exactly when the key was (re)recorded. The
// row lock of ON CONFLICT makes concurrent recorders of one key take turns,
// each seeing the previous one's commit.
const recordDedupSQL = `INSERT INTO dedup_keys AS k (connection_id, hash, request_id, expires_at)
	VALUES ($1, $2, $3, $4)
	ON CONFLICT (connection_id, hash) DO UPDATE SET request_id = excluded.request_id, expires_at = excluded.expires_at
	WHERE k.expires_at <= $5 OR k.request_id = excluded.request_id
	RETURNING true`

// CheckDedup records the keys and reports which duplicate a key another
// request recorded inside its window, in one transaction. Keys are written
// in (connection, hash) order, so that concurrent calls lock rows in the
// same order and cannot deadlock; equal keys keep their order in the call,
// which is all that "considered in order" can observe. The call then
// deletes a few expired keys that nobody is using.
func (s *Store) CheckDedup(ctx context.Context, keys []store.DedupKey, now time.Time) ([]bool, error) {
	dup := make([]bool, len(keys))
	if len(keys) == 0 {
		return dup, nil
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(keys[a].ConnectionID, keys[b].ConnectionID), cmp.Compare(keys[a].Hash, keys[b].Hash))
	})
	now = ts(now)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, i := range order {
			k := keys[i]
			b.Queue(recordDedupSQL, k.ConnectionID, k.Hash, k.RequestID, ts(k.ExpiresAt), now)
		}
		b.Queue(`DELETE FROM dedup_keys WHERE (connection_id, hash) IN (
			SELECT connection_id, hash FROM dedup_keys WHERE expires_at <= $1
			ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, now, dedupPrune)
		br := tx.SendBatch(ctx, b)
		for _, i := range order {
			var recorded bool
			err := br.QueryRow().Scan(&recorded)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				dup[i] = true
			case err != nil:
				_ = br.Close()
				return translate(err, "record dedup key")
			}
		}
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return translate(err, "prune dedup keys")
		}
		return translate(br.Close(), "check dedup keys")
	})
	if err != nil {
		return nil, err
	}
	return dup, nil
}

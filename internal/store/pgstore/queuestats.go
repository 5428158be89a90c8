package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// QueueStats counts the undelivered events of every destination. The
// status condition matches the partial index events_connection_pending, so
// only pending rows are visited.
func (s *Store) QueueStats(ctx context.Context) ([]store.DestinationQueue, error) {
	rows, err := s.pool.Query(ctx, `SELECT team_id, destination_id, status, count(*), min(created_at)
		FROM events
		WHERE status IN ('QUEUED', 'SCHEDULED', 'HOLD')
		GROUP BY team_id, destination_id, status
		ORDER BY team_id, destination_id`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: queue stats: %w", err)
	}
	defer rows.Close()
	var out []store.DestinationQueue
	for rows.Next() {
		var (
			team, dest, status string
			n                  int64
			oldest             time.Time
		)
		if err := rows.Scan(&team, &dest, &status, &n, &oldest); err != nil {
			return nil, fmt.Errorf("pgstore: queue stats: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].TeamID != team || out[len(out)-1].DestinationID != dest {
			out = append(out, store.DestinationQueue{TeamID: team, DestinationID: dest})
		}
		q := &out[len(out)-1]
		switch status {
		case model.EventQueued:
			q.Queued = int(n)
		case model.EventScheduled:
			q.Scheduled = int(n)
		case model.EventHold:
			q.Hold = int(n)
			continue
		}
		if oldest = oldest.UTC(); q.OldestPendingAt.IsZero() || oldest.Before(q.OldestPendingAt) {
			q.OldestPendingAt = oldest
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: queue stats: %w", err)
	}
	return out, nil
}

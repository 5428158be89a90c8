package sqlitestore

import (
	"context"
	"fmt"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// QueueStats counts the undelivered events of every destination. It walks
// the events_status index (team_id, status, id) over the three pending
// statuses only; left to itself the planner prefers events_destination,
// which avoids the GROUP BY sort but visits every event of the team.
func (s *Store) QueueStats(ctx context.Context) ([]store.DestinationQueue, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT team_id, destination_id, status, COUNT(*),
			MIN(created_at)
		FROM events INDEXED BY events_status
		WHERE team_id IN (SELECT id FROM teams) AND status IN (?, ?, ?)
		GROUP BY team_id, destination_id, status
		ORDER BY team_id, destination_id`,
		model.EventQueued, model.EventScheduled, model.EventHold)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: queue stats: %w", err)
	}
	defer rows.Close()
	var out []store.DestinationQueue
	for rows.Next() {
		var (
			team, dest, status string
			n                  int
			oldest             int64
		)
		if err := rows.Scan(&team, &dest, &status, &n, &oldest); err != nil {
			return nil, fmt.Errorf("sqlitestore: queue stats: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].TeamID != team || out[len(out)-1].DestinationID != dest {
			out = append(out, store.DestinationQueue{TeamID: team, DestinationID: dest})
		}
		q := &out[len(out)-1]
		switch status {
		case model.EventQueued:
			q.Queued = n
		case model.EventScheduled:
			q.Scheduled = n
		case model.EventHold:
			q.Hold = n
			continue
		}
		if at := fromMicros(oldest); q.OldestPendingAt.IsZero() || at.Before(q.OldestPendingAt) {
			q.OldestPendingAt = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: queue stats: %w", err)
	}
	return out, nil
}

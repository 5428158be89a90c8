package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

// DefaultTeamName is the name given to the default team.
const DefaultTeamName = "Default"

// EnsureDefaultTeam returns the default team, creating it on first use. Of
// several processes racing to create it, one wins and all return its row.
func (s *Store) EnsureDefaultTeam(ctx context.Context) (model.Team, error) {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return model.Team{}, fmt.Errorf("pgstore: signing secret: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO teams (id, name, signing_secret, is_default, created_at)
		VALUES ($1, $2, $3, true, $4) ON CONFLICT (is_default) WHERE is_default DO NOTHING`,
		model.NewID(model.PrefixTeam), DefaultTeamName, hex.EncodeToString(secret[:]), ts(time.Now()))
	if err != nil {
		return model.Team{}, translate(err, "create default team")
	}
	return one(ctx, s.pool, func(r row) (model.Team, error) {
		var t model.Team
		err := r.Scan(&t.ID, &t.Name, &t.SigningSecret, &t.CreatedAt)
		return t, err
	}, "get default team", `SELECT id, name, signing_secret, created_at FROM teams WHERE is_default`)
}

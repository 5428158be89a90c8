package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-gw/sluice/internal/store/sqlitestore"
)

// FuzzBodies posts arbitrary JSON to the write routes of both dialects.
// Whatever the body, the API must answer with a status below 500 (a clear
// 400/404/409/422, or 200) and never panic.
func FuzzBodies(f *testing.F) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(f.TempDir(), "sluice.db"), sqlitestore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	team, err := st.EnsureDefaultTeam(ctx)
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{Store: st, Team: team, APIKey: testKey, PublicURL: testPublicURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	routes := []string{
		"POST /2023-07-01/connections", "PUT /2023-07-01/connections", "POST /2025-07-01/connections",
		"PUT /2025-07-01/connections", "POST /2025-07-01/sources", "PUT /2023-07-01/sources",
		"POST /2025-07-01/destinations", "PUT /2023-07-01/destinations", "POST /2025-07-01/transformations",
		"PUT /2025-07-01/transformations/run",
	}
	seeds := []string{
		`{"name":"c","source":{"name":"s","verification":{"type":"api_key","configs":{"header_key":"X","api_key":"k"}}},"destination":{"name":"d","url":"http://127.0.0.1:9"}}`,
		`{"name":"c","source":{"name":"s","type":"STRIPE","config":{"auth":{"webhook_secret_key":"whsec_x"}}},"destination":{"name":"d","type":"HTTP","config":{"url":"http://127.0.0.1:9","rate_limit":5}},"rules":[{"type":"filter","body":{"a":{"$gte":1}}},{"type":"retry","strategy":"linear"}]}`,
		`{"name":"t","code":"addHandler('transform', r => r)"}`,
		`{"code":"addHandler('transform', r => r)","request":{"body":{"a":1},"headers":{}}}`,
		`{"name":"s","config":{"auth_type":"HMAC","auth":{"algorithm":"md4"}}}`,
		`{"rules":[{"type":"deduplicate","window":"x"}]}`, `[]`, `null`, `{"name":123}`, `{`, ``,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= http.StatusInternalServerError {
			t.Fatalf("%s %s with %q answered %d: %s", method, path, body, rec.Code, rec.Body)
		}
	})
}

package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

// byteOrderIDs returns n ids with the given prefix in ascending byte order
// that a locale collation would order differently ("…0" < "…Z" < "…a"), so
// that a store comparing ids by anything but bytes fails the paging tests.
func byteOrderIDs(prefix string, n int) []string {
	const tails = "09AZaz"
	if n > len(tails) {
		panic("byteOrderIDs: too many ids")
	}
	base := model.NewID(prefix)
	base = base[:len(base)-1]
	ids := make([]string, n)
	for i := range ids {
		ids[i] = base + string(tails[i])
	}
	return ids
}

func sourceCases() []testCase {
	return []testCase{
		{"Sources/CRUD", testSourceCRUD},
		{"Sources/List", testSourceList},
		{"Sources/DeleteCascadesConnections", func(t *testing.T, f *fixture) {
			p := f.pipe("a")
			other := f.pipe("b")
			must(t, "DeleteSource", f.s.DeleteSource(f.ctx, f.team.ID, p.src.ID))
			_, err := f.s.GetConnection(f.ctx, f.team.ID, p.conn.ID)
			wantErr(t, "GetConnection of deleted source", err, store.ErrNotFound)
			_, err = f.s.GetConnection(f.ctx, f.team.ID, other.conn.ID)
			must(t, "GetConnection of other source", err)
			_, err = f.s.GetDestination(f.ctx, f.team.ID, p.dst.ID)
			must(t, "GetDestination after DeleteSource", err)
		}},
	}
}

func testSourceCRUD(t *testing.T, f *fixture) {
	src := f.source("stripe", func(s *model.Source) {
		s.Description = ptr("payments")
		s.Type = "STRIPE"
		s.Config = model.SourceConfig{
			AllowedHTTPMethods: []string{"POST", "PUT"},
			CustomResponse:     &model.CustomResponse{ContentType: "json", Body: `{"ok":true}`},
			AuthType:           "HMAC",
			Auth:               map[string]string{"webhook_secret_key": "s3cr3t", "algorithm": "sha256"},
		}
	})
	got, err := f.s.GetSource(f.ctx, f.team.ID, src.ID)
	must(t, "GetSource", err)
	equal(t, "GetSource", got, src)
	got, err = f.s.GetSourceByName(f.ctx, f.team.ID, "stripe")
	must(t, "GetSourceByName", err)
	equal(t, "GetSourceByName", got, src)

	_, err = f.s.GetSource(f.ctx, "tm_other", src.ID)
	wantErr(t, "GetSource in another team", err, store.ErrNotFound)
	_, err = f.s.GetSource(f.ctx, f.team.ID, model.NewID(model.PrefixSource))
	wantErr(t, "GetSource missing", err, store.ErrNotFound)
	_, err = f.s.GetSourceByName(f.ctx, f.team.ID, "nope")
	wantErr(t, "GetSourceByName missing", err, store.ErrNotFound)

	dup := model.Source{ID: model.NewID(model.PrefixSource), TeamID: f.team.ID, Name: "stripe", Type: "WEBHOOK", CreatedAt: f.now, UpdatedAt: f.now}
	wantErr(t, "CreateSource duplicate name", f.s.CreateSource(f.ctx, &dup), store.ErrConflict)

	// Update overwrites everything but ID, TeamID and CreatedAt.
	upd := src
	upd.Name = "stripe-2"
	upd.Description = nil
	upd.Type = "WEBHOOK"
	upd.Config = model.SourceConfig{AuthType: "API_KEY", Auth: map[string]string{"header_key": "x-key", "api_key": "k"}}
	upd.DisabledAt = ptr(f.at(time.Second))
	upd.UpdatedAt = f.at(time.Second)
	upd.CreatedAt = f.at(time.Hour)
	must(t, "UpdateSource", f.s.UpdateSource(f.ctx, &upd))
	got, err = f.s.GetSource(f.ctx, f.team.ID, src.ID)
	must(t, "GetSource after update", err)
	upd.CreatedAt = src.CreatedAt
	equal(t, "GetSource after update", got, upd)
	_, err = f.s.GetSourceByName(f.ctx, f.team.ID, "stripe")
	wantErr(t, "GetSourceByName old name", err, store.ErrNotFound)

	other := f.source("github")
	ren := other
	ren.Name = "stripe-2"
	wantErr(t, "UpdateSource onto taken name", f.s.UpdateSource(f.ctx, &ren), store.ErrConflict)
	missing := upd
	missing.ID = model.NewID(model.PrefixSource)
	missing.Name = "fresh"
	wantErr(t, "UpdateSource missing", f.s.UpdateSource(f.ctx, &missing), store.ErrNotFound)

	must(t, "DeleteSource", f.s.DeleteSource(f.ctx, f.team.ID, src.ID))
	_, err = f.s.GetSource(f.ctx, f.team.ID, src.ID)
	wantErr(t, "GetSource after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteSource again", f.s.DeleteSource(f.ctx, f.team.ID, src.ID), store.ErrNotFound)
	f.source("stripe-2") // the name is free again
}

func testSourceList(t *testing.T, f *fixture) {
	ids := byteOrderIDs(model.PrefixSource, 5)
	names := []string{"s0", "s1", "s2", "s3", "s4"}
	for i, id := range ids {
		f.source(names[i], func(s *model.Source) {
			s.ID = id
			if i%2 == 1 {
				s.DisabledAt = ptr(f.now)
			}
		})
	}
	list := func(fl store.SourceFilter) ([]string, error) {
		fl.TeamID = f.team.ID
		ss, err := f.s.ListSources(f.ctx, fl)
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.ID
		}
		return out, err
	}
	checkPaging(t, "ListSources", ids, 2, func(p store.Page) ([]string, error) {
		return list(store.SourceFilter{Page: p})
	})
	asc := store.Page{Asc: true}
	cases := []struct {
		name string
		f    store.SourceFilter
		want []string
	}{
		{"ids", store.SourceFilter{IDs: []string{ids[3], ids[1]}}, []string{ids[1], ids[3]}},
		{"names", store.SourceFilter{Names: []string{"s0", "s4", "zz"}}, []string{ids[0], ids[4]}},
		{"disabled", store.SourceFilter{Disabled: ptr(true)}, []string{ids[1], ids[3]}},
		{"enabled", store.SourceFilter{Disabled: ptr(false)}, []string{ids[0], ids[2], ids[4]}},
		{"enabled and named", store.SourceFilter{Disabled: ptr(false), Names: []string{"s1", "s2"}}, []string{ids[2]}},
		{"other team", store.SourceFilter{TeamID: "tm_other"}, nil},
	}
	for _, tc := range cases {
		fl := tc.f
		fl.Page = asc
		if fl.TeamID == "" {
			fl.TeamID = f.team.ID
		}
		ss, err := f.s.ListSources(f.ctx, fl)
		must(t, "ListSources "+tc.name, err)
		got := make([]string, len(ss))
		for i, s := range ss {
			got[i] = s.ID
		}
		sameIDs(t, "ListSources "+tc.name, got, tc.want)
		fl.Page = store.Page{Limit: 1, After: ids[0]} // Count ignores the page.
		n, err := f.s.CountSources(f.ctx, fl)
		must(t, "CountSources "+tc.name, err)
		if n != len(tc.want) {
			t.Fatalf("CountSources %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}
}

func destinationCases() []testCase {
	return []testCase{
		{"Destinations/CRUD", testDestinationCRUD},
		{"Destinations/List", testDestinationList},
		{"Destinations/DeleteCascadesConnections", func(t *testing.T, f *fixture) {
			p := f.pipe("a")
			other := f.pipe("b")
			must(t, "DeleteDestination", f.s.DeleteDestination(f.ctx, f.team.ID, p.dst.ID))
			_, err := f.s.GetConnection(f.ctx, f.team.ID, p.conn.ID)
			wantErr(t, "GetConnection of deleted destination", err, store.ErrNotFound)
			_, err = f.s.GetConnection(f.ctx, f.team.ID, other.conn.ID)
			must(t, "GetConnection of other destination", err)
			_, err = f.s.GetSource(f.ctx, f.team.ID, p.src.ID)
			must(t, "GetSource after DeleteDestination", err)
		}},
	}
}

func testDestinationCRUD(t *testing.T, f *fixture) {
	dst := f.destination("api", func(d *model.Destination) {
		d.Description = ptr("the api")
		d.Config = model.DestinationConfig{
			URL: "https://example.com/hooks", RateLimit: ptr(10.5), RateLimitPeriod: "second",
			PathForwardingDisabled: true, HTTPMethod: "PUT", AuthType: "BEARER_TOKEN",
			Auth: map[string]string{"token": "t0k"},
		}
	})
	got, err := f.s.GetDestination(f.ctx, f.team.ID, dst.ID)
	must(t, "GetDestination", err)
	equal(t, "GetDestination", got, dst)
	got, err = f.s.GetDestinationByName(f.ctx, f.team.ID, "api")
	must(t, "GetDestinationByName", err)
	equal(t, "GetDestinationByName", got, dst)
	_, err = f.s.GetDestination(f.ctx, "tm_other", dst.ID)
	wantErr(t, "GetDestination in another team", err, store.ErrNotFound)
	_, err = f.s.GetDestinationByName(f.ctx, f.team.ID, "nope")
	wantErr(t, "GetDestinationByName missing", err, store.ErrNotFound)

	dup := model.Destination{ID: model.NewID(model.PrefixDestination), TeamID: f.team.ID, Name: "api", Type: model.DestinationCLI, CreatedAt: f.now, UpdatedAt: f.now}
	wantErr(t, "CreateDestination duplicate name", f.s.CreateDestination(f.ctx, &dup), store.ErrConflict)

	upd := dst
	upd.Name = "cli"
	upd.Description = nil
	upd.Type = model.DestinationCLI
	upd.Config = model.DestinationConfig{Path: "/local"}
	upd.DisabledAt = ptr(f.at(time.Second))
	upd.UpdatedAt = f.at(time.Second)
	upd.CreatedAt = f.at(time.Hour)
	must(t, "UpdateDestination", f.s.UpdateDestination(f.ctx, &upd))
	got, err = f.s.GetDestination(f.ctx, f.team.ID, dst.ID)
	must(t, "GetDestination after update", err)
	upd.CreatedAt = dst.CreatedAt
	equal(t, "GetDestination after update", got, upd)

	other := f.destination("other")
	other.Name = "cli"
	wantErr(t, "UpdateDestination onto taken name", f.s.UpdateDestination(f.ctx, &other), store.ErrConflict)
	missing := upd
	missing.ID = model.NewID(model.PrefixDestination)
	missing.Name = "fresh"
	wantErr(t, "UpdateDestination missing", f.s.UpdateDestination(f.ctx, &missing), store.ErrNotFound)

	must(t, "DeleteDestination", f.s.DeleteDestination(f.ctx, f.team.ID, dst.ID))
	_, err = f.s.GetDestination(f.ctx, f.team.ID, dst.ID)
	wantErr(t, "GetDestination after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteDestination again", f.s.DeleteDestination(f.ctx, f.team.ID, dst.ID), store.ErrNotFound)
}

func testDestinationList(t *testing.T, f *fixture) {
	ids := byteOrderIDs(model.PrefixDestination, 4)
	types := []string{model.DestinationHTTP, model.DestinationCLI, model.DestinationHTTP, model.DestinationMockAPI}
	for i, id := range ids {
		f.destination("d"+string(rune('0'+i)), func(d *model.Destination) {
			d.ID = id
			d.Type = types[i]
			if i == 2 {
				d.DisabledAt = ptr(f.now)
			}
		})
	}
	checkPaging(t, "ListDestinations", ids, 3, func(p store.Page) ([]string, error) {
		ds, err := f.s.ListDestinations(f.ctx, store.DestinationFilter{TeamID: f.team.ID, Page: p})
		return destinationIDs(ds), err
	})
	cases := []struct {
		name string
		f    store.DestinationFilter
		want []string
	}{
		{"ids", store.DestinationFilter{IDs: []string{ids[0], ids[3]}}, []string{ids[0], ids[3]}},
		{"names", store.DestinationFilter{Names: []string{"d1"}}, []string{ids[1]}},
		{"types", store.DestinationFilter{Types: []string{model.DestinationHTTP, model.DestinationMockAPI}}, []string{ids[0], ids[2], ids[3]}},
		{"disabled", store.DestinationFilter{Disabled: ptr(true)}, []string{ids[2]}},
		{"enabled http", store.DestinationFilter{Disabled: ptr(false), Types: []string{model.DestinationHTTP}}, []string{ids[0]}},
	}
	for _, tc := range cases {
		fl := tc.f
		fl.TeamID = f.team.ID
		fl.Page = store.Page{Asc: true}
		ds, err := f.s.ListDestinations(f.ctx, fl)
		must(t, "ListDestinations "+tc.name, err)
		sameIDs(t, "ListDestinations "+tc.name, destinationIDs(ds), tc.want)
		fl.Page = store.Page{Limit: 1}
		n, err := f.s.CountDestinations(f.ctx, fl)
		must(t, "CountDestinations "+tc.name, err)
		if n != len(tc.want) {
			t.Fatalf("CountDestinations %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}
}

func destinationIDs(ds []model.Destination) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func connectionCases() []testCase {
	return []testCase{
		{"Connections/CRUD", testConnectionCRUD},
		{"Connections/List", testConnectionList},
	}
}

func testConnectionCRUD(t *testing.T, f *fixture) {
	src, src2 := f.source("src"), f.source("src2")
	dst, dst2 := f.destination("dst"), f.destination("dst2")
	rules := json.RawMessage(`[{"type":"retry","strategy":"linear","interval":60000,"count":5},{"type":"filter","body":{"a":{"$gte":1}}}]`)
	conn := f.connection("conn", src, dst, func(c *model.Connection) {
		c.Description = ptr("desc")
		c.Rules = rules
	})
	got, err := f.s.GetConnection(f.ctx, f.team.ID, conn.ID)
	must(t, "GetConnection", err)
	equal(t, "GetConnection", got, conn)
	got, err = f.s.GetConnectionByName(f.ctx, f.team.ID, src.ID, "conn")
	must(t, "GetConnectionByName", err)
	equal(t, "GetConnectionByName", got, conn)
	_, err = f.s.GetConnectionByName(f.ctx, f.team.ID, src2.ID, "conn")
	wantErr(t, "GetConnectionByName on another source", err, store.ErrNotFound)
	_, err = f.s.GetConnection(f.ctx, "tm_other", conn.ID)
	wantErr(t, "GetConnection in another team", err, store.ErrNotFound)

	// Names are unique per source.
	f.connection("conn", src2, dst)
	dup := model.Connection{ID: model.NewID(model.PrefixConnection), TeamID: f.team.ID, Name: "conn", SourceID: src.ID, DestinationID: dst2.ID, Rules: []byte(`[]`), CreatedAt: f.now, UpdatedAt: f.now}
	wantErr(t, "CreateConnection duplicate name", f.s.CreateConnection(f.ctx, &dup), store.ErrConflict)

	// Update overwrites all but PausedAt (and ID, TeamID, CreatedAt).
	upd := conn
	upd.Name = "renamed"
	upd.Description = nil
	upd.SourceID = src2.ID
	upd.DestinationID = dst2.ID
	upd.Rules = json.RawMessage(`[]`)
	upd.DisabledAt = ptr(f.at(time.Second))
	upd.UpdatedAt = f.at(time.Second)
	upd.PausedAt = ptr(f.at(time.Second))
	must(t, "UpdateConnection", f.s.UpdateConnection(f.ctx, &upd))
	got, err = f.s.GetConnection(f.ctx, f.team.ID, conn.ID)
	must(t, "GetConnection after update", err)
	upd.PausedAt = nil
	equal(t, "GetConnection after update", got, upd)

	ren := upd
	ren.Name = "conn" // taken on src2
	wantErr(t, "UpdateConnection onto taken name", f.s.UpdateConnection(f.ctx, &ren), store.ErrConflict)
	missing := upd
	missing.ID = model.NewID(model.PrefixConnection)
	missing.Name = "fresh"
	wantErr(t, "UpdateConnection missing", f.s.UpdateConnection(f.ctx, &missing), store.ErrNotFound)

	must(t, "DeleteConnection", f.s.DeleteConnection(f.ctx, f.team.ID, conn.ID))
	_, err = f.s.GetConnection(f.ctx, f.team.ID, conn.ID)
	wantErr(t, "GetConnection after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteConnection again", f.s.DeleteConnection(f.ctx, f.team.ID, conn.ID), store.ErrNotFound)
	_, err = f.s.PauseConnection(f.ctx, f.team.ID, conn.ID, f.now)
	wantErr(t, "PauseConnection missing", err, store.ErrNotFound)
	_, _, err = f.s.UnpauseConnection(f.ctx, f.team.ID, conn.ID, f.now)
	wantErr(t, "UnpauseConnection missing", err, store.ErrNotFound)
}

func testConnectionList(t *testing.T, f *fixture) {
	s1, s2 := f.source("s1"), f.source("s2")
	d1, d2 := f.destination("d1"), f.destination("d2")
	ids := byteOrderIDs(model.PrefixConnection, 5)
	spec := []struct {
		src      model.Source
		dst      model.Destination
		disabled bool
		paused   bool
	}{
		{s1, d1, false, false},
		{s1, d2, true, false},
		{s2, d1, false, true},
		{s2, d2, false, false},
		{s1, d1, true, true},
	}
	for i, sp := range spec {
		c := f.connection("c"+string(rune('0'+i)), sp.src, sp.dst, func(c *model.Connection) {
			c.ID = ids[i]
			if sp.disabled {
				c.DisabledAt = ptr(f.now)
			}
		})
		if sp.paused {
			_, err := f.s.PauseConnection(f.ctx, f.team.ID, c.ID, f.now)
			must(t, "PauseConnection", err)
		}
	}
	checkPaging(t, "ListConnections", ids, 2, func(p store.Page) ([]string, error) {
		cs, err := f.s.ListConnections(f.ctx, store.ConnectionFilter{TeamID: f.team.ID, Page: p})
		return connectionIDs(cs), err
	})
	cases := []struct {
		name string
		f    store.ConnectionFilter
		want []string
	}{
		{"ids", store.ConnectionFilter{IDs: []string{ids[4], ids[2]}}, []string{ids[2], ids[4]}},
		{"names", store.ConnectionFilter{Names: []string{"c1", "c3"}}, []string{ids[1], ids[3]}},
		{"sources", store.ConnectionFilter{SourceIDs: []string{s2.ID}}, []string{ids[2], ids[3]}},
		{"destinations", store.ConnectionFilter{DestinationIDs: []string{d1.ID}}, []string{ids[0], ids[2], ids[4]}},
		{"disabled", store.ConnectionFilter{Disabled: ptr(true)}, []string{ids[1], ids[4]}},
		{"enabled", store.ConnectionFilter{Disabled: ptr(false)}, []string{ids[0], ids[2], ids[3]}},
		{"paused", store.ConnectionFilter{Paused: ptr(true)}, []string{ids[2], ids[4]}},
		{"active", store.ConnectionFilter{Paused: ptr(false), Disabled: ptr(false)}, []string{ids[0], ids[3]}},
		{"source and destination", store.ConnectionFilter{SourceIDs: []string{s1.ID}, DestinationIDs: []string{d1.ID}}, []string{ids[0], ids[4]}},
	}
	for _, tc := range cases {
		fl := tc.f
		fl.TeamID = f.team.ID
		fl.Page = store.Page{Asc: true}
		cs, err := f.s.ListConnections(f.ctx, fl)
		must(t, "ListConnections "+tc.name, err)
		sameIDs(t, "ListConnections "+tc.name, connectionIDs(cs), tc.want)
		fl.Page = store.Page{Limit: 1}
		n, err := f.s.CountConnections(f.ctx, fl)
		must(t, "CountConnections "+tc.name, err)
		if n != len(tc.want) {
			t.Fatalf("CountConnections %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}
}

func connectionIDs(cs []model.Connection) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

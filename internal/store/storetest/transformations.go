package storetest

import (
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

func transformationCases() []testCase {
	return []testCase{
		{"Transformations/CRUD", testTransformationCRUD},
		{"Transformations/List", testTransformationList},
		{"Transformations/Executions", testExecutions},
		{"Transformations/ExecutionList", testExecutionList},
	}
}

// transformation stores a transformation called name.
func (f *fixture) transformation(name string, mods ...func(*model.Transformation)) model.Transformation {
	f.t.Helper()
	tr := model.Transformation{
		ID: model.NewID(model.PrefixTransform), TeamID: f.team.ID, Name: name,
		Code:      `addHandler("transform", (request, context) => request);`,
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&tr)
	}
	if err := f.s.CreateTransformation(f.ctx, &tr); err != nil {
		f.t.Fatalf("CreateTransformation %q: %v", name, err)
	}
	return tr
}

func transformationIDs(ts []model.Transformation) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.ID
	}
	return out
}

func executionIDs(xs []model.TransformationExecution) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

func testTransformationCRUD(t *testing.T, f *fixture) {
	tr := f.transformation("enrich", func(tr *model.Transformation) {
		tr.Code = "addHandler('transform', (req, ctx) => {\n  req.body.tag = \"é ✓\\n\";\n  return req;\n});\n"
		tr.Env = map[string]string{"API_KEY": "k3y", "EMPTY": "", "UNICODE": "é ✓"}
	})
	got, err := f.s.GetTransformation(f.ctx, f.team.ID, tr.ID)
	must(t, "GetTransformation", err)
	equal(t, "GetTransformation", got, tr)
	got, err = f.s.GetTransformationByName(f.ctx, f.team.ID, "enrich")
	must(t, "GetTransformationByName", err)
	equal(t, "GetTransformationByName", got, tr)

	_, err = f.s.GetTransformation(f.ctx, "tm_other", tr.ID)
	wantErr(t, "GetTransformation in another team", err, store.ErrNotFound)
	_, err = f.s.GetTransformationByName(f.ctx, "tm_other", "enrich")
	wantErr(t, "GetTransformationByName in another team", err, store.ErrNotFound)
	_, err = f.s.GetTransformation(f.ctx, f.team.ID, model.NewID(model.PrefixTransform))
	wantErr(t, "GetTransformation missing", err, store.ErrNotFound)
	_, err = f.s.GetTransformationByName(f.ctx, f.team.ID, "nope")
	wantErr(t, "GetTransformationByName missing", err, store.ErrNotFound)

	dup := model.Transformation{ID: model.NewID(model.PrefixTransform), TeamID: f.team.ID, Name: "enrich", Code: "x", CreatedAt: f.now, UpdatedAt: f.now}
	wantErr(t, "CreateTransformation duplicate name", f.s.CreateTransformation(f.ctx, &dup), store.ErrConflict)
	// Names are unique per team only.
	elsewhere := dup
	elsewhere.TeamID = "tm_other"
	must(t, "CreateTransformation same name in another team", f.s.CreateTransformation(f.ctx, &elsewhere))

	// Update overwrites Name, Code, Env and UpdatedAt only.
	upd := tr
	upd.Name = "enrich-2"
	upd.Code = "addHandler('transform', (req) => req);"
	upd.Env = nil
	upd.UpdatedAt = f.at(time.Second)
	upd.CreatedAt = f.at(time.Hour)
	must(t, "UpdateTransformation", f.s.UpdateTransformation(f.ctx, &upd))
	got, err = f.s.GetTransformation(f.ctx, f.team.ID, tr.ID)
	must(t, "GetTransformation after update", err)
	upd.CreatedAt = tr.CreatedAt
	equal(t, "GetTransformation after update", got, upd)
	_, err = f.s.GetTransformationByName(f.ctx, f.team.ID, "enrich")
	wantErr(t, "GetTransformationByName old name", err, store.ErrNotFound)
	upd.Env = map[string]string{"B": "2"}
	upd.UpdatedAt = f.at(2 * time.Second)
	must(t, "UpdateTransformation env", f.s.UpdateTransformation(f.ctx, &upd))
	got, err = f.s.GetTransformationByName(f.ctx, f.team.ID, "enrich-2")
	must(t, "GetTransformationByName after update", err)
	equal(t, "GetTransformationByName after update", got, upd)

	other := f.transformation("other")
	ren := other
	ren.Name = "enrich-2"
	wantErr(t, "UpdateTransformation onto taken name", f.s.UpdateTransformation(f.ctx, &ren), store.ErrConflict)
	missing := upd
	missing.ID = model.NewID(model.PrefixTransform)
	missing.Name = "fresh"
	wantErr(t, "UpdateTransformation missing", f.s.UpdateTransformation(f.ctx, &missing), store.ErrNotFound)
	wrongTeam := upd
	wrongTeam.TeamID = "tm_other"
	wrongTeam.Name = "fresh"
	wantErr(t, "UpdateTransformation in another team", f.s.UpdateTransformation(f.ctx, &wrongTeam), store.ErrNotFound)

	wantErr(t, "DeleteTransformation in another team", f.s.DeleteTransformation(f.ctx, "tm_other", tr.ID), store.ErrNotFound)
	must(t, "DeleteTransformation", f.s.DeleteTransformation(f.ctx, f.team.ID, tr.ID))
	_, err = f.s.GetTransformation(f.ctx, f.team.ID, tr.ID)
	wantErr(t, "GetTransformation after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteTransformation again", f.s.DeleteTransformation(f.ctx, f.team.ID, tr.ID), store.ErrNotFound)
	f.transformation("enrich-2") // the name is free again
}

func testTransformationList(t *testing.T, f *fixture) {
	ids := byteOrderIDs(model.PrefixTransform, 5)
	names := []string{"t0", "t1", "t2", "t3", "t4"}
	for i, id := range ids {
		f.transformation(names[i], func(tr *model.Transformation) { tr.ID = id })
	}
	// A transformation of another team, with a name of this one.
	foreign := model.Transformation{ID: model.NewID(model.PrefixTransform), TeamID: "tm_other", Name: "t0", Code: "x", CreatedAt: f.now, UpdatedAt: f.now}
	must(t, "CreateTransformation in another team", f.s.CreateTransformation(f.ctx, &foreign))

	checkPaging(t, "ListTransformations", ids, 2, func(p store.Page) ([]string, error) {
		ts, err := f.s.ListTransformations(f.ctx, store.TransformationFilter{TeamID: f.team.ID, Page: p})
		return transformationIDs(ts), err
	})
	cases := []struct {
		name string
		f    store.TransformationFilter
		want []string
	}{
		{"all", store.TransformationFilter{}, ids},
		{"ids", store.TransformationFilter{IDs: []string{ids[3], ids[1]}}, []string{ids[1], ids[3]}},
		{"names", store.TransformationFilter{Names: []string{"t0", "t4", "zz"}}, []string{ids[0], ids[4]}},
		{"ids and names", store.TransformationFilter{IDs: []string{ids[0], ids[1]}, Names: []string{"t1", "t2"}}, []string{ids[1]}},
		{"other team", store.TransformationFilter{TeamID: "tm_other"}, []string{foreign.ID}},
		{"unknown team", store.TransformationFilter{TeamID: "tm_none"}, nil},
	}
	for _, tc := range cases {
		fl := tc.f
		if fl.TeamID == "" {
			fl.TeamID = f.team.ID
		}
		fl.Page = store.Page{Asc: true}
		ts, err := f.s.ListTransformations(f.ctx, fl)
		must(t, "ListTransformations "+tc.name, err)
		sameIDs(t, "ListTransformations "+tc.name, transformationIDs(ts), tc.want)
		fl.Page = store.Page{Limit: 1, After: ids[0]} // Count ignores the page.
		n, err := f.s.CountTransformations(f.ctx, fl)
		must(t, "CountTransformations "+tc.name, err)
		if n != len(tc.want) {
			t.Fatalf("CountTransformations %s = %d, want %d", tc.name, n, len(tc.want))
		}
	}
	ts, err := f.s.ListTransformations(f.ctx, store.TransformationFilter{TeamID: f.team.ID, IDs: []string{ids[2]}})
	must(t, "ListTransformations one", err)
	if len(ts) != 1 || ts[0].Name != "t2" || ts[0].Code == "" {
		t.Fatalf("ListTransformations one: %+v", ts)
	}
}

// execution builds (does not store) a run of tr on req for conn.
func (f *fixture) execution(tr model.Transformation, conn model.Connection, req model.Request, level string, mods ...func(*model.TransformationExecution)) model.TransformationExecution {
	x := model.TransformationExecution{
		ID: model.NewID(model.PrefixExecution), TeamID: f.team.ID, TransformationID: tr.ID,
		ConnectionID: conn.ID, RequestID: req.ID, LogLevel: level,
		OriginalDataID: req.Data.ID, CreatedAt: f.now, UpdatedAt: f.now,
	}
	for _, m := range mods {
		m(&x)
	}
	return x
}

func testExecutions(t *testing.T, f *fixture) {
	p := f.pipe("p")
	c2 := f.connection("c2", p.src, p.dst)
	tr := f.transformation("tr")
	req := f.request(p.src)
	transformed := model.Payload{
		ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/hook",
		Headers: map[string]string{"content-type": "application/json"}, Body: []byte(`{"n":2}`),
	}
	ok := f.execution(tr, p.conn, req, "info", func(x *model.TransformationExecution) {
		x.TransformedDataID = transformed.ID
		x.Logs = []model.ConsoleLine{
			{Type: "log", Message: "hello"},
			{Type: "info", Message: "é ✓ \"quoted\"\nline"},
			{Type: "debug", Message: ""},
		}
	})
	failed := f.execution(tr, c2, req, "fatal", func(x *model.TransformationExecution) {
		x.Logs = []model.ConsoleLine{{Type: "error", Message: "TypeError: x is undefined"}}
	})
	e := f.newEvent(req, p, func(e *model.Event) { e.DataID = transformed.ID })
	ign := model.IgnoredEvent{
		ID: model.NewID(model.PrefixIgnored), TeamID: f.team.ID, ConnectionID: c2.ID, RequestID: req.ID,
		Cause: model.IgnoredTransformationFailed, Meta: []byte(`{"transformation_id":"` + tr.ID + `"}`), CreatedAt: f.now,
	}
	must(t, "CompleteRouting", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Payloads: []model.Payload{transformed}, Events: []model.Event{e},
		Ignored: []model.IgnoredEvent{ign}, Executions: []model.TransformationExecution{ok, failed}, RoutedAt: f.now,
	}}))
	for _, x := range []model.TransformationExecution{ok, failed} {
		got, err := f.s.GetTransformationExecution(f.ctx, f.team.ID, x.ID)
		must(t, "GetTransformationExecution "+x.LogLevel, err)
		equal(t, "GetTransformationExecution "+x.LogLevel, got, x)
	}
	p2, err := f.s.GetPayload(f.ctx, ok.TransformedDataID)
	must(t, "GetPayload of the transformed data", err)
	equal(t, "transformed payload", p2, transformed)
	_, err = f.s.GetTransformationExecution(f.ctx, "tm_other", ok.ID)
	wantErr(t, "GetTransformationExecution in another team", err, store.ErrNotFound)
	_, err = f.s.GetTransformationExecution(f.ctx, f.team.ID, model.NewID(model.PrefixExecution))
	wantErr(t, "GetTransformationExecution missing", err, store.ErrNotFound)

	// A second routing of the routed request writes none of its runs; a
	// rerun writes them.
	again := f.execution(tr, p.conn, req, "debug")
	must(t, "CompleteRouting again", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Executions: []model.TransformationExecution{again}, RoutedAt: f.at(time.Minute),
	}}))
	_, err = f.s.GetTransformationExecution(f.ctx, f.team.ID, again.ID)
	wantErr(t, "execution of a second routing", err, store.ErrNotFound)
	rerun := f.execution(tr, p.conn, req, "warn", func(x *model.TransformationExecution) {
		x.Logs = []model.ConsoleLine{{Type: "warn", Message: "w"}}
		x.CreatedAt, x.UpdatedAt = f.at(time.Minute), f.at(time.Minute)
	})
	must(t, "CompleteRouting rerun", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{{
		RequestID: req.ID, Rerun: true, Executions: []model.TransformationExecution{rerun}, RoutedAt: f.at(time.Minute),
	}}))
	got, err := f.s.GetTransformationExecution(f.ctx, f.team.ID, rerun.ID)
	must(t, "GetTransformationExecution of a rerun", err)
	equal(t, "execution of a rerun", got, rerun)

	xs, err := f.s.ListTransformationExecutions(f.ctx, store.ExecutionFilter{TeamID: f.team.ID, Page: store.Page{Asc: true}})
	must(t, "ListTransformationExecutions", err)
	equal(t, "ListTransformationExecutions", xs, []model.TransformationExecution{ok, failed, rerun})
}

func testExecutionList(t *testing.T, f *fixture) {
	p := f.pipe("p")
	c2 := f.connection("c2", p.src, p.dst)
	t1, t2 := f.transformation("t1"), f.transformation("t2")
	t0 := f.now
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	at := func(n int) func(*model.TransformationExecution) {
		return func(x *model.TransformationExecution) { x.CreatedAt, x.UpdatedAt = sec(n), sec(n) }
	}
	r0, r1 := f.request(p.src), f.request(p.src)
	x0 := f.execution(t1, p.conn, r0, "debug", at(0))
	x1 := f.execution(t2, c2, r0, "info", at(1))
	x2 := f.execution(t1, p.conn, r1, "error", at(2))
	x3 := f.execution(t1, c2, r1, "fatal", at(3))
	x4 := f.execution(t2, p.conn, r1, "warn", at(4))
	must(t, "CompleteRouting", f.s.CompleteRouting(f.ctx, []store.RoutingOutcome{
		{RequestID: r0.ID, Executions: []model.TransformationExecution{x0, x1}, RoutedAt: f.now},
		{RequestID: r1.ID, Executions: []model.TransformationExecution{x2, x3, x4}, RoutedAt: f.now},
	}))
	all := []string{x0.ID, x1.ID, x2.ID, x3.ID, x4.ID}
	checkPaging(t, "ListTransformationExecutions", all, 2, func(pg store.Page) ([]string, error) {
		xs, err := f.s.ListTransformationExecutions(f.ctx, store.ExecutionFilter{TeamID: f.team.ID, Page: pg})
		return executionIDs(xs), err
	})
	cases := []struct {
		name string
		f    store.ExecutionFilter
		want []string
	}{
		{"transformation", store.ExecutionFilter{TransformationID: t1.ID}, []string{x0.ID, x2.ID, x3.ID}},
		{"connections", store.ExecutionFilter{ConnectionIDs: []string{c2.ID}}, []string{x1.ID, x3.ID}},
		{"both connections", store.ExecutionFilter{ConnectionIDs: []string{c2.ID, p.conn.ID}}, all},
		{"log levels", store.ExecutionFilter{LogLevels: []string{"error", "fatal"}}, []string{x2.ID, x3.ID}},
		{"one log level", store.ExecutionFilter{LogLevels: []string{"warn"}}, []string{x4.ID}},
		{"created gt", store.ExecutionFilter{CreatedAt: store.TimeRange{GT: ptr(sec(2))}}, []string{x3.ID, x4.ID}},
		{"created gte lt", store.ExecutionFilter{CreatedAt: store.TimeRange{GTE: ptr(sec(1)), LT: ptr(sec(3))}}, []string{x1.ID, x2.ID}},
		{"created lte", store.ExecutionFilter{CreatedAt: store.TimeRange{LTE: ptr(sec(0))}}, []string{x0.ID}},
		{"transformation and connection", store.ExecutionFilter{TransformationID: t1.ID, ConnectionIDs: []string{c2.ID}}, []string{x3.ID}},
		{"transformation and level", store.ExecutionFilter{TransformationID: t2.ID, LogLevels: []string{"debug", "info"}}, []string{x1.ID}},
		{"other team", store.ExecutionFilter{TeamID: "tm_other"}, nil},
	}
	for _, tc := range cases {
		fl := tc.f
		if fl.TeamID == "" {
			fl.TeamID = f.team.ID
		}
		fl.Page = store.Page{Asc: true}
		xs, err := f.s.ListTransformationExecutions(f.ctx, fl)
		must(t, "ListTransformationExecutions "+tc.name, err)
		sameIDs(t, "ListTransformationExecutions "+tc.name, executionIDs(xs), tc.want)
	}
	xs, err := f.s.ListTransformationExecutions(f.ctx, store.ExecutionFilter{TeamID: f.team.ID, TransformationID: t1.ID, Page: store.Page{Limit: 1, After: x2.ID}})
	must(t, "ListTransformationExecutions page", err)
	equal(t, "ListTransformationExecutions page", xs, []model.TransformationExecution{x0})
}

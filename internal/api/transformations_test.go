package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
)

const (
	// identityCode returns the request unchanged.
	identityCode = `addHandler('transform', (request, context) => request);`
	// enrichCode tags the body and a header and logs.
	enrichCode = `addHandler('transform', (request, context) => {
  console.log('tagging', request.body.id);
  console.warn('env', context.env.TAG);
  request.body.tag = context.env.TAG;
  request.headers['x-tag'] = context.env.TAG;
  request.path = '/tagged';
  request.query = 'a=1&a=2';
  return request;
});`
)

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTransformationCRUD(t *testing.T) {
	b := setup(t)
	created := b.must(200, "POST", typedV+"/transformations",
		`{"name":"enrich","code":`+jsonString(enrichCode)+`,"env":{"TAG":"blue"}}`)
	id := str(created, "id")
	if !strings.HasPrefix(id, "trs_") || str(created, "name") != "enrich" || str(created, "code") != enrichCode ||
		str(created, "env", "TAG") != "blue" || str(created, "team_id") != b.team.ID {
		t.Fatalf("created = %v", created)
	}
	want := sortedKeys("id", "team_id", "name", "code", "encrypted_env", "iv", "env", "updated_at", "created_at")
	if got := keys(created); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	for _, v := range []string{typedV, legacyV} {
		if got := b.must(200, "GET", v+"/transformations/"+id, ""); str(got, "code") != enrichCode {
			t.Errorf("%s get = %v", v, got)
		}
	}
	other := b.must(200, "POST", typedV+"/transformations", `{"name":"identity","code":`+jsonString(identityCode)+`}`)
	if got, _ := json.Marshal(other["env"]); string(got) != "{}" {
		t.Errorf("env without env = %s, want {}", got)
	}

	// Lists, filters and count.
	lists := []struct {
		query string
		want  []string
	}{
		{"", []string{str(other, "id"), id}},
		{"?dir=asc", []string{id, str(other, "id")}},
		{"?name=enrich", []string{id}},
		{"?id=" + str(other, "id"), []string{str(other, "id")}},
		{"?limit=1", []string{str(other, "id")}},
	}
	for _, l := range lists {
		if got := models(t, b.must(200, "GET", typedV+"/transformations"+l.query, "")); !slices.Equal(got, l.want) {
			t.Errorf("list %q = %v, want %v", l.query, got, l.want)
		}
	}
	if n := b.must(200, "GET", typedV+"/transformations/count", ""); n["count"] != float64(2) {
		t.Errorf("count = %v", n)
	}
	if n := b.must(200, "GET", typedV+"/transformations/count?name=identity", ""); n["count"] != float64(1) {
		t.Errorf("count by name = %v", n)
	}

	// Update changes only what is given; env can be cleared.
	up := b.must(200, "PUT", typedV+"/transformations/"+id, `{"env":{"TAG":"green","MORE":"x"}}`)
	if str(up, "code") != enrichCode || str(up, "env", "TAG") != "green" || str(up, "env", "MORE") != "x" {
		t.Errorf("update env = %v", up)
	}
	up = b.must(200, "PUT", typedV+"/transformations/"+id, `{"name":"enrich2","env":null}`)
	if str(up, "name") != "enrich2" || len(keys(up["env"])) != 0 {
		t.Errorf("rename = %v", up)
	}

	// Upsert by name updates, or creates.
	ups := b.must(200, "PUT", typedV+"/transformations", `{"name":"enrich2","code":`+jsonString(identityCode)+`}`)
	if str(ups, "id") != id || str(ups, "code") != identityCode {
		t.Errorf("upsert existing = %v", ups)
	}
	fresh := b.must(200, "PUT", typedV+"/transformations", `{"name":"third","code":`+jsonString(identityCode)+`}`)
	if str(fresh, "id") == id || str(fresh, "id") == str(other, "id") {
		t.Errorf("upsert new = %v", fresh)
	}

	// Errors.
	errs := []struct {
		name, method, path, body string
		status                   int
		field, says              string
	}{
		{"duplicate name", "POST", "/transformations", `{"name":"identity","code":` + jsonString(identityCode) + `}`, 409, "name", "already exists"},
		{"rename onto a taken name", "PUT", "/transformations/" + id, `{"name":"identity"}`, 409, "name", "already exists"},
		{"no name", "POST", "/transformations", `{"code":` + jsonString(identityCode) + `}`, 422, "name", "required"},
		{"no code", "POST", "/transformations", `{"name":"x"}`, 422, "code", "required"},
		{"upsert without code", "PUT", "/transformations", `{"name":"x"}`, 422, "code", "required"},
		{"syntax error", "POST", "/transformations", `{"name":"x","code":"addHandler('transform', (r) => {\n  return r +;\n});"}`, 422, "code", "transform.js:2:"},
		{"no handler", "POST", "/transformations", `{"name":"x","code":"const a = 1;"}`, 422, "code", "transform"},
		{"top-level throw", "POST", "/transformations", `{"name":"x","code":"throw new Error('boom');"}`, 422, "code", "boom"},
		{"syntax error on update", "PUT", "/transformations/" + id, `{"code":"}"}`, 422, "code", "SyntaxError"},
		{"env not strings", "POST", "/transformations", `{"name":"x","code":` + jsonString(identityCode) + `,"env":{"N":1}}`, 422, "", ""},
		{"missing", "GET", "/transformations/trs_nope", "", 404, "", "not found"},
		{"update missing", "PUT", "/transformations/trs_nope", `{}`, 404, "", "not found"},
	}
	for _, e := range errs {
		t.Run(e.name, func(t *testing.T) {
			res := b.call(e.method, typedV+e.path, e.body)
			if res.status != e.status || (e.field != "" && str(res.body, "data", "field") != e.field) ||
				!strings.Contains(str(res.body, "message"), e.says) {
				t.Errorf("answer %d %s; want %d naming %q saying %q", res.status, res.raw, e.status, e.field, e.says)
			}
		})
	}
	syntax := b.call("POST", typedV+"/transformations", `{"name":"x","code":"addHandler('transform', (r) => {\n  return r +;\n});"}`)
	if get(syntax.body, "data", "line") != float64(2) || get(syntax.body, "data", "column") == nil {
		t.Errorf("syntax error data = %v", syntax.body["data"])
	}

	// Delete; a transformation in use is kept.
	conn := newConnection(b, "uses", `[{"type":"transform","transformation_id":"`+str(other, "id")+`"}]`)
	inUse := b.call("DELETE", typedV+"/transformations/"+str(other, "id"), "")
	if inUse.status != 422 || !strings.Contains(str(inUse.body, "message"), str(conn, "id")) {
		t.Errorf("delete in use = %d %s", inUse.status, inUse.raw)
	}
	if d := b.must(200, "DELETE", typedV+"/transformations/"+id, ""); d["id"] != id {
		t.Errorf("delete = %v", d)
	}
	b.must(404, "GET", typedV+"/transformations/"+id, "")
	b.must(404, "DELETE", typedV+"/transformations/"+id, "")
}

func TestTransformationRun(t *testing.T) {
	b := setup(t)
	stored := b.must(200, "POST", typedV+"/transformations", `{"name":"enrich","code":`+jsonString(enrichCode)+`,"env":{"TAG":"stored"}}`)
	sample := `{"headers":{"content-type":"application/json"},"body":{"id":"evt_1","amount":5},"path":"/in","query":"x=1","parsed_query":{"x":"1"}}`
	cases := []struct {
		name, body string
		check      func(t *testing.T, out map[string]any)
	}{
		{"inline code with env", `{"code":` + jsonString(enrichCode) + `,"env":{"TAG":"inline"},"request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "log_level") != "warn" || str(out, "request", "body", "tag") != "inline" ||
					get(out, "request", "body", "amount") != float64(5) || str(out, "request", "headers", "x-tag") != "inline" ||
					str(out, "request", "path") != "/tagged" || str(out, "request", "query") != "a=1&a=2" {
					t.Errorf("out = %v", out)
				}
				if got, _ := json.Marshal(get(out, "request", "parsed_query")); string(got) != `{"a":["1","2"]}` {
					t.Errorf("parsed_query = %s", got)
				}
				if got, _ := json.Marshal(out["console"]); string(got) != `[{"message":"tagging evt_1","type":"log"},{"message":"env inline","type":"warn"}]` {
					t.Errorf("console = %s", got)
				}
				if out["transformation_id"] != nil || out["execution_id"] != nil || out["request_id"] != nil {
					t.Errorf("ids = %v %v %v", out["transformation_id"], out["execution_id"], out["request_id"])
				}
			}},
		{"stored transformation and its env", `{"transformation_id":"` + str(stored, "id") + `","request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "request", "body", "tag") != "stored" || str(out, "transformation_id") != str(stored, "id") {
					t.Errorf("out = %v", out)
				}
			}},
		{"stored transformation with new code", `{"transformation_id":"` + str(stored, "id") + `","code":` + jsonString(identityCode) + `,"request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				if get(out, "request", "body", "tag") != nil || str(out, "log_level") != "debug" {
					t.Errorf("out = %v", out)
				}
			}},
		{"string body", `{"code":"addHandler('transform', (r) => { r.body = r.body.toUpperCase(); return r; });","request":{"headers":{},"body":"plain text"}}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "request", "body") != "PLAIN TEXT" {
					t.Errorf("body = %v", get(out, "request", "body"))
				}
			}},
		{"runtime error answers 200 fatal", `{"code":"addHandler('transform', (r) => { console.log('before'); throw new TypeError('bad input'); });","request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				con, _ := out["console"].([]any)
				if str(out, "log_level") != "fatal" || out["request"] != nil || len(con) != 2 ||
					str(con[0], "message") != "before" || str(con[1], "type") != "error" || !strings.Contains(str(con[1], "message"), "bad input") {
					t.Errorf("out = %v", out)
				}
			}},
		{"infinite loop is stopped", `{"code":"addHandler('transform', (r) => { while (true) {} });","request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "log_level") != "fatal" || !strings.Contains(str(out, "console", 0, "message"), "time") {
					t.Errorf("out = %v", out)
				}
			}},
		{"bad return value", `{"code":"addHandler('transform', (r) => 42);","request":` + sample + `}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "log_level") != "fatal" {
					t.Errorf("out = %v", out)
				}
			}},
		{"no request", `{"code":` + jsonString(identityCode) + `}`,
			func(t *testing.T, out map[string]any) {
				if str(out, "log_level") != "debug" || get(out, "request", "headers") == nil {
					t.Errorf("out = %v", out)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, b.must(200, "PUT", typedV+"/transformations/run", c.body))
		})
	}
	invalidCases := []struct{ name, body, field, says string }{
		{"no code", `{"request":` + sample + `}`, "code", "required"},
		{"syntax error", `{"code":"addHandler('transform', (r) => {","request":` + sample + `}`, "code", "SyntaxError"},
		{"unknown transformation", `{"transformation_id":"trs_nope"}`, "transformation_id", "no transformation"},
		{"unknown connection", `{"code":` + jsonString(identityCode) + `,"webhook_id":"web_nope"}`, "webhook_id", "no connection"},
		{"unknown event", `{"code":` + jsonString(identityCode) + `,"event_id":"evt_nope"}`, "event_id", "no event"},
	}
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			res := b.call("PUT", typedV+"/transformations/run", c.body)
			if res.status != 422 || str(res.body, "data", "field") != c.field || !strings.Contains(str(res.body, "message"), c.says) {
				t.Errorf("answer %d %s; want 422 naming %s saying %q", res.status, res.raw, c.field, c.says)
			}
		})
	}
	// Nothing was saved by the runs.
	if n := b.must(200, "GET", typedV+"/transformations/count", ""); n["count"] != float64(1) {
		t.Errorf("transformations after runs = %v", n["count"])
	}
}

func TestInlineTransformRules(t *testing.T) {
	b := setup(t)
	inline := func(code, env string) string {
		return `[{"type":"transform","transformation":{"name":"shape","code":` + jsonString(code) + env + `}},{"type":"filter","body":{"tag":"blue"}}]`
	}
	conn := newConnection(b, "first", inline(enrichCode, `,"env":{"TAG":"blue"}`))
	rules, _ := conn["rules"].([]any)
	trsID := str(rules, 0, "transformation_id")
	if len(rules) != 2 || str(rules, 0, "type") != "transform" || !strings.HasPrefix(trsID, "trs_") ||
		len(keys(rules[0])) != 2 || str(rules, 1, "type") != "filter" {
		t.Fatalf("rules = %v", conn["rules"])
	}
	tr := b.must(200, "GET", typedV+"/transformations/"+trsID, "")
	if str(tr, "name") != "shape" || str(tr, "code") != enrichCode || str(tr, "env", "TAG") != "blue" {
		t.Errorf("created transformation = %v", tr)
	}

	// The same name is reused and updated (env kept when not given).
	conn2 := newConnection(b, "second", inline(identityCode, ""))
	if got := str(conn2, "rules", 0, "transformation_id"); got != trsID {
		t.Errorf("second rule id = %s, want %s", got, trsID)
	}
	tr = b.must(200, "GET", typedV+"/transformations/"+trsID, "")
	if str(tr, "code") != identityCode || str(tr, "env", "TAG") != "blue" {
		t.Errorf("reused transformation = %v", tr)
	}

	// Through the connection update and the upsert, in both dialects.
	up := b.must(200, "PUT", typedV+"/connections/"+str(conn, "id"),
		`{"rules":[{"type":"transform","transformation":{"name":"other","code":`+jsonString(identityCode)+`}}]}`)
	otherID := str(up, "rules", 0, "transformation_id")
	if otherID == "" || otherID == trsID {
		t.Errorf("update rules = %v", up["rules"])
	}
	ups := b.must(200, "PUT", legacyV+"/connections",
		`{"name":"third","source":{"name":"src"},"destination":{"name":"dst","url":"https://example.test"},"rules":[{"type":"transform","transformation":{"name":"other","code":`+jsonString(enrichCode)+`,"env":{"TAG":"x"}}}]}`)
	if str(ups, "rules", 0, "transformation_id") != otherID {
		t.Errorf("upsert rules = %v", ups["rules"])
	}
	// Both fields: the transformation of that id is updated.
	both := b.must(200, "PUT", typedV+"/connections/"+str(conn, "id"),
		`{"rules":[{"type":"transform","transformation_id":"`+otherID+`","transformation":{"name":"renamed","code":`+jsonString(identityCode)+`}}]}`)
	if str(both, "rules", 0, "transformation_id") != otherID {
		t.Errorf("both fields = %v", both["rules"])
	}
	if tr := b.must(200, "GET", typedV+"/transformations/"+otherID, ""); str(tr, "name") != "renamed" || str(tr, "code") != identityCode {
		t.Errorf("updated by id = %v", tr)
	}
	res := b.call("PUT", typedV+"/connections/"+str(conn, "id"),
		`{"rules":[{"type":"transform","transformation_id":"`+otherID+`","transformation":{"name":"shape","code":`+jsonString(identityCode)+`}}]}`)
	if res.status != 409 || str(res.body, "data", "field") != "rules[0].transformation.name" {
		t.Errorf("rename onto a taken name = %d %s", res.status, res.raw)
	}
	// A failing rule writes nothing, not even the transformations before it.
	res = b.call("POST", typedV+"/connections",
		`{"name":"bad","source":{"name":"new-src"},"destination":{"name":"new-dst","type":"MOCK_API"},"rules":[{"type":"transform","transformation":{"name":"never","code":"}"}}]}`)
	if res.status != 422 || str(res.body, "data", "field") != "rules[0].transformation.code" {
		t.Errorf("bad inline code = %d %s", res.status, res.raw)
	}
	b.must(422, "PUT", typedV+"/connections/"+str(conn, "id"), `{"name":"bad name","rules":[{"type":"transform","transformation":{"name":"never","code":`+jsonString(identityCode)+`}}]}`)
	if n := b.must(200, "GET", typedV+"/transformations/count?name=never", ""); n["count"] != float64(0) {
		t.Errorf("transformations named never = %v", n["count"])
	}
	if n := b.must(200, "GET", typedV+"/sources/count?name=new-src", ""); n["count"] != float64(0) {
		t.Errorf("sources named new-src = %v", n["count"])
	}
}

func TestTransformationExecutions(t *testing.T) {
	b := setup(t)
	tr := b.must(200, "POST", typedV+"/transformations", `{"name":"enrich","code":`+jsonString(enrichCode)+`}`)
	trID := str(tr, "id")
	conn := newConnection(b, "c", `[{"type":"transform","transformation_id":"`+trID+`"}]`)
	c, err := b.store.GetConnection(b.ctx, b.team.ID, str(conn, "id"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	req := model.Request{
		ID: model.NewID(model.PrefixRequest), TeamID: b.team.ID, SourceID: c.SourceID,
		Data: model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/in", Query: "x=1",
			Headers: map[string]string{"content-type": "application/json"}, Body: []byte(`{"id":"evt_1"}`)},
		IngestedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if err := b.store.InsertRequest(b.ctx, &req); err != nil {
		t.Fatal(err)
	}
	out := model.Payload{ID: model.NewID(model.PrefixPayload), Method: "POST", Path: "/tagged", Query: "a=1",
		Headers: map[string]string{"x-tag": "blue"}, Body: []byte(`{"id":"evt_1","tag":"blue"}`)}
	ok := model.TransformationExecution{ID: model.NewID(model.PrefixExecution), TeamID: b.team.ID, TransformationID: trID,
		ConnectionID: c.ID, RequestID: req.ID, LogLevel: "warn", Logs: []model.ConsoleLine{{Type: "warn", Message: "careful"}},
		OriginalDataID: req.Data.ID, TransformedDataID: out.ID, CreatedAt: now, UpdatedAt: now}
	failed := model.TransformationExecution{ID: model.NewID(model.PrefixExecution), TeamID: b.team.ID, TransformationID: trID,
		ConnectionID: c.ID, RequestID: req.ID, LogLevel: "fatal", Logs: []model.ConsoleLine{{Type: "error", Message: "boom"}},
		OriginalDataID: req.Data.ID, CreatedAt: now.Add(time.Millisecond), UpdatedAt: now.Add(time.Millisecond)}
	ev := newEvent(req, c, now)
	ev.DataID = out.ID
	if err := b.store.CompleteRouting(b.ctx, []store.RoutingOutcome{{RequestID: req.ID, RoutedAt: now,
		Payloads: []model.Payload{out}, Events: []model.Event{ev}, Executions: []model.TransformationExecution{ok, failed},
		Ignored: []model.IgnoredEvent{{ID: model.NewID(model.PrefixIgnored), TeamID: b.team.ID, ConnectionID: c.ID,
			RequestID: req.ID, Cause: model.IgnoredTransformationFailed, Meta: json.RawMessage(`{"transformation_id":"` + trID + `"}`), CreatedAt: now}},
	}}); err != nil {
		t.Fatalf("route: %v", err)
	}

	base := typedV + "/transformations/" + trID + "/executions"
	lists := []struct {
		query string
		want  []string
	}{
		{"", []string{failed.ID, ok.ID}},
		{"?log_level=fatal", []string{failed.ID}},
		{"?log_level[]=warn&log_level[]=error", []string{ok.ID}},
		{"?webhook_id=" + c.ID + "&dir=asc", []string{ok.ID, failed.ID}},
		{"?webhook_id=web_other", []string{}},
		{"?created_at[gte]=" + now.Add(time.Millisecond).Format(time.RFC3339Nano), []string{failed.ID}},
		{"?limit=1", []string{failed.ID}},
	}
	for _, l := range lists {
		if got := models(t, b.must(200, "GET", base+l.query, "")); !slices.Equal(got, l.want) {
			t.Errorf("list %q = %v, want %v", l.query, got, l.want)
		}
	}
	list := b.must(200, "GET", base+"?log_level=warn", "")
	m := get(list, "models", 0)
	if get(m, "original_event_data") != nil || str(m, "webhook_id") != c.ID || str(m, "transformed_event_data_id") != out.ID ||
		str(m, "logs", 0, "message") != "careful" {
		t.Errorf("list model = %v", m)
	}
	withData := b.must(200, "GET", base+"?log_level=warn&include=data", "")
	if str(withData, "models", 0, "transformed_event_data", "body", "tag") != "blue" {
		t.Errorf("list with data = %v", withData["models"])
	}

	one := b.must(200, "GET", base+"/"+ok.ID, "")
	wantKeys := sortedKeys("id", "transformed_event_data_id", "original_event_data_id", "transformation_id", "team_id",
		"webhook_id", "log_level", "logs", "updated_at", "created_at", "original_event_data", "transformed_event_data", "issue_id")
	if got := keys(one); !slices.Equal(got, wantKeys) {
		t.Errorf("execution keys = %v, want %v", got, wantKeys)
	}
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"original_event_data", "body", "id"}, "evt_1"},
		{[]any{"original_event_data", "path"}, "/in"},
		{[]any{"original_event_data", "parsed_query", "x"}, "1"},
		{[]any{"transformed_event_data", "headers", "x-tag"}, "blue"},
		{[]any{"transformed_event_data", "query"}, "a=1"},
		{[]any{"log_level"}, "warn"},
	}
	for _, ch := range checks {
		if got := get(one, ch.path...); got != ch.want {
			t.Errorf("%v = %v, want %v", ch.path, got, ch.want)
		}
	}
	fatal := b.must(200, "GET", base+"/"+failed.ID, "")
	if fatal["transformed_event_data_id"] != nil || fatal["transformed_event_data"] != nil || get(fatal, "original_event_data") == nil {
		t.Errorf("failed execution = %v", fatal)
	}
	b.must(404, "GET", base+"/exc_nope", "")
	b.must(404, "GET", typedV+"/transformations/trs_nope/executions", "")
	other := b.must(200, "POST", typedV+"/transformations", `{"name":"other","code":`+jsonString(identityCode)+`}`)
	b.must(404, "GET", typedV+"/transformations/"+str(other, "id")+"/executions/"+ok.ID, "")
	b.must(400, "GET", base+"?log_level=loud", "")

	// The request's ignored event carries the transformation's id.
	ign := b.must(200, "GET", typedV+"/requests/"+req.ID+"/ignored_events", "")
	if got, _ := json.Marshal(get(ign, "models", 0, "meta")); string(got) != `{"transformation_id":"`+trID+`"}` {
		t.Errorf("ignored meta = %s", got)
	}

	// Running with event_id takes the event's data as the sample.
	run := b.must(200, "PUT", typedV+"/transformations/run", `{"transformation_id":"`+trID+`","env":{"TAG":"run"},"event_id":"`+ev.ID+`"}`)
	if str(run, "request_id") != req.ID || str(run, "request", "body", "tag") != "run" {
		t.Errorf("run from event = %v", run)
	}
}

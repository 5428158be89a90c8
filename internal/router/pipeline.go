package router

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/rules/filter"
	"github.com/sluice-gw/sluice/internal/rules/transform"
	"github.com/sluice-gw/sluice/internal/store"
)

// view is a request as the rules see it, decoded once per request and
// replaced by a transformation's output.
type view struct {
	payload     model.Payload
	body        any
	parsedQuery map[string]any
}

func newView(p model.Payload) view {
	return view{payload: p, body: filter.Decode(p.Body), parsedQuery: transform.ParseQuery(p.Query)}
}

// decision is what a connection's rules make of one request.
type decision struct {
	// ignoredCause is set when the request produces no event.
	ignoredCause string
	ignoredMeta  json.RawMessage
	// data is the payload the event delivers (the request's, or a
	// transformation's output, then also in newPayload).
	data       model.Payload
	newPayload *model.Payload
	execution  *model.TransformationExecution
	dedupKey   string
}

// applyRules runs a connection's transform and filter rules in their order,
// then computes its deduplication key.
func (r *Router) applyRules(ctx context.Context, targets *targetCache, req model.Request, c model.Connection, set rules.Set, in view, now time.Time) (decision, error) {
	d := decision{data: in.payload}
	cur := in
	runFilter := func() bool {
		if set.Filter == nil {
			return true
		}
		ok, failed := set.Filter.Match(filter.Input{Body: cur.body, Headers: cur.payload.Headers, Query: cur.parsedQuery, Path: cur.payload.Path})
		if !ok {
			d.ignoredCause = model.IgnoredFiltered
			d.ignoredMeta, _ = json.Marshal(failed)
		}
		return ok
	}
	if set.FilterFirst && !runFilter() {
		return d, nil
	}
	if set.Transform != nil {
		next, err := r.runTransform(ctx, targets, req, c, set.Transform, cur, &d, now)
		if err != nil {
			return d, err
		}
		if d.ignoredCause != "" {
			return d, nil
		}
		cur = next
	}
	if !set.FilterFirst && !runFilter() {
		return d, nil
	}
	if set.Deduplicate != nil {
		d.dedupKey = set.Deduplicate.Key(rules.Document{Headers: cur.payload.Headers, Body: cur.body, Query: cur.parsedQuery, Path: cur.payload.Path})
	}
	return d, nil
}

// runTransform runs the connection's transformation. A failing run is
// recorded as an execution and makes the request an ignored event
// (TRANSFORMATION_FAILED); an error return means the run could not even be
// attempted (the store is unreachable) and routing should be retried.
func (r *Router) runTransform(ctx context.Context, targets *targetCache, req model.Request, c model.Connection, t *rules.Transform, in view, d *decision, now time.Time) (view, error) {
	exec := &model.TransformationExecution{
		ID:               model.NewID(model.PrefixExecution),
		TeamID:           req.TeamID,
		TransformationID: t.TransformationID,
		ConnectionID:     c.ID,
		RequestID:        req.ID,
		OriginalDataID:   in.payload.ID,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	fail := func(msg string) (view, error) {
		exec.LogLevel = "fatal"
		exec.Logs = append(exec.Logs, model.ConsoleLine{Type: "error", Message: msg})
		d.execution = exec
		d.ignoredCause = model.IgnoredTransformationFailed
		d.ignoredMeta, _ = json.Marshal(map[string]string{"transformation_id": t.TransformationID})
		return view{}, nil
	}
	if r.cfg.Transforms == nil {
		return fail("transformations are not enabled on this server")
	}
	tr, err := targets.transformation(ctx, req.TeamID, t.TransformationID)
	if err != nil {
		if isNotFound(err) {
			return fail(fmt.Sprintf("transformation %s does not exist", t.TransformationID))
		}
		return view{}, err
	}
	res, err := r.cfg.Transforms.Run(ctx, tr.Code, tr.Env, transform.Request{
		Headers: in.payload.Headers, Body: in.body, Path: in.payload.Path, Query: in.payload.Query, ParsedQuery: in.parsedQuery,
	})
	for _, l := range res.Console {
		exec.Logs = append(exec.Logs, model.ConsoleLine{Type: l.Type, Message: l.Message})
	}
	if err != nil {
		return fail(err.Error())
	}
	exec.LogLevel = res.LogLevel
	out := model.Payload{
		ID:      model.NewID(model.PrefixPayload),
		Method:  in.payload.Method,
		Path:    res.Request.Path,
		Query:   res.Request.Query,
		Headers: res.Request.Headers,
	}
	if s, ok := res.Request.Body.(string); ok {
		out.Body = []byte(s)
	} else if res.Request.Body != nil {
		if out.Body, err = json.Marshal(res.Request.Body); err != nil {
			return fail("the transformed body cannot be encoded as JSON: " + err.Error())
		}
	}
	exec.TransformedDataID = out.ID
	d.execution = exec
	d.data = out
	d.newPayload = &out
	return view{payload: out, body: res.Request.Body, parsedQuery: res.Request.ParsedQuery}, nil
}

// pendingDedup ties a deduplication key to the event it may drop.
type pendingDedup struct {
	outcome, event int
	cli            bool
}

// applyDedup asks the store which events duplicate earlier ones and turns
// those into ignored events (cause DEDUPLICATED).
func (r *Router) applyDedup(ctx context.Context, outcomes []store.RoutingOutcome, keys []store.DedupKey, pending []pendingDedup, now time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	dup, err := r.store.CheckDedup(ctx, keys, now)
	if err != nil {
		return fmt.Errorf("check deduplication keys: %w", err)
	}
	// Which events of which outcome to drop, and the key that dropped each.
	drop := map[int]map[int]int{}
	for i, p := range pending {
		if !dup[i] {
			continue
		}
		if drop[p.outcome] == nil {
			drop[p.outcome] = map[int]int{}
		}
		drop[p.outcome][p.event] = i
		if p.cli {
			outcomes[p.outcome].CLIEvents--
		}
	}
	for oi, events := range drop {
		out := &outcomes[oi]
		kept := out.Events[:0]
		for ei, ev := range out.Events {
			ki, dropped := events[ei]
			if !dropped {
				kept = append(kept, ev)
				continue
			}
			meta, _ := json.Marshal(map[string]string{"deduplicate_key": keys[ki].Hash})
			out.Ignored = append(out.Ignored, model.IgnoredEvent{
				ID: model.NewID(model.PrefixIgnored), TeamID: ev.TeamID, ConnectionID: ev.ConnectionID,
				RequestID: ev.RequestID, Cause: model.IgnoredDeduplicated, Meta: meta, CreatedAt: now,
			})
		}
		out.Events = kept
	}
	return nil
}

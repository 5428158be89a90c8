package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/store"
)

// A connection's transform rule references a stored transformation by
// transformation_id, or defines one inline under transformation {name,
// code, env}. On write the API resolves the inline form: the
// transformation of that name is updated with the given code (and env, when
// given) or created, and the stored rule becomes
// {"type":"transform","transformation_id":"trs_…"}. A rule with both fields
// updates the transformation of that id with the inline definition; an
// inline name alone references the existing transformation of that name.
// Every check (rule syntax, code, names, ids) runs before anything is
// written.

// transformRuleInput is the part of a transform rule the API resolves.
type transformRuleInput struct {
	TransformationID *string                  `json:"transformation_id"`
	Transformation   opt[transformationInput] `json:"transformation"`
}

// ruleWrite is one transformation a rules array needs written.
type ruleWrite struct {
	index int
	in    transformationInput
	// byID is the transformation the rule names by id, when it does.
	byID *model.Transformation
}

// rulesPlan is a checked rules array whose inline transformations are not
// written yet.
type rulesPlan struct {
	given  opt[json.RawMessage]
	items  []json.RawMessage
	writes []ruleWrite
}

// planRules validates a rules array (rules.Parse, then every transform
// rule's transformation: an id that must exist, inline code that must
// compile, names that must be free or be the one updated) without writing.
// Errors are 422s naming rules[i].field.
func (s *server) planRules(ctx context.Context, given opt[json.RawMessage]) (*rulesPlan, error) {
	p := &rulesPlan{given: given}
	if !given.has() {
		return p, nil
	}
	if _, err := rules.Parse(given.V); err != nil {
		return nil, rulesError(err)
	}
	if err := json.Unmarshal(given.V, &p.items); err != nil {
		return nil, invalid("rules", "must be an array of rule objects")
	}
	for i, item := range p.items {
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(item, &head) // rules.Parse checked the shape
		if head.Type != rules.TypeTransform {
			continue
		}
		w, err := s.planTransformRule(ctx, i, item)
		if err != nil {
			return nil, err
		}
		if w != nil {
			p.writes = append(p.writes, *w)
		}
	}
	return p, nil
}

// resolveRuleNames resolves the named transformations of the input's
// rules (see resolveNamedTransforms); it runs before anything checks them.
func (s *server) resolveRuleNames(ctx context.Context, in *connectionInput) error {
	if !in.Rules.has() {
		return nil
	}
	raw, err := s.resolveNamedTransforms(ctx, in.Rules.V)
	if err != nil {
		return err
	}
	in.Rules.V = raw
	return nil
}

// resolveNamedTransforms rewrites each transform rule that only names an
// existing transformation ({"type":"transform","transformation":{"name":…}},
// as the Hookdeck CLI's --rule-transform-name sends it) into a reference
// by id. Anything else, and a name no transformation has, is left for
// rules.Parse and planTransformRule to judge.
func (s *server) resolveNamedTransforms(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return raw, nil
	}
	changed := false
	for i, item := range items {
		var r struct {
			Type             string                     `json:"type"`
			TransformationID *string                    `json:"transformation_id"`
			Transformation   map[string]json.RawMessage `json:"transformation"`
		}
		if json.Unmarshal(item, &r) != nil || r.Type != rules.TypeTransform || r.TransformationID != nil || len(r.Transformation) != 1 {
			continue
		}
		var name string
		if json.Unmarshal(r.Transformation["name"], &name) != nil || name == "" {
			continue
		}
		t, err := s.cfg.Store.GetTransformationByName(ctx, s.cfg.Team.ID, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("find transformation %q: %w", name, err)
		}
		items[i], _ = json.Marshal(struct {
			Type             string `json:"type"`
			TransformationID string `json:"transformation_id"`
		}{rules.TypeTransform, t.ID})
		changed = true
	}
	if !changed {
		return raw, nil
	}
	out, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}

// planTransformRule checks the transform rule at index i and returns the
// transformation write it needs (nil when it only references one).
func (s *server) planTransformRule(ctx context.Context, i int, item json.RawMessage) (*ruleWrite, error) {
	var r transformRuleInput
	if err := json.Unmarshal(item, &r); err != nil {
		return nil, ruleInvalid(i, "transformation", err.Error())
	}
	w := &ruleWrite{index: i, in: r.Transformation.V}
	if r.TransformationID != nil && *r.TransformationID != "" {
		t, err := s.cfg.Store.GetTransformation(ctx, s.cfg.Team.ID, *r.TransformationID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ruleInvalid(i, "transformation_id", fmt.Sprintf("no transformation has id %q", *r.TransformationID))
		}
		if err != nil {
			return nil, fmt.Errorf("load transformation %s: %w", *r.TransformationID, err)
		}
		if !r.Transformation.has() {
			return nil, nil
		}
		w.byID = &t
	}
	if !r.Transformation.has() {
		return nil, ruleInvalid(i, "transformation_id", "is required (or define one inline under transformation)")
	}
	field := fmt.Sprintf("rules[%d].transformation", i)
	in := w.in
	if err := checkName(field+".name", in.Name.V); err != nil {
		return nil, withRuleIndex(err, i, "transformation.name")
	}
	if !in.Code.has() || in.Code.V == "" {
		return nil, ruleInvalid(i, "transformation.code", "is required")
	}
	if err := s.checkCode(field+".code", in.Code.V); err != nil {
		return nil, withRuleIndex(err, i, "transformation.code")
	}
	if w.byID != nil && w.byID.Name != in.Name.V {
		other, err := s.cfg.Store.GetTransformationByName(ctx, s.cfg.Team.ID, in.Name.V)
		switch {
		case err == nil && other.ID != w.byID.ID:
			return nil, nameTaken(field+".name", "transformation", in.Name.V)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("find transformation %q: %w", in.Name.V, err)
		}
	}
	return w, nil
}

// commit writes the planned transformations and returns the rules array
// to store, each inline transformation replaced by its id.
func (p *rulesPlan) commit(ctx context.Context, s *server) (opt[json.RawMessage], error) {
	if p == nil || len(p.writes) == 0 {
		if p == nil {
			return opt[json.RawMessage]{}, nil
		}
		return p.given, nil
	}
	for _, w := range p.writes {
		field := fmt.Sprintf("rules[%d].transformation", w.index)
		var t model.Transformation
		var err error
		if w.byID != nil {
			t = *w.byID
			if err = s.applyTransformation(w.in, &t, field); err == nil {
				err = s.writeTransformation(ctx, &t, field)
			}
		} else {
			t, err = s.upsertTransformationFrom(ctx, w.in, field)
		}
		if err != nil {
			return p.given, err
		}
		ref, _ := json.Marshal(struct {
			Type             string `json:"type"`
			TransformationID string `json:"transformation_id"`
		}{rules.TypeTransform, t.ID})
		p.items[w.index] = ref
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, it := range p.items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it)
	}
	buf.WriteByte(']')
	return opt[json.RawMessage]{Set: true, V: buf.Bytes()}, nil
}

// prepareRules checks the rules of a connection update with the rest of
// the input, writes their inline transformations and returns the input
// with the rules to store.
func (s *server) prepareRules(ctx context.Context, in connectionInput) (connectionInput, error) {
	if err := s.resolveRuleNames(ctx, &in); err != nil {
		return in, err
	}
	if err := applyConnection(in, &model.Connection{}); err != nil {
		return in, err
	}
	plan, err := s.planRules(ctx, in.Rules)
	if err != nil {
		return in, err
	}
	in.Rules, err = plan.commit(ctx, s)
	return in, err
}

// ruleInvalid is a 422 naming rules[i].field, with the index and rule
// field in data as rulesError gives them.
func ruleInvalid(i int, field, msg string) error {
	return rulesError(&rules.ValidationError{Index: i, Field: field, Message: msg})
}

// withRuleIndex adds the rule index and field to a 422's data.
func withRuleIndex(err error, i int, field string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Data != nil {
		ae.Data["index"], ae.Data["rule_field"] = i, field
	}
	return err
}

package rules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsNameRuleAndField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rules string
		index       int
		field       string
	}{
		{"not array", `{"type":"retry"}`, -1, ""},
		{"missing type", `[{"strategy":"linear"}]`, 0, "type"},
		{"unknown type", `[{"type":"retry","strategy":"linear"},{"type":"teleport"}]`, 1, "type"},
		{"bad strategy", `[{"type":"retry","strategy":"sometimes"}]`, 0, "strategy"},
		{"count too high", `[{"type":"retry","strategy":"linear","count":51}]`, 0, "count"},
		{"interval wrong type", `[{"type":"retry","strategy":"linear","interval":"soon"}]`, 0, "interval"},
		{"unknown field", `[{"type":"retry","strategy":"linear","tries":3}]`, 0, "tries"},
		{"bad status expr", `[{"type":"retry","strategy":"linear","response_status_codes":["5xx"]}]`, 0, "response_status_codes"},
		{"duplicate", `[{"type":"delay","delay":1},{"type":"delay","delay":2}]`, 1, "type"},
		{"delay missing", `[{"type":"delay"}]`, 0, "delay"},
		{"delay negative", `[{"type":"delay","delay":-5}]`, 0, "delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(json.RawMessage(tt.rules))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse(%s) = %v, want *ValidationError", tt.rules, err)
			}
			if ve.Index != tt.index || ve.Field != tt.field {
				t.Fatalf("error %q names rules[%d].%s, want rules[%d].%s", ve, ve.Index, ve.Field, tt.index, tt.field)
			}
			if !strings.Contains(ve.Error(), "rules[") {
				t.Fatalf("message %q does not say where", ve)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "null", "[]", " [ ] "} {
		set, err := Parse(json.RawMessage(raw))
		if err != nil || set.Retry != nil || set.Delay != nil {
			t.Fatalf("Parse(%q) = %+v, %v", raw, set, err)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	status := func(v int) *int { return &v }
	tests := []struct {
		name    string
		rule    string
		attempt int
		status  *int
		wantOK  bool
		wantIn  time.Duration
	}{
		{"linear first", `{"type":"retry","strategy":"linear","count":2,"interval":1000}`, 1, status(500), true, time.Second},
		{"linear second", `{"type":"retry","strategy":"linear","count":2,"interval":1000}`, 2, status(500), true, time.Second},
		{"linear exhausted", `{"type":"retry","strategy":"linear","count":2,"interval":1000}`, 3, status(500), false, 0},
		{"exponential third", `{"type":"retry","strategy":"exponential","count":5,"interval":1000}`, 3, nil, true, 4 * time.Second},
		{"default count", `{"type":"retry","strategy":"linear"}`, 5, nil, true, DefaultRetryInterval},
		{"zero count", `{"type":"retry","strategy":"linear","count":0}`, 1, nil, false, 0},
		{"status range hit", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["500-599"]}`, 1, status(503), true, 10 * time.Millisecond},
		{"status range miss", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["500-599"]}`, 1, status(404), false, 0},
		{"no response always retried", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["500-599"]}`, 1, nil, true, 10 * time.Millisecond},
		{"exclusion only", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["!401"]}`, 1, status(401), false, 0},
		{"exclusion passes others", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["!401"]}`, 1, status(429), true, 10 * time.Millisecond},
		{"comparison", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":[">=500", 429]}`, 1, status(429), true, 10 * time.Millisecond},
		{"comparison miss", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":[">=500", 429]}`, 1, status(404), false, 0},
		{"include with exclusion", `{"type":"retry","strategy":"linear","count":3,"interval":10,"response_status_codes":["400-599","!404"]}`, 1, status(404), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse(json.RawMessage("[" + tt.rule + "]"))
			if err != nil {
				t.Fatal(err)
			}
			at, ok := set.Retry.NextRetry(tt.attempt, tt.status, t0)
			if ok != tt.wantOK {
				t.Fatalf("NextRetry ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && at.Sub(t0) != tt.wantIn {
				t.Fatalf("NextRetry in %v, want %v", at.Sub(t0), tt.wantIn)
			}
		})
	}
}

func TestNilRetryNeverRetries(t *testing.T) {
	t.Parallel()
	var r *Retry
	if _, ok := r.NextRetry(1, nil, time.Now()); ok {
		t.Fatal("nil rule retried")
	}
}

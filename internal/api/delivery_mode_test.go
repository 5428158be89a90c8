package api

import (
	"testing"

	"github.com/sluice-gw/sluice/internal/model"
)

// config.delivery_mode (typed) and delivery_mode (legacy) set a
// destination's ordered delivery; it is rendered back only when ordered.
func TestDeliveryMode(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name, version, body string
		path                []any
		want                string
	}{
		{"typed", typedV, `{"name":"ord-typed","type":"HTTP","config":{"url":"http://127.0.0.1:9/","delivery_mode":"ordered"}}`,
			[]any{"config", "delivery_mode"}, model.DeliveryOrdered},
		{"legacy", legacyV, `{"name":"ord-legacy","url":"http://127.0.0.1:9/","delivery_mode":"ORDERED"}`,
			[]any{"delivery_mode"}, model.DeliveryOrdered},
		{"typed parallel", typedV, `{"name":"par-typed","type":"HTTP","config":{"url":"http://127.0.0.1:9/","delivery_mode":"parallel"}}`,
			[]any{"config", "delivery_mode"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.must(200, "POST", tc.version+"/destinations", tc.body)
			if v := get(got, tc.path...); tc.want == "" && v != nil || tc.want != "" && v != tc.want {
				t.Fatalf("delivery_mode = %v, want %q", v, tc.want)
			}
			d, err := b.store.GetDestination(b.ctx, b.team.ID, str(got, "id"))
			if err != nil {
				t.Fatal(err)
			}
			if d.Config.DeliveryMode != tc.want {
				t.Fatalf("stored delivery mode = %q, want %q", d.Config.DeliveryMode, tc.want)
			}
		})
	}
	r := b.call("POST", typedV+"/destinations", `{"name":"bad","type":"HTTP","config":{"url":"http://127.0.0.1:9/","delivery_mode":"fifo"}}`)
	if r.status != 422 && r.status != 400 {
		t.Fatalf("invalid delivery_mode answered %d: %s", r.status, r.raw)
	}
}

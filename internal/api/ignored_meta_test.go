package api

import (
	"encoding/json"
	"testing"

	"github.com/sluice-gw/sluice/internal/model"
)

func TestIgnoredMeta(t *testing.T) {
	cases := []struct {
		name, cause, stored, want string
	}{
		{"filtered parts in OpenAPI order", model.IgnoredFiltered, `["query","body"]`, `["body","query"]`},
		{"filtered unknown parts dropped", model.IgnoredFiltered, `["body","elsewhere"]`, `["body"]`},
		{"filtered without meta", model.IgnoredFiltered, ``, `[]`},
		{"transformation failed", model.IgnoredTransformationFailed, `{"transformation_id":"trs_1","extra":1}`, `{"transformation_id":"trs_1"}`},
		{"transformation failed without id", model.IgnoredTransformationFailed, `{}`, `null`},
		{"deduplicated", model.IgnoredDeduplicated, `{"deduplicate_key":"abc"}`, `{"deduplicate_key":"abc"}`},
		{"deduplicated without key", model.IgnoredDeduplicated, `null`, `null`},
		{"disabled", model.IgnoredDisabled, `{"x":1}`, `null`},
		{"cli disconnected", model.IgnoredCLIDisconnected, ``, `null`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(ignoredMeta(c.cause, json.RawMessage(c.stored))); got != c.want {
				t.Errorf("meta = %s, want %s", got, c.want)
			}
		})
	}
}

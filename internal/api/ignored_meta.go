package api

import (
	"bytes"
	"encoding/json"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules/filter"
)

// filterParts are the parts a filter rule checks, in the order OpenAPI
// FilteredMeta lists them.
var filterParts = []string{filter.PartBody, filter.PartHeaders, filter.PartPath, filter.PartQuery}

// ignoredMeta renders an ignored event's meta as OpenAPI IgnoredEvent.meta
// has it for the cause: FILTERED is the array of the filter's parts that
// did not match (FilteredMeta), TRANSFORMATION_FAILED is
// {transformation_id} (TransformationFailedMeta), DEDUPLICATED (Sluice's
// addition to the causes) is {deduplicate_key}, the digest of the fields
// the deduplicate rule compared. Other causes have null.
func ignoredMeta(cause string, raw json.RawMessage) json.RawMessage {
	null := json.RawMessage("null")
	raw = bytes.TrimSpace(raw)
	switch cause {
	case model.IgnoredFiltered:
		var parts []string
		_ = json.Unmarshal(raw, &parts)
		out := []string{}
		for _, p := range filterParts {
			for _, got := range parts {
				if got == p {
					out = append(out, p)
					break
				}
			}
		}
		b, _ := json.Marshal(out)
		return b
	case model.IgnoredTransformationFailed:
		var m struct {
			TransformationID string `json:"transformation_id"`
		}
		if json.Unmarshal(raw, &m) != nil || m.TransformationID == "" {
			return null
		}
		b, _ := json.Marshal(m)
		return b
	case model.IgnoredDeduplicated:
		var m struct {
			DeduplicateKey string `json:"deduplicate_key"`
		}
		if json.Unmarshal(raw, &m) != nil || m.DeduplicateKey == "" {
			return null
		}
		b, _ := json.Marshal(m)
		return b
	}
	return null
}

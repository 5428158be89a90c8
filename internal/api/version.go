package api

import (
	"context"
	"strings"
	"time"
)

// The dates at which Hookdeck's API changed shapes that Sluice renders.
var (
	// typedSince is the first version of the typed dialect (source and
	// destination config objects); earlier dates speak the legacy dialect.
	typedSince = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// retryEventSince is the first version whose event retry answers the
	// Event itself rather than {"event":…,"attempt":…}.
	retryEventSince = time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
)

// version is the API version a request named in its path prefix.
type version struct {
	date time.Time
}

// legacy reports whether the version speaks the legacy dialect.
func (v version) legacy() bool { return v.date.Before(typedSince) }

// retryAnswersEvent reports whether POST /events/{id}/retry answers the
// bare Event.
func (v version) retryAnswersEvent() bool { return !v.date.Before(retryEventSince) }

type versionKey struct{}

// versionOf returns the request's API version (the typed dialect when the
// request did not come through the version prefix, as in unit tests).
func versionOf(ctx context.Context) version {
	if v, ok := ctx.Value(versionKey{}).(version); ok {
		return v
	}
	return version{date: typedSince}
}

// splitVersion splits "/2024-09-01/events/x" into the version and
// "/events/x". ok is false when the path has no valid date prefix.
func splitVersion(path string) (v version, rest string, ok bool) {
	p := strings.TrimPrefix(path, "/")
	seg, tail, _ := strings.Cut(p, "/")
	if len(seg) != len("2006-01-02") {
		return v, "", false
	}
	d, err := time.Parse("2006-01-02", seg)
	if err != nil {
		return v, "", false
	}
	return version{date: d}, "/" + tail, true
}

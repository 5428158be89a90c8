package compat

import (
	"context"
	"net/http"
	"testing"
	"time"

	hookdeck "github.com/hookdeck/hookdeck-go-sdk"
	hookdeckclient "github.com/hookdeck/hookdeck-go-sdk/client"
	"github.com/hookdeck/hookdeck-go-sdk/option"

	"github.com/sluice-gw/sluice/compat/oascheck"
)

// sdkVersion is the API version the Go SDK v0.7.0 is generated for.
const sdkVersion = "2024-09-01"

// TestGoSDK drives the Hookdeck Go SDK v0.7.0 against sluice: every call
// must decode without error, the state must be right, and every answer
// must match the 2025-07-01 document (legacy source/destination fields
// aside, see package oascheck).
func TestGoSDK(t *testing.T) {
	v := openAPI(t)
	forEachBackend(t, func(t *testing.T, b backend) {
		g := start(t, b)
		rec := oascheck.NewRecorder(v)
		c := hookdeckclient.NewClient(
			option.WithBaseURL(g.apiURL+"/"+sdkVersion),
			option.WithToken(apiKey),
			option.WithHTTPClient(&http.Client{Transport: &oascheck.Transport{Rec: rec}, Timeout: 30 * time.Second}),
			option.WithMaxAttempts(1),
		)
		runSDK(t, g, c)
		requireValid(t, rec)
	})
}

// runSDK is the SDK scenario on one gateway.
func runSDK(t *testing.T, g *gateway, c *hookdeckclient.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dst := newApp(t)
	const headerKey, sourceKey = "x-sdk-key", "sdk-source-secret-123"

	// Upsert a connection with an inline source (API-key verification)
	// and an inline destination.
	conn, err := c.Connection.Upsert(ctx, &hookdeck.ConnectionUpsertRequest{
		Name: hookdeck.Optional("sdk-conn"),
		Source: hookdeck.Optional(hookdeck.ConnectionUpsertRequestSource{
			Name: "sdk-src",
			Verification: hookdeck.NewVerificationConfigFromApiKey(&hookdeck.VerificationApiKey{
				Configs: &hookdeck.VerificationApiKeyConfigs{HeaderKey: headerKey, ApiKey: sourceKey},
			}),
		}),
		Destination: hookdeck.Optional(hookdeck.ConnectionUpsertRequestDestination{
			Name: "sdk-dst", Url: hookdeck.String(dst.URL + "/hooks"),
		}),
	})
	if err != nil {
		t.Fatalf("Connection.Upsert: %v", err)
	}
	switch {
	case conn.Name == nil || *conn.Name != "sdk-conn":
		t.Errorf("upserted connection name = %v", conn.Name)
	case conn.Source == nil || conn.Source.Name != "sdk-src" || conn.Source.Url == "":
		t.Fatalf("upserted connection source = %+v", conn.Source)
	case conn.Source.Verification == nil || conn.Source.Verification.Type != "api_key":
		t.Errorf("source verification = %+v, want type api_key", conn.Source.Verification)
	case conn.Destination == nil || conn.Destination.Url == nil || *conn.Destination.Url != dst.URL+"/hooks":
		t.Errorf("upserted connection destination = %+v", conn.Destination)
	case conn.PausedAt != nil || conn.DisabledAt != nil:
		t.Errorf("new connection paused_at=%v disabled_at=%v, want null", conn.PausedAt, conn.DisabledAt)
	}
	src, des := conn.Source, conn.Destination

	// Upserting again with the same names updates, not duplicates.
	again, err := c.Connection.Upsert(ctx, &hookdeck.ConnectionUpsertRequest{
		Name:          hookdeck.Optional("sdk-conn"),
		SourceId:      hookdeck.Optional(src.Id),
		DestinationId: hookdeck.Optional(des.Id),
		Description:   hookdeck.Optional("from the Go SDK"),
	})
	if err != nil {
		t.Fatalf("Connection.Upsert again: %v", err)
	}
	if again.Id != conn.Id || again.Description == nil || *again.Description != "from the Go SDK" {
		t.Errorf("second upsert = id %s description %v, want id %s and the description", again.Id, again.Description, conn.Id)
	}

	// List and get connections, sources, destinations.
	conns, err := c.Connection.List(ctx, &hookdeck.ConnectionListRequest{SourceId: []*string{&src.Id}})
	if err != nil {
		t.Fatalf("Connection.List: %v", err)
	}
	if len(conns.Models) != 1 || conns.Models[0].Id != conn.Id || conns.Count == nil || *conns.Count != 1 {
		t.Errorf("Connection.List = %d models, count %v, want the connection", len(conns.Models), conns.Count)
	}
	if got, err := c.Connection.Retrieve(ctx, conn.Id); err != nil {
		t.Fatalf("Connection.Retrieve: %v", err)
	} else if got.Id != conn.Id || got.Source == nil || got.Source.Id != src.Id {
		t.Errorf("Connection.Retrieve = %+v", got)
	}
	srcs, err := c.Source.List(ctx, &hookdeck.SourceListRequest{Name: hookdeck.String("sdk-src")})
	if err != nil {
		t.Fatalf("Source.List: %v", err)
	}
	if len(srcs.Models) != 1 || srcs.Models[0].Id != src.Id {
		t.Errorf("Source.List by name = %d models, want the source", len(srcs.Models))
	}
	gotSrc, err := c.Source.Retrieve(ctx, src.Id, &hookdeck.SourceRetrieveRequest{Include: hookdeck.String("verification.configs")})
	if err != nil {
		t.Fatalf("Source.Retrieve: %v", err)
	}
	if v := gotSrc.Verification; v == nil || v.ApiKey == nil || v.ApiKey.Configs == nil ||
		v.ApiKey.Configs.ApiKey != sourceKey || v.ApiKey.Configs.HeaderKey != headerKey {
		t.Errorf("Source.Retrieve with verification.configs = %+v, want the API key in full", v)
	}
	dsts, err := c.Destination.List(ctx, &hookdeck.DestinationListRequest{})
	if err != nil {
		t.Fatalf("Destination.List: %v", err)
	}
	if len(dsts.Models) != 1 || dsts.Models[0].Id != des.Id {
		t.Errorf("Destination.List = %d models, want the destination", len(dsts.Models))
	}
	if got, err := c.Destination.Retrieve(ctx, des.Id); err != nil {
		t.Fatalf("Destination.Retrieve: %v", err)
	} else if got.Url == nil || *got.Url != dst.URL+"/hooks" {
		t.Errorf("Destination.Retrieve url = %v", got.Url)
	}

	// A real webhook to source.url, verified by its API key.
	if code := send(t, src.Url, map[string]string{headerKey: sourceKey}, `{"type":"sdk.test","n":1}`); code != http.StatusOK {
		t.Fatalf("webhook to %s = %d, want 200", src.Url, code)
	}
	if code := send(t, src.Url, nil, `{"type":"sdk.unverified"}`); code != http.StatusUnauthorized {
		t.Errorf("unverified webhook = %d, want 401 (recorded as a rejected request)", code)
	}
	var evt *hookdeck.Event
	waitFor(t, 20*time.Second, "the event to be delivered", func() bool {
		evs, err := c.Event.List(ctx, &hookdeck.EventListRequest{WebhookId: []*string{&conn.Id}})
		if err != nil {
			t.Fatalf("Event.List: %v", err)
		}
		if len(evs.Models) == 1 && evs.Models[0].Status == hookdeck.EventStatusSuccessful {
			evt = evs.Models[0]
			return true
		}
		return false
	})
	if evt.Attempts != 1 || evt.ResponseStatus == nil || *evt.ResponseStatus != 200 {
		t.Errorf("delivered event attempts=%d response_status=%v, want 1 and 200", evt.Attempts, evt.ResponseStatus)
	}
	if got := dst.received(); len(got) != 1 || got[0].Path != "/hooks" {
		t.Errorf("destination received %+v, want one POST /hooks", got)
	}
	if full, err := c.Event.Retrieve(ctx, evt.Id); err != nil {
		t.Fatalf("Event.Retrieve: %v", err)
	} else if full.Data == nil {
		t.Errorf("Event.Retrieve has no data")
	}

	reqs, err := c.Request.List(ctx, &hookdeck.RequestListRequest{SourceId: []*string{&src.Id}})
	if err != nil {
		t.Fatalf("Request.List: %v", err)
	}
	if len(reqs.Models) != 2 {
		t.Fatalf("Request.List = %d requests, want 2 (one verified, one rejected)", len(reqs.Models))
	}
	rejected := 0
	for _, r := range reqs.Models {
		if r.RejectionCause != "" {
			rejected++
			if r.Verified == nil || *r.Verified {
				t.Errorf("rejected request verified = %v, want false", r.Verified)
			}
		}
	}
	if rejected != 1 {
		t.Errorf("rejected requests = %d, want 1", rejected)
	}
	if got, err := c.Request.Retrieve(ctx, evt.RequestId); err != nil {
		t.Fatalf("Request.Retrieve: %v", err)
	} else if got.Id != evt.RequestId || got.Data == nil {
		t.Errorf("Request.Retrieve = %+v", got)
	}
	if evs, err := c.Request.ListEvent(ctx, evt.RequestId, &hookdeck.RequestListEventRequest{}); err != nil {
		t.Fatalf("Request.ListEvent: %v", err)
	} else if len(evs.Models) != 1 || evs.Models[0].Id != evt.Id {
		t.Errorf("Request.ListEvent = %d events, want the event", len(evs.Models))
	}

	atts, err := c.Attempt.List(ctx, &hookdeck.AttemptListRequest{EventId: []*string{&evt.Id}})
	if err != nil {
		t.Fatalf("Attempt.List: %v", err)
	}
	if len(atts.Models) != 1 || atts.Models[0].Status != hookdeck.AttemptStatusSuccessful {
		t.Fatalf("Attempt.List = %d attempts, want 1 successful", len(atts.Models))
	}
	if got, err := c.Attempt.Retrieve(ctx, atts.Models[0].Id); err != nil {
		t.Fatalf("Attempt.Retrieve: %v", err)
	} else if got.EventId != evt.Id {
		t.Errorf("Attempt.Retrieve event_id = %s, want %s", got.EventId, evt.Id)
	}

	// Retry: the event gets one more attempt.
	retried, err := c.Event.Retry(ctx, evt.Id)
	if err != nil {
		t.Fatalf("Event.Retry: %v", err)
	}
	if retried.Id != evt.Id || retried.Attempts != evt.Attempts+1 {
		t.Errorf("Event.Retry = id %s attempts %d, want %s with %d", retried.Id, retried.Attempts, evt.Id, evt.Attempts+1)
	}
	atts, err = c.Attempt.List(ctx, &hookdeck.AttemptListRequest{EventId: []*string{&evt.Id}})
	if err != nil {
		t.Fatalf("Attempt.List after retry: %v", err)
	}
	if len(atts.Models) != 2 {
		t.Errorf("attempts after retry = %d, want 2", len(atts.Models))
	}
	if len(dst.received()) != 2 {
		t.Errorf("destination received %d requests after the retry, want 2", len(dst.received()))
	}

	// Pause sets paused_at and holds new events; unpause delivers them.
	paused, err := c.Connection.Pause(ctx, conn.Id)
	if err != nil {
		t.Fatalf("Connection.Pause: %v", err)
	}
	if paused.PausedAt == nil {
		t.Fatalf("Connection.Pause: paused_at is null")
	}
	if code := send(t, src.Url, map[string]string{headerKey: sourceKey}, `{"type":"sdk.paused"}`); code != http.StatusOK {
		t.Fatalf("webhook while paused = %d", code)
	}
	hold := hookdeck.EventStatusHold
	waitFor(t, 20*time.Second, "an event on HOLD", func() bool {
		evs, err := c.Event.List(ctx, &hookdeck.EventListRequest{WebhookId: []*string{&conn.Id}, Status: &hold})
		if err != nil {
			t.Fatalf("Event.List status=HOLD: %v", err)
		}
		return len(evs.Models) == 1
	})
	unpaused, err := c.Connection.Unpause(ctx, conn.Id)
	if err != nil {
		t.Fatalf("Connection.Unpause: %v", err)
	}
	if unpaused.PausedAt != nil {
		t.Errorf("Connection.Unpause: paused_at = %v, want null", unpaused.PausedAt)
	}
	waitFor(t, 20*time.Second, "the held event to be delivered", func() bool { return len(dst.received()) == 3 })
}

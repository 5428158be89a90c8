package compat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	hookdeck "github.com/hookdeck/hookdeck-go-sdk"
	hookdeckclient "github.com/hookdeck/hookdeck-go-sdk/client"
	"github.com/hookdeck/hookdeck-go-sdk/option"

	"github.com/sluice-gw/sluice/compat/oascheck"
)

// TestGoSDKResources drives more of the Go SDK: source and destination
// upserts with HMAC verification, a custom response and bearer-token
// auth, connection create/count/disable/enable, raw bodies, request
// retry, event mute, delete, and the SDK's decoding of 404 and 422.
func TestGoSDKResources(t *testing.T) {
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
		runSDKResources(t, c)
		requireValid(t, rec)
	})
}

// runSDKResources is the resources scenario on one gateway.
func runSDKResources(t *testing.T, c *hookdeckclient.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dst := newApp(t)
	const secret, token = "hmac-secret-0123456789", "bearer-token-0123456789"

	src, err := c.Source.Upsert(ctx, &hookdeck.SourceUpsertRequest{
		Name:               "sdk-hmac",
		AllowedHttpMethods: hookdeck.Optional(hookdeck.SourceAllowedHttpMethod{hookdeck.SourceAllowedHttpMethodItemPost}),
		CustomResponse: hookdeck.Optional(hookdeck.SourceCustomResponse{
			ContentType: hookdeck.SourceCustomResponseContentTypeJson, Body: `{"received":true}`,
		}),
		Verification: hookdeck.Optional(*hookdeck.NewVerificationConfigFromHmac(&hookdeck.VerificationHmac{
			Configs: &hookdeck.VerificationHmacConfigs{WebhookSecretKey: secret, Algorithm: hookdeck.HmacAlgorithmsSha256,
				HeaderKey: "x-signature", Encoding: hookdeck.VerificationHmacConfigsEncodingHex},
		})),
	})
	if err != nil {
		t.Fatalf("Source.Upsert: %v", err)
	}
	if src.Verification == nil || src.Verification.Type != "hmac" || src.CustomResponse == nil ||
		src.AllowedHttpMethods == nil || len(*src.AllowedHttpMethods) != 1 {
		t.Errorf("Source.Upsert = verification %+v custom_response %+v methods %v", src.Verification, src.CustomResponse, src.AllowedHttpMethods)
	}
	if src.Verification != nil && src.Verification.Hmac != nil && src.Verification.Hmac.Configs != nil &&
		src.Verification.Hmac.Configs.WebhookSecretKey == secret {
		t.Errorf("the HMAC secret is echoed in full")
	}

	des, err := c.Destination.Upsert(ctx, &hookdeck.DestinationUpsertRequest{
		Name: "sdk-bearer", Url: hookdeck.Optional(dst.URL + "/in"),
		RateLimit:       hookdeck.Optional(100),
		RateLimitPeriod: hookdeck.Optional(hookdeck.DestinationUpsertRequestRateLimitPeriodSecond),
		HttpMethod:      hookdeck.Optional(hookdeck.DestinationHttpMethodPut),
		AuthMethod: hookdeck.Optional(*hookdeck.NewDestinationAuthMethodConfigFromBearerToken(&hookdeck.AuthBearerToken{
			Config: &hookdeck.DestinationAuthMethodBearerTokenConfig{Token: token},
		})),
	})
	if err != nil {
		t.Fatalf("Destination.Upsert: %v", err)
	}
	if des.AuthMethod == nil || des.AuthMethod.Type != "BEARER_TOKEN" || des.RateLimit == nil || *des.RateLimit != 100 ||
		des.HttpMethod == nil || *des.HttpMethod != hookdeck.DestinationHttpMethodPut {
		t.Errorf("Destination.Upsert = auth %+v rate_limit %v http_method %v", des.AuthMethod, des.RateLimit, des.HttpMethod)
	}

	conn, err := c.Connection.Create(ctx, &hookdeck.ConnectionCreateRequest{
		Name: hookdeck.Optional("sdk-created"), SourceId: hookdeck.Optional(src.Id), DestinationId: hookdeck.Optional(des.Id),
	})
	if err != nil {
		t.Fatalf("Connection.Create: %v", err)
	}
	if n, err := c.Connection.Count(ctx, &hookdeck.ConnectionCountRequest{SourceId: []*string{&src.Id}}); err != nil {
		t.Fatalf("Connection.Count: %v", err)
	} else if n.Count != 1 {
		t.Errorf("Connection.Count = %v, want 1", n.Count)
	}
	if got, err := c.Connection.Disable(ctx, conn.Id); err != nil || got.DisabledAt == nil {
		t.Fatalf("Connection.Disable: %v, disabled_at %v", err, got)
	}
	if got, err := c.Connection.Enable(ctx, conn.Id); err != nil || got.DisabledAt != nil {
		t.Fatalf("Connection.Enable: %v, %v", err, got)
	}

	// An HMAC-signed webhook gets the custom response and is delivered
	// with the destination's method and bearer token.
	body := `{"type":"sdk.signed"}`
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, src.Url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(answer) != `{"received":true}` {
		t.Errorf("signed webhook = %d %q, want 200 with the custom response", resp.StatusCode, answer)
	}
	waitFor(t, 20*time.Second, "the signed webhook at the destination", func() bool { return len(dst.received()) == 1 })
	if got := dst.received()[0]; got.Method != http.MethodPut || got.Header.Get("Authorization") != "Bearer "+token {
		t.Errorf("destination got %s with Authorization %q, want PUT with the bearer token", got.Method, got.Header.Get("Authorization"))
	}

	evs, err := c.Event.List(ctx, &hookdeck.EventListRequest{WebhookId: []*string{&conn.Id}})
	if err != nil || len(evs.Models) != 1 {
		t.Fatalf("Event.List: %v (%d events)", err, len(evs.Models))
	}
	evt := evs.Models[0]
	if raw, err := c.Event.RetrieveBody(ctx, evt.Id); err != nil || raw.Body != body {
		t.Errorf("Event.RetrieveBody = %v, %v; want the body", raw, err)
	}
	if raw, err := c.Request.RetrieveBody(ctx, evt.RequestId); err != nil || raw.Body != body {
		t.Errorf("Request.RetrieveBody = %v, %v; want the body", raw, err)
	}
	retried, err := c.Request.Retry(ctx, evt.RequestId, &hookdeck.RequestRetryRequest{})
	if err != nil {
		t.Fatalf("Request.Retry: %v", err)
	}
	if retried.Request == nil || retried.Request.Id != evt.RequestId || len(retried.Events) != 1 {
		t.Errorf("Request.Retry = %+v, want the request and one new event", retried)
	}
	waitFor(t, 20*time.Second, "the retried request at the destination", func() bool { return len(dst.received()) == 2 })

	// Mute an event held by a pause.
	if _, err := c.Connection.Pause(ctx, conn.Id); err != nil {
		t.Fatalf("Connection.Pause: %v", err)
	}
	if code := sendSigned(t, src.Url, secret, `{"type":"sdk.held"}`); code != http.StatusOK {
		t.Fatalf("webhook while paused = %d", code)
	}
	hold := hookdeck.EventStatusHold
	var held *hookdeck.Event
	waitFor(t, 20*time.Second, "an event on HOLD", func() bool {
		evs, err := c.Event.List(ctx, &hookdeck.EventListRequest{WebhookId: []*string{&conn.Id}, Status: &hold})
		if err != nil {
			t.Fatalf("Event.List: %v", err)
		}
		if len(evs.Models) == 1 {
			held = evs.Models[0]
		}
		return held != nil
	})
	muted, err := c.Event.Mute(ctx, held.Id)
	if err != nil {
		t.Fatalf("Event.Mute: %v", err)
	}
	if muted.Status == hookdeck.EventStatusHold || muted.Status == hookdeck.EventStatusSuccessful {
		t.Errorf("muted event status = %s", muted.Status)
	}

	// Errors decode into the SDK's typed errors.
	_, err = c.Source.Create(ctx, &hookdeck.SourceCreateRequest{Name: "not a valid name!"})
	var unprocessable *hookdeck.UnprocessableEntityError
	if !errors.As(err, &unprocessable) || unprocessable.Body == nil || unprocessable.Body.Code == "" {
		t.Errorf("Source.Create with a bad name: %v (%T), want an UnprocessableEntityError with a body", err, err)
	}
	if _, err := c.Connection.Retrieve(ctx, "web_missing"); err == nil {
		t.Errorf("Connection.Retrieve of a missing id succeeded")
	}

	// Delete a source nothing uses.
	spare, err := c.Source.Create(ctx, &hookdeck.SourceCreateRequest{Name: "sdk-spare"})
	if err != nil {
		t.Fatalf("Source.Create: %v", err)
	}
	if d, err := c.Source.Delete(ctx, spare.Id); err != nil || d.Id != spare.Id {
		t.Errorf("Source.Delete = %v, %v", d, err)
	}
}

// sendSigned posts a webhook signed with hex(HMAC-SHA256(secret, body)) in
// x-signature and returns the status.
func sendSigned(t *testing.T, url, secret, body string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return send(t, url, map[string]string{"x-signature": hex.EncodeToString(mac.Sum(nil))}, body)
}

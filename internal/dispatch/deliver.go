package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/store"
)

// target is everything an attempt needs besides the event.
type target struct {
	source      model.Source
	destination model.Destination
	connection  model.Connection
	retry       *rules.Retry
}

// deliver makes one attempt and decides the event's next state. An error
// means the attempt could not even be prepared.
func (d *Dispatcher) deliver(ctx context.Context, cache *resourceCache, ev model.Event, trigger string) (model.Attempt, store.AttemptOutcome, error) {
	tg, err := cache.target(ctx, ev)
	if err != nil {
		return model.Attempt{}, store.AttemptOutcome{}, err
	}
	if tg.retry == nil {
		tg.retry = d.cfg.DefaultRetry
	}
	number := ev.Attempts + 1
	start := time.Now().UTC()
	att := model.Attempt{
		ID:            model.NewID(model.PrefixAttempt),
		TeamID:        ev.TeamID,
		EventID:       ev.ID,
		DestinationID: ev.DestinationID,
		AttemptNumber: number,
		Trigger:       trigger,
		CreatedAt:     start,
	}
	var res result
	switch {
	case tg.destination.Type == model.DestinationMockAPI || isHookdeckMock(tg.destination.Config.URL):
		res = mockResponse(ev)
		att.RequestedURL, att.HTTPMethod = tg.destination.Config.URL, method(tg.destination, ev)
	case tg.destination.Type == model.DestinationCLI:
		// Through the listening CLI sessions (cli.go); with none, the
		// attempt fails with CLI_UNAVAILABLE and the retry rule decides.
		res = d.deliverCLI(ctx, ev, tg, number, trigger, &att)
	default:
		var req *http.Request
		req, res = d.buildRequest(ctx, ev, tg, number, trigger)
		if req != nil {
			att.RequestedURL, att.HTTPMethod = req.URL.String(), req.Method
			res = d.send(req, start)
		}
	}
	end := time.Now().UTC()
	att.UpdatedAt = end
	att.Body = res.body
	att.ErrorCode = res.errorCode
	if res.status != 0 {
		s := res.status
		att.ResponseStatus = &s
		att.DeliveredAt = &start
		att.RespondedAt = &end
		dl := int(res.headersAt.Sub(start).Milliseconds())
		rl := int(end.Sub(start).Milliseconds())
		att.DeliveryLatency, att.ResponseLatency = &dl, &rl
	}

	out := store.AttemptOutcome{Owner: d.cfg.Owner, Attempt: att}
	if res.status >= 200 && res.status < 300 {
		att.Status = model.AttemptSuccessful
		att.SuccessfulAt = &end
		out.EventStatus = model.EventSuccessful
	} else {
		att.Status = model.AttemptFailed
		if res.errorCode == "" {
			att.ErrorCode = "BAD_RESPONSE"
		}
		out.EventStatus = model.EventFailed
		if at, ok := tg.retry.NextRetry(number, att.ResponseStatus, end); ok {
			out.EventStatus, out.NextAttemptAt, out.NextTrigger = model.EventScheduled, &at, model.TriggerAutomatic
		}
	}
	out.Attempt = att
	return att, out, nil
}

// result is what came back from one send.
type result struct {
	status    int
	body      string
	errorCode string
	headersAt time.Time
}

func method(dest model.Destination, ev model.Event) string {
	if dest.Config.HTTPMethod != "" {
		return dest.Config.HTTPMethod
	}
	if ev.Data != nil && ev.Data.Method != "" {
		return ev.Data.Method
	}
	return http.MethodPost
}

// hopByHop headers are never forwarded (RFC 9110 §7.6.1), nor are the
// ones the transport computes.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true, "proxy-authorization": true,
	"proxy-connection": true, "te": true, "trailer": true, "transfer-encoding": true, "upgrade": true,
	"host": true, "content-length": true, "accept-encoding": true,
}

// buildRequest prepares the outgoing HTTP request, or a failed result when
// the destination cannot be addressed.
func (d *Dispatcher) buildRequest(ctx context.Context, ev model.Event, tg target, number int, trigger string) (*http.Request, result) {
	data := ev.Data
	if data == nil {
		return nil, result{errorCode: "PAYLOAD_MISSING", body: "the event's payload is missing"}
	}
	if tg.destination.Config.URL == "" {
		return nil, result{errorCode: "MISSING_URL", body: "the destination has no url"}
	}
	u, err := targetURL(tg.destination.Config, data)
	if err != nil {
		return nil, result{errorCode: "INVALID_URL", body: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, method(tg.destination, ev), u, bytes.NewReader(data.Body))
	if err != nil {
		return nil, result{errorCode: "INVALID_URL", body: err.Error()}
	}
	for k, v := range data.Headers {
		if !hopByHop[strings.ToLower(k)] {
			req.Header.Set(k, v)
		}
	}
	h := req.Header
	h.Set("X-Hookdeck-EventID", ev.ID)
	h.Set("X-Hookdeck-RequestID", ev.RequestID)
	h.Set("X-Hookdeck-Source-Name", tg.source.Name)
	h.Set("X-Hookdeck-Destination-Name", tg.destination.Name)
	h.Set("X-Hookdeck-Connection-Name", tg.connection.Name)
	h.Set("X-Hookdeck-Attempt-Count", strconv.Itoa(number))
	h.Set("X-Hookdeck-Attempt-Trigger", trigger)
	h.Set("Idempotency-Key", ev.ID)
	if d.cfg.EventURL != nil {
		h.Set("X-Hookdeck-Event-URL", d.cfg.EventURL(ev.ID))
	}
	if v, ok := data.Headers["x-hookdeck-verified"]; ok {
		h.Set("X-Hookdeck-Verified", v)
	}
	if at, ok := tg.retry.NextRetry(number, nil, time.Now()); ok {
		h.Set("X-Hookdeck-Will-Retry-After", strconv.Itoa(int(time.Until(at).Seconds()+0.5)))
	}
	if err := d.authorize(req, tg.destination.Config, data.Body); err != nil {
		code := "UNKNOWN"
		if tg.destination.Config.AuthType == "OAUTH2_CLIENT_CREDENTIALS" {
			code = "OAUTH2_HANDSHAKE_FAILED"
		}
		return nil, result{errorCode: code, body: err.Error()}
	}
	return req, result{}
}

// targetURL joins the destination url with the forwarded path and query.
func targetURL(cfg model.DestinationConfig, data *model.Payload) (string, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("destination url %q is not an absolute http(s) url", cfg.URL)
	}
	if !cfg.PathForwardingDisabled && data.Path != "" && data.Path != "/" {
		p, err := url.Parse(data.Path)
		if err != nil {
			return "", fmt.Errorf("forwarded path %q: %w", data.Path, err)
		}
		u = u.JoinPath(p.EscapedPath())
	}
	if data.Query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + data.Query
		} else {
			u.RawQuery = data.Query
		}
	}
	return u.String(), nil
}

// authorize applies the destination's auth scheme.
func (d *Dispatcher) authorize(req *http.Request, cfg model.DestinationConfig, body []byte) error {
	a := cfg.Auth
	switch cfg.AuthType {
	case "", "HOOKDECK_SIGNATURE":
		if d.cfg.SigningSecret != "" {
			req.Header.Set("X-Hookdeck-Signature", sign(d.cfg.SigningSecret, body))
		}
	case "CUSTOM_SIGNATURE":
		req.Header.Set(a["key"], hex256(a["signing_secret"], body))
	case "BASIC_AUTH":
		req.SetBasicAuth(a["username"], a["password"])
	case "BEARER_TOKEN":
		req.Header.Set("Authorization", "Bearer "+a["token"])
	case "OAUTH2_CLIENT_CREDENTIALS":
		tok, err := d.oauth.token(req.Context(), a)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case "API_KEY":
		if a["to"] == "query" {
			q := req.URL.Query()
			q.Set(a["key"], a["api_key"])
			req.URL.RawQuery = q.Encode()
		} else {
			req.Header.Set(a["key"], a["api_key"])
		}
	default:
		return fmt.Errorf("destination auth type %s is not supported", cfg.AuthType)
	}
	return nil
}

// sign is Hookdeck's x-hookdeck-signature: base64(HMAC-SHA256(secret, body)).
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hex256(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return fmt.Sprintf("%x", m.Sum(nil))
}

// send performs the request and reads a bounded response body.
func (d *Dispatcher) send(req *http.Request, start time.Time) result {
	ctx, cancel := context.WithTimeout(req.Context(), d.cfg.Timeout)
	defer cancel()
	resp, err := d.client.Do(req.WithContext(ctx))
	if err != nil {
		return result{errorCode: classify(err), body: err.Error()}
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode, headersAt: time.Now()}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(d.cfg.MaxResponseBody)))
	if err != nil && len(body) == 0 {
		res.errorCode = classify(err)
	}
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	res.body = printable(body)
	return res
}

// printable keeps valid UTF-8 as is and describes binary bodies.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("<%d bytes of binary data>", len(b))
}

// isHookdeckMock reports whether url points at Hookdeck's hosted mock API
// (the quickstart's destination); Sluice answers it in process, so the
// quickstart works on a machine without internet access.
func isHookdeckMock(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.EqualFold(u.Hostname(), "mock.hookdeck.com")
}

// mockResponse answers a MOCK_API destination in process: 200 with the
// request echoed, like Hookdeck's mock API.
func mockResponse(ev model.Event) result {
	echo := map[string]any{"event_id": ev.ID}
	if ev.Data != nil {
		echo["method"], echo["path"], echo["query"], echo["headers"] = ev.Data.Method, ev.Data.Path, ev.Data.Query, ev.Data.Headers
		var body any
		if json.Unmarshal(ev.Data.Body, &body) == nil {
			echo["body"] = body
		} else {
			echo["body"] = printable(ev.Data.Body)
		}
	}
	b, _ := json.Marshal(echo)
	now := time.Now()
	return result{status: http.StatusOK, body: string(b), headersAt: now}
}

func newHTTPClient(workers int) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          workers * 2,
		MaxIdleConnsPerHost:   workers,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errTooManyRedirects
			}
			return nil
		},
	}
}

// resourceCache shares the sources, destinations and connections loaded
// for one claimed batch between its attempts, so that a burst of events
// for one connection loads it once: attempts that need a resource being
// loaded wait for that load instead of starting their own.
type resourceCache struct {
	store Store
	mu    sync.Mutex
	items map[string]*cachedResource
}

// cachedResource is one resource, loaded or being loaded.
type cachedResource struct {
	ready chan struct{} // closed once v and err are set
	v     any
	err   error
}

func newResourceCache(st Store) *resourceCache {
	return &resourceCache{store: st, items: map[string]*cachedResource{}}
}

// get returns the resource under key, loading it once; a failed load is
// not kept, so a later attempt tries again.
func (c *resourceCache) get(key string, load func() (any, error)) (any, error) {
	c.mu.Lock()
	r, ok := c.items[key]
	if ok {
		c.mu.Unlock()
		<-r.ready
		return r.v, r.err
	}
	r = &cachedResource{ready: make(chan struct{})}
	c.items[key] = r
	c.mu.Unlock()
	r.v, r.err = load()
	if r.err != nil {
		c.mu.Lock()
		delete(c.items, key)
		c.mu.Unlock()
	}
	close(r.ready)
	return r.v, r.err
}

func (c *resourceCache) destination(ctx context.Context, ev model.Event) (model.Destination, error) {
	v, err := c.get(ev.DestinationID, func() (any, error) { return c.store.GetDestination(ctx, ev.TeamID, ev.DestinationID) })
	if err != nil {
		return model.Destination{}, fmt.Errorf("load destination %s: %w", ev.DestinationID, err)
	}
	return v.(model.Destination), nil
}

func (c *resourceCache) target(ctx context.Context, ev model.Event) (target, error) {
	var tg target
	v, err := c.get(ev.SourceID, func() (any, error) { return c.store.GetSource(ctx, ev.TeamID, ev.SourceID) })
	if err != nil {
		return tg, fmt.Errorf("load source %s: %w", ev.SourceID, err)
	}
	tg.source = v.(model.Source)
	if tg.destination, err = c.destination(ctx, ev); err != nil {
		return tg, err
	}
	v, err = c.get(ev.ConnectionID, func() (any, error) {
		conn, err := c.store.GetConnection(ctx, ev.TeamID, ev.ConnectionID)
		if err != nil {
			return nil, err
		}
		set, _ := rules.Parse(conn.Rules) // validated on write
		return target{connection: conn, retry: set.Retry}, nil
	})
	if err != nil {
		return tg, fmt.Errorf("load connection %s: %w", ev.ConnectionID, err)
	}
	ct := v.(target)
	tg.connection, tg.retry = ct.connection, ct.retry
	return tg, nil
}

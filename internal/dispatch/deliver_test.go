package dispatch

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
)

func TestTargetURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		noFwd    bool
		path     string
		query    string
		want     string
		wantFail bool
	}{
		{"path forwarded", "http://127.0.0.1:9/", false, "/track", "", "http://127.0.0.1:9/track", false},
		{"base path kept", "http://127.0.0.1:9/api", false, "/track/x", "a=1", "http://127.0.0.1:9/api/track/x?a=1", false},
		{"forwarding disabled", "http://127.0.0.1:9/api", true, "/track", "", "http://127.0.0.1:9/api", false},
		{"queries merged", "http://127.0.0.1:9/h?k=v", false, "", "a=1", "http://127.0.0.1:9/h?k=v&a=1", false},
		{"escaped path", "http://127.0.0.1:9", false, "/a%20b", "", "http://127.0.0.1:9/a%20b", false},
		{"not absolute", "/relative", false, "", "", "", true},
		{"bad scheme", "ftp://x", false, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := targetURL(model.DestinationConfig{URL: tt.url, PathForwardingDisabled: tt.noFwd}, &model.Payload{Path: tt.path, Query: tt.query})
			if (err != nil) != tt.wantFail {
				t.Fatalf("targetURL err = %v, wantFail %v", err, tt.wantFail)
			}
			if got != tt.want {
				t.Fatalf("targetURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignMatchesHookdeck(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	m := hmac.New(sha256.New, []byte("secret"))
	m.Write(body)
	if got, want := sign("secret", body), base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("sign = %q, want %q", got, want)
	}
}

func TestClassifyRealFailures(t *testing.T) {
	t.Parallel()
	// A port that refuses: listen, note the address, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}))
	defer reset.Close()

	d := New(nil, Config{Timeout: 200 * time.Millisecond, Workers: 2})
	tests := []struct {
		name, url, want string
	}{
		{"refused", refused, "CONNECTION_REFUSED"},
		{"timeout", slow.URL, "TIMEOUT"},
		{"reset", reset.URL, "CONNECTION_RESET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, tt.url, nil)
			res := d.send(req, time.Now())
			if res.errorCode != tt.want && !(tt.want == "CONNECTION_RESET" && res.errorCode == "SOCKET_CLOSED") {
				t.Fatalf("errorCode = %q (%s), want %q", res.errorCode, res.body, tt.want)
			}
		})
	}
}

// Attempts of one batch that need the same resource at once share one
// load; a failed load is not kept.
func TestResourceCacheLoadsOnce(t *testing.T) {
	c := newResourceCache(nil)
	var loads atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, err := c.get("des_x", func() (any, error) {
				loads.Add(1)
				<-release
				return "loaded", nil
			})
			if err != nil || v != "loaded" {
				t.Errorf("get = %v, %v", v, err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let them all ask
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 20 concurrent gets, want 1", n)
	}

	fail := errors.New("store down")
	if _, err := c.get("src_y", func() (any, error) { return nil, fail }); !errors.Is(err, fail) {
		t.Fatalf("failed load: %v", err)
	}
	if v, err := c.get("src_y", func() (any, error) { return "back", nil }); err != nil || v != "back" {
		t.Fatalf("after a failed load: %v, %v; want it loaded again", v, err)
	}
}

package oascheck

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
)

// Proxy is a recording reverse proxy on loopback in front of an API: a
// client pointed at URL reaches the target, and every answer is recorded
// with the Recorder. WebSocket upgrades pass through; their 101 answer is
// recorded (without a body) so that tests can see a client connect.
type Proxy struct {
	// URL is the proxy's base URL, e.g. http://127.0.0.1:41234.
	URL string
	srv *http.Server
	ln  net.Listener
}

// NewProxy starts a proxy to target on a free loopback port.
func NewProxy(target string, rec *Recorder) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("oascheck: proxy target: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusSwitchingProtocols {
			rec.Observe(resp.Request, resp.StatusCode, resp.Header, nil)
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("oascheck: read answer: %w", err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		rec.Observe(resp.Request, resp.StatusCode, resp.Header, body)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oascheck: proxy listen: %w", err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: rp}, ln: ln}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

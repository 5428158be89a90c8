package clisession

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// maxLocalResponse bounds the local app's response body sent back.
const maxLocalResponse = 1 << 20

// skipHeaders are not forwarded to the local app: the transport sets them.
var skipHeaders = map[string]bool{
	"host": true, "content-length": true, "connection": true, "transfer-encoding": true,
	"keep-alive": true, "upgrade": true, "te": true, "trailer": true, "accept-encoding": true,
}

// forward makes the attempt's request to the local app, prints one line and
// sends the answer back.
func (l *listener) forward(ctx context.Context, a AttemptBody) {
	target := l.localURL(a.CLIPath)
	method := a.Request.Method
	if method == "" {
		method = http.MethodPost
	}
	timeout := time.Duration(a.Request.Timeout) * time.Millisecond
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	body := []byte(a.Request.DataString)
	if a.Request.BodyFormat == CapabilityBinary || a.Request.DataBase64 != "" {
		if b, err := base64.StdEncoding.DecodeString(a.Request.DataBase64); err == nil {
			body = b
		}
	}
	start := time.Now()
	status, respBody, err := l.call(ctx, method, target, a.Request.Headers, body, timeout)
	elapsed := time.Since(start)
	stamp := start.Format(TimeLayout)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: the server fails the attempt
		}
		l.out.printf("%s [ERR] %s %s (%s) → %s\n    %s\n", stamp, method, target, ms(elapsed), a.EventID, l.explain(err))
		l.reply(ctx, AttemptResponseBody{AttemptID: a.AttemptID, Error: true})
		return
	}
	l.out.printf("%s [%d] %s %s (%s) → %s\n", stamp, status, method, target, ms(elapsed), a.EventID)
	data := string(respBody)
	if !utf8.ValidString(data) {
		data = fmt.Sprintf("<%d bytes of binary data>", len(respBody))
	}
	l.reply(ctx, AttemptResponseBody{AttemptID: a.AttemptID, CLIPath: a.CLIPath, Status: status, Data: data})
}

// call sends one request to the local app.
func (l *listener) call(ctx context.Context, method, target string, headers map[string]string, body []byte, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range headers {
		if !skipHeaders[strings.ToLower(k)] {
			req.Header.Set(k, v)
		}
	}
	resp, err := l.cfg.LocalClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLocalResponse))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// reply sends an attempt_response frame.
func (l *listener) reply(ctx context.Context, b AttemptResponseBody) {
	body, err := json.Marshal(b)
	if err != nil {
		return
	}
	msg, err := json.Marshal(Frame{Event: EventAttemptResponse, Body: body})
	if err != nil {
		return
	}
	l.send(ctx, msg)
}

// explain turns a failure to reach the local app into advice.
func (l *listener) explain(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("Connection refused: is your app running and listening on %s?", l.target.Host)
	case errors.Is(err, context.DeadlineExceeded):
		return "Your app did not answer in time."
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("Cannot resolve %s: %v", dnsErr.Name, dnsErr.Err)
	}
	return "Request failed: " + shortErr(err)
}

// shortErr drops the Go error chain's prefixes down to the cause.
func shortErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func ms(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

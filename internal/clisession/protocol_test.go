package clisession

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/dispatch"
	"github.com/sluice-gw/sluice/internal/model"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		fail     bool
	}{
		{"3000", "http://localhost:3000", false},
		{"localhost:8080/hooks", "http://localhost:8080/hooks", false},
		{"https://app.test/x?q=1", "https://app.test/x", false},
		{"0", "", true},
		{"70000", "", true},
		{"ftp://x", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseTarget(tt.in)
			if (err != nil) != tt.fail {
				t.Fatalf("ParseTarget(%q) err = %v, fail %v", tt.in, err, tt.fail)
			}
			if err == nil && u.String() != tt.want {
				t.Fatalf("ParseTarget(%q) = %s, want %s", tt.in, u, tt.want)
			}
		})
	}
}

func TestLocalURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ target, cliPath, want string }{
		{"3000", "/", "http://localhost:3000/"},
		{"3000", "/a/b?x=1", "http://localhost:3000/a/b?x=1"},
		{"http://h:1/base/", "/a", "http://h:1/base/a"},
	}
	for _, tt := range tests {
		u, err := ParseTarget(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		l := &listener{target: u}
		if got := l.localURL(tt.cliPath); got != tt.want {
			t.Errorf("localURL(%q, %q) = %q, want %q", tt.target, tt.cliPath, got, tt.want)
		}
	}
}

func TestAttemptFrame(t *testing.T) {
	t.Parallel()
	a := dispatch.CLIAttempt{AttemptID: "atm_1", EventID: "evt_1", ConnectionID: "web_1", Path: "/x", Method: "POST",
		Headers: map[string]string{"a": "b"}, Timeout: 1500 * time.Millisecond}
	tests := []struct {
		name       string
		body       []byte
		binary     bool
		wantString string
		wantB64    bool
	}{
		{"text", []byte(`{"k":1}`), true, `{"k":1}`, false},
		{"binary to a binary client", []byte{0xff, 0x00}, true, "", true},
		{"binary to an old client", []byte{0xff}, false, "\ufffd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.Body = tt.body
			raw, err := attemptFrame(a, tt.binary)
			if err != nil {
				t.Fatal(err)
			}
			var f Frame
			var b AttemptBody
			if err := json.Unmarshal(raw, &f); err != nil || f.Event != EventAttempt || json.Unmarshal(f.Body, &b) != nil {
				t.Fatalf("frame %s", raw)
			}
			if b.AttemptID != "atm_1" || b.EventID != "evt_1" || b.WebhookID != "web_1" || b.CLIPath != "/x" ||
				b.Request.Timeout != 1500 || b.Request.Headers["a"] != "b" || b.Request.DataString != tt.wantString {
				t.Fatalf("attempt %+v", b)
			}
			if tt.wantB64 {
				got, _ := base64.StdEncoding.DecodeString(b.Request.DataBase64)
				if b.Request.BodyFormat != CapabilityBinary || string(got) != string(tt.body) {
					t.Fatalf("binary body %+v", b.Request)
				}
			}
		})
	}
}

func TestCompileFilters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		wantNil bool
		fail    bool
	}{
		{"absent", ``, true, false},
		{"null", `null`, true, false},
		{"empty", `{}`, true, false},
		{"null parts", `{"body":null}`, true, false},
		{"body", `{"body":{"type":"a"}}`, false, false},
		{"bad operator", `{"body":{"$nope":1}}`, false, true},
		{"not an object", `[1]`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileFilters(json.RawMessage(tt.raw))
			if (err != nil) != tt.fail || (err != nil && !errors.Is(err, ErrInvalidFilters)) {
				t.Fatalf("err = %v, fail %v", err, tt.fail)
			}
			if !tt.fail && (f == nil) != tt.wantNil {
				t.Fatalf("filter %v, want nil %v", f, tt.wantNil)
			}
		})
	}
}

func TestFilterInput(t *testing.T) {
	t.Parallel()
	f, err := compileFilters(json.RawMessage(`{"body":{"n":{"$gte":2}},"headers":{"x-topic":"a"},"query":{"k":["1","2"]},"path":"/p"}`))
	if err != nil {
		t.Fatal(err)
	}
	p := &model.Payload{Path: "/p", Query: "k=1&k=2", Headers: map[string]string{"X-Topic": "a"}, Body: []byte(`{"n":3}`)}
	if ok, failed := f.Match(*filterInput(dispatch.CLIAttempt{Payload: p})); !ok {
		t.Fatalf("no match; failed %v", failed)
	}
	p.Body = []byte(`{"n":1}`)
	if ok, _ := f.Match(*filterInput(dispatch.CLIAttempt{Payload: p})); ok {
		t.Fatal("matched a body that fails the filter")
	}
}

func TestValidSessionID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"cses_abcdefgh": true, "short": false, "cses_a/b..cd": false, "": false} {
		if got := validSessionID(id); got != want {
			t.Errorf("validSessionID(%q) = %v", id, got)
		}
	}
}

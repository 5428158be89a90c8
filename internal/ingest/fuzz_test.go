package ingest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzIngest sends arbitrary requests to the ingest handler over a real
// store: whatever the method, path, headers and body, it answers with a
// clear status (never a 5xx while the store is up) and never panics.
func FuzzIngest(f *testing.F) {
	f.Add("POST", "open", "/orders?x=1", "X-Key", "k1", []byte(`{"a":1}`))
	f.Add("GET", "getter", "", "", "", []byte(nil))
	f.Add("PUT", "keyed", "/%zz", "X-Key", "wrong", []byte("\x00\xff"))
	f.Add("DELETE", "off", "//..//", "Content-Length", "5", []byte("{"))
	f.Add("PATCH", "nosuch", "/a/b/c", "Authorization", "Basic !!", []byte(strings.Repeat("x", 3000)))
	b := setup(f)
	f.Fuzz(func(t *testing.T, method, source, path, hkey, hval string, body []byte) {
		id := "src_" + source
		if s, ok := b.sources[source]; ok {
			id = s.ID
		}
		if !validMethod(method) {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(string(body)))
		req.URL.Path = "/" + id + path
		req.URL.RawPath = ""
		if hkey != "" && validHeader(hkey) && validHeaderValue(hval) {
			req.Header.Set(hkey, hval)
		}
		rec := httptest.NewRecorder()
		b.srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", method, req.URL.Path, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}

func validHeader(k string) bool {
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for _, r := range v {
		if r < ' ' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

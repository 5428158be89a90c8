package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestListenFilters(t *testing.T) {
	tests := []struct {
		name string
		o    listenOptions
		want string
		fail bool
	}{
		{"none", listenOptions{}, `{}`, false},
		{"body", listenOptions{filterBody: `{"type":"a"}`}, `{"body":{"type":"a"}}`, false},
		{"bare path", listenOptions{filterPath: `/orders`}, `{"path":"/orders"}`, false},
		{"json path", listenOptions{filterPath: `{"$startsWith":"/o"}`}, `{"path":{"$startsWith":"/o"}}`, false},
		{"all", listenOptions{filterHeaders: `{"x":"1"}`, filterQuery: `{"q":"2"}`}, `{"headers":{"x":"1"},"query":{"q":"2"}}`, false},
		{"bad body", listenOptions{filterBody: `{type:a}`}, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.o.filters()
			if (err != nil) != tt.fail {
				t.Fatalf("err = %v, fail %v", err, tt.fail)
			}
			if err != nil {
				return
			}
			b, _ := json.Marshal(f)
			if string(b) != tt.want {
				t.Fatalf("filters %s, want %s", b, tt.want)
			}
		})
	}
}

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("SLUICE_API_URL", "")
	t.Setenv("SLUICE_API_KEY", "")

	c, err := (&clientFlags{}).resolve()
	if err != nil || c.APIURL != defaultAPIURL || c.APIKey != "" {
		t.Fatalf("nothing saved: %+v, %v", c, err)
	}
	path, err := saveClientConfig(clientConfig{APIURL: "http://saved:1", APIKey: "sk_saved"})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || filepath.Base(filepath.Dir(path)) != "sluice" {
		t.Fatalf("saved %s: %v, %v", path, fi, err)
	}
	tests := []struct {
		name             string
		flags            clientFlags
		envURL, envKey   string
		wantURL, wantKey string
	}{
		{"saved login", clientFlags{}, "", "", "http://saved:1", "sk_saved"},
		{"environment over login", clientFlags{}, "http://env:2/", "sk_env", "http://env:2", "sk_env"},
		{"flags over environment", clientFlags{apiURL: "http://flag:3", apiKey: "sk_flag"}, "http://env:2", "sk_env", "http://flag:3", "sk_flag"},
		{"mixed", clientFlags{apiKey: "sk_flag"}, "", "", "http://saved:1", "sk_flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLUICE_API_URL", tt.envURL)
			t.Setenv("SLUICE_API_KEY", tt.envKey)
			c, err := tt.flags.resolve()
			if err != nil || c.APIURL != tt.wantURL || c.APIKey != tt.wantKey {
				t.Fatalf("resolve = %+v, %v; want %s %s", c, err, tt.wantURL, tt.wantKey)
			}
		})
	}
}

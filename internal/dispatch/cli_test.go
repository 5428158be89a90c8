package dispatch

import (
	"testing"

	"github.com/sluice-gw/sluice/internal/model"
)

func TestCLIPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		path  string
		noFwd bool
		req   string
		query string
		want  string
	}{
		{"root and no request path", "/", false, "", "", "/"},
		{"empty destination path", "", false, "/x", "", "/x"},
		{"request path appended", "/webhooks", false, "/stripe", "", "/webhooks/stripe"},
		{"trailing slash", "/webhooks/", false, "/stripe", "", "/webhooks/stripe"},
		{"root request path", "/webhooks", false, "/", "", "/webhooks"},
		{"forwarding disabled", "/webhooks", true, "/stripe", "a=1", "/webhooks?a=1"},
		{"query kept", "/", false, "/orders", "x=1&y=2", "/orders?x=1&y=2"},
		{"relative destination path", "hooks", false, "/a", "", "/hooks/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CLIPath(model.DestinationConfig{Path: tt.path, PathForwardingDisabled: tt.noFwd}, &model.Payload{Path: tt.req, Query: tt.query})
			if got != tt.want {
				t.Fatalf("CLIPath = %q, want %q", got, tt.want)
			}
		})
	}
}

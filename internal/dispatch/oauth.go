package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// oauthTokens fetches OAuth2 client-credentials tokens for destinations and
// caches each until shortly before it expires.
type oauthTokens struct {
	client *http.Client
	mu     sync.Mutex
	tokens map[string]oauthToken
}

type oauthToken struct {
	value   string
	expires time.Time
}

func newOAuthTokens(c *http.Client) *oauthTokens {
	return &oauthTokens{client: c, tokens: map[string]oauthToken{}}
}

// token returns a valid access token for the destination's auth settings.
func (o *oauthTokens) token(ctx context.Context, a map[string]string) (string, error) {
	key := a["auth_server"] + "\x00" + a["client_id"] + "\x00" + a["scope"] + "\x00" + a["client_secret"]
	o.mu.Lock()
	t, ok := o.tokens[key]
	o.mu.Unlock()
	if ok && time.Now().Before(t.expires) {
		return t.value, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if a["scope"] != "" {
		form.Set("scope", a["scope"])
	}
	basic := a["authentication_type"] == "" || a["authentication_type"] == "basic"
	if !basic {
		form.Set("client_id", a["client_id"])
		form.Set("client_secret", a["client_secret"])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a["auth_server"], strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oauth2 token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(a["client_id"]), url.QueryEscape(a["client_secret"]))
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauth2 token request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("oauth2 token endpoint answered %d: %.200s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("oauth2 token endpoint gave no access_token: %.200s", body)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	// Renew a little early so a token never expires in flight.
	margin := min(life/10, 30*time.Second)
	o.mu.Lock()
	o.tokens[key] = oauthToken{value: tr.AccessToken, expires: time.Now().Add(life - margin)}
	o.mu.Unlock()
	return tr.AccessToken, nil
}

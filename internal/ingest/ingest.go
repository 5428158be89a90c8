// Package ingest is the public listener's handler: it receives webhooks at
// /{source_id}[/{path…}], checks them against the source (enabled, method,
// size, verification) and commits every request — accepted or rejected —
// before it answers. A 2xx answer means the request is durably stored.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluice-gw/sluice/internal/model"
	"github.com/sluice-gw/sluice/internal/store"
	"github.com/sluice-gw/sluice/internal/verify"
)

// DefaultMaxBodyBytes is the largest accepted body, as in Hookdeck (10 MiB).
const DefaultMaxBodyBytes = 10 << 20

// Store is what ingest needs from the store.
type Store interface {
	GetSource(ctx context.Context, teamID, id string) (model.Source, error)
	// InsertRequest commits r; an accepted request whose source has no
	// connection comes back as NO_CONNECTION.
	InsertRequest(ctx context.Context, r *model.Request) error
}

// Config configures the handler.
type Config struct {
	TeamID string
	// PublicURL is the base URL senders address (for providers that sign
	// the URL).
	PublicURL string
	// MaxBodyBytes caps request bodies; larger ones get 413 (default
	// DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// OnAccepted is called after an accepted request is committed, to wake
	// the router.
	OnAccepted func()
	// OnResult, if set, observes each answered request (for metrics).
	OnResult func(status int, rejectionCause string)
	Logger   *slog.Logger
}

// Handler serves the ingest listener.
type Handler struct {
	store   Store
	sources *sourceCache
	cfg     Config
	log     *slog.Logger
}

// New returns the ingest handler.
func New(st Store, cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OnAccepted == nil {
		cfg.OnAccepted = func() {}
	}
	return &Handler{store: st, sources: newSourceCache(st), cfg: cfg, log: cfg.Logger}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rawID, path := splitPath(r.URL.EscapedPath())
	if rawID == "" {
		h.answerError(w, http.StatusNotFound, "NOT_FOUND", "send webhooks to /{source_id}; see the source's url", "")
		return
	}
	sourceID := rawID
	if !strings.HasPrefix(sourceID, model.PrefixSource) {
		sourceID = model.PrefixSource + sourceID
	}
	src, err := h.sources.lookup(ctx, h.cfg.TeamID, sourceID)
	if errors.Is(err, store.ErrNotFound) {
		h.answerError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("no source with id %q", rawID), "")
		return
	}
	if err != nil {
		h.log.ErrorContext(ctx, "ingest: load source", "source_id", sourceID, "err", err)
		h.answerError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the gateway cannot reach its store; retry later", "")
		return
	}

	now := time.Now().UTC()
	req := &model.Request{
		ID:         model.NewID(model.PrefixRequest),
		TeamID:     h.cfg.TeamID,
		SourceID:   src.ID,
		OriginalIP: clientIP(r),
		IngestedAt: now,
		CreatedAt:  now,
		UpdatedAt:  now,
		Data: model.Payload{
			ID:      model.NewID(model.PrefixPayload),
			Method:  r.Method,
			Path:    path,
			Query:   r.URL.RawQuery,
			Headers: flattenHeaders(r.Header),
		},
	}

	body, tooLarge, err := readBody(w, r, h.cfg.MaxBodyBytes)
	switch {
	case tooLarge:
		h.reject(ctx, w, req, model.RejectPayloadTooLarge, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("body exceeds the limit of %d bytes", h.cfg.MaxBodyBytes))
		return
	case err != nil:
		h.answerError(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body: "+err.Error(), "")
		return
	}
	req.Data.Body = body

	if src.DisabledAt != nil {
		h.reject(ctx, w, req, model.RejectSourceDisabled, http.StatusNotFound, "the source is disabled")
		return
	}
	if !slices.Contains(src.Config.Methods(), r.Method) {
		w.Header().Set("Allow", strings.Join(src.Config.Methods(), ", "))
		h.reject(ctx, w, req, model.RejectUnsupportedMethod, http.StatusMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed by this source (allowed: %s)", r.Method, strings.Join(src.Config.Methods(), ", ")))
		return
	}
	if src.Config.AuthType != "" {
		verified := true
		if err := verify.Request(src.Config, verify.Input{Method: r.Method, URL: h.cfg.PublicURL + r.URL.RequestURI(), Headers: r.Header, Body: body, Now: now}); err != nil {
			verified = false
			req.Verified = &verified
			h.reject(ctx, w, req, model.RejectVerificationFailed, http.StatusUnauthorized, err.Error())
			return
		}
		req.Verified = &verified
	}
	// An accepted request may still come back NO_CONNECTION: the store
	// decides at commit whether the source has a connection. Hookdeck keeps
	// and acknowledges a request that has nowhere to go.
	if err := h.store.InsertRequest(ctx, req); err != nil {
		h.log.ErrorContext(ctx, "ingest: commit request", "request_id", req.ID, "source_id", src.ID, "err", err)
		h.answerError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "the request could not be stored; retry later", "")
		return
	}
	if req.RejectionCause == "" {
		h.cfg.OnAccepted()
	}
	if h.log.Enabled(ctx, slog.LevelDebug) {
		h.log.DebugContext(ctx, "ingest: request stored", "request_id", req.ID, "source_id", src.ID,
			"rejection_cause", req.RejectionCause, "bytes", len(body))
	}
	h.observe(http.StatusOK, req.RejectionCause)
	writeAcknowledgement(w, src.Config.CustomResponse, req.ID)
}

// reject records a rejected request and answers with status.
func (h *Handler) reject(ctx context.Context, w http.ResponseWriter, req *model.Request, cause string, status int, msg string) {
	req.RejectionCause = cause
	if err := h.store.InsertRequest(ctx, req); err != nil {
		h.log.ErrorContext(ctx, "ingest: record rejected request", "request_id", req.ID, "cause", cause, "err", err)
	} else if h.log.Enabled(ctx, slog.LevelDebug) {
		h.log.DebugContext(ctx, "ingest: request rejected", "request_id", req.ID, "source_id", req.SourceID,
			"rejection_cause", cause, "status", status)
	}
	h.observe(status, cause)
	h.answerError(w, status, cause, msg, req.ID)
}

func (h *Handler) observe(status int, cause string) {
	if h.cfg.OnResult != nil {
		h.cfg.OnResult(status, cause)
	}
}

func (h *Handler) answerError(w http.ResponseWriter, status int, code, msg, requestID string) {
	if status >= 500 {
		w.Header().Set("Retry-After", "1")
	}
	body := map[string]any{"code": code, "status": status, "message": msg}
	if requestID != "" {
		body["request_id"] = requestID
	}
	writeJSON(w, status, body)
}

// writeAcknowledgement answers an accepted request: the source's custom
// response or Hookdeck's default JSON.
func writeAcknowledgement(w http.ResponseWriter, custom *model.CustomResponse, requestID string) {
	if custom != nil {
		ct := map[string]string{"json": "application/json", "text": "text/plain; charset=utf-8", "xml": "application/xml"}[custom.ContentType]
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, custom.Body)
		return
	}
	// Hookdeck's answer, written without a JSON encoder: it is on every
	// webhook's path, and ids are base62, which needs no escaping.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"message":"Request successfully handled. Request ID: `+requestID+
		`","request_id":"`+requestID+`","status":"SUCCESS"}`+"\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// splitPath splits "/src_x/a/b" into "src_x" and "/a/b".
func splitPath(p string) (id, rest string) {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// readBody reads at most limit bytes; tooLarge reports a longer body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > limit {
		return nil, true, nil
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	return body, false, err
}

// flattenHeaders turns headers into Hookdeck's object form: lower-case
// names, repeated values joined with ", ".
func flattenHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Package compat holds Sluice's contract tests with Hookdeck's real
// clients: the Go SDK v0.7.0 and the Hookdeck CLI 2.5.0 and 2.6.0 (from
// npm, installed by install-hookdeck-cli.sh into a cache folder), run
// against the sluice binary built from ../cmd/sluice. Every JSON answer
// the clients get is validated against Hookdeck's 2025-07-01 OpenAPI
// document (see package oascheck for the dialect rules and what is
// skipped).
//
// It is a separate Go module so that the clients and the validator stay
// out of the main go.mod. Run it with `cd compat && go test ./...`; tests
// that need ../shared or the CLI skip with a message when those are
// absent, and fail instead when CI is set.
package compat

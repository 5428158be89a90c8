// Package compat holds Sluice's contract tests with Hookdeck's real
// clients, run against the sluice binary built from ../cmd/sluice:
//
//   - TestGoSDK, TestGoSDKResources: the Go SDK
//     github.com/hookdeck/hookdeck-go-sdk v0.7.0 (API version 2024-09-01)
//     on SQLite and PostgreSQL.
//   - TestHookdeckCLI: the Hookdeck CLI 2.5.0 (2025-07-01) and 2.6.0
//     (2026-09-01) from npm: ci, whoami, gateway connection/source/
//     destination/event/request/attempt commands, on SQLite and PostgreSQL.
//   - TestHookdeckCLIResources: the CLI's transformation commands, a
//     connection with rules, sources and destinations of other auth types.
//   - TestHookdeckListen: `hookdeck listen` against Sluice's CLI sessions:
//     forwarding to a local app (SUCCESSFUL), the app down (FAILED, error
//     code CLI), two sources with --filter-body, kill and restart (queued
//     events delivered).
//
// Every JSON answer the clients get goes through a recording transport or
// reverse proxy and is validated against Hookdeck's 2025-07-01 OpenAPI
// document with kin-openapi; package oascheck says how the two dialects
// are checked, where the document is amended and what is skipped, and why.
//
// It is a separate Go module so that the clients and the validator stay
// out of the main go.mod; it uses nothing from the main module but the
// binary. Run it with
//
//	compat/install-hookdeck-cli.sh   # npm pack + tar into a cache folder
//	cd compat && go test ./...
//
// Settings (environment): SLUICE_TEST_POSTGRES_DSN enables the PostgreSQL
// runs; SLUICE_COMPAT_CACHE (default $XDG_CACHE_HOME or ~/.cache, then
// sluice-compat) is where the CLIs are installed; SLUICE_COMPAT_OPENAPI
// overrides the document's path (default ../../shared/reference/);
// SLUICE_COMPAT_BINARY runs a prebuilt sluice instead of building one.
// Tests that need the document, the CLIs or PostgreSQL skip with a message
// when those are absent, and fail instead when CI is set.
//
// The tests talk to loopback only. The CLI's `gateway source` auth flags
// (--basic-auth-*, --hmac-*) make it fetch an OpenAPI document from
// api.hookdeck.com whatever --api-base says, so sources get their auth as
// --config; a CLI call whose output shows such a fetch fails its test.
package compat

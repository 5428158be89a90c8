// Package api serves Sluice's REST API on the API listener. The API follows
// Hookdeck's so that Hookdeck's CLI and SDKs work against Sluice: every
// route lives under a /YYYY-MM-DD/ version prefix, clients authenticate
// with the project's API key (Bearer KEY or Basic base64(KEY:)), creates
// and upserts answer 200, lists are seek-paginated and every error comes
// from one catalog as {"code","status","message","data"}.
//
// # Dialects
//
// The version date picks the shapes of sources and destinations: dates
// before 2025-01-01 speak the legacy dialect (top-level verification,
// allowed_http_methods and custom_response on sources; url, cli_path,
// rate_limit, http_method and auth_method on destinations), later dates
// the typed dialect (type plus a config object). Request bodies are
// accepted in either form whatever the version. Event retry answers the
// Event from 2024-09-01 on and {"event","attempt"} before.
//
// # Choices where Hookdeck is silent or Sluice differs
//
//   - Lists are ordered by created_at only (ids sort by creation time);
//     any other order_by is a 400 naming the field. count is the number
//     of models on the page. next and prev are opaque cursors, left
//     out when there is no such page.
//   - Filters Sluice does not support are ignored rather than refused:
//     source type, disabled_at, connection full_name, and the search and
//     JSON-match filters of requests and events (search_term, headers,
//     body, parsed_query, path). response_status accepts values, not
//     operators.
//   - Secrets in source and destination auth are masked (all but the last
//     four characters) unless the query has include=config.auth (or the
//     legacy include=verification.configs); a masked value written back
//     keeps the stored secret.
//   - A legacy destination whose url is on mock.hookdeck.com becomes a
//     MOCK_API destination, which Sluice answers in process.
//   - POST /connections finds inline sources and destinations by name
//     (updating them with what is given) like the upsert does, and names
//     an unnamed connection after its destination.
//
// Handlers only decode, call the store (or a retrier) and encode; the
// dialects' parsing and rendering live in their own files.
package api

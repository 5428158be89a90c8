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
//   - Connection rules are stored and rendered as given, each with its
//     type, except that a transform rule's inline transformation {name,
//     code, env} is created (or, when that name exists, updated) and the
//     rule stored as {"type":"transform","transformation_id":…}; a rule
//     with both fields updates the transformation of that id. Everything
//     is checked before anything is written; errors name rules[i].field.
//   - Transformation code is validated on write (it must compile and
//     register a transform handler; the 422 names the field with line and
//     column). env is stored as given and rendered in the clear
//     (encrypted_env and iv are null). A transformation that a connection's
//     rule uses cannot be deleted (422 listing the connections).
//   - PUT /transformations/run answers 422 for invalid input (no code, a
//     syntax error, an unknown transformation_id, webhook_id or event_id)
//     and 200 with log_level fatal and the error as the last console line
//     when the code fails at run time. Nothing is saved: request_id (set
//     when the sample came from event_id), transformation_id and
//     execution_id are null unless given.
//   - GET /transformations/{id}/executions/{execution_id} renders
//     original_event_data and transformed_event_data; the list renders
//     them with include=data.
//   - Destination auth types: HOOKDECK_SIGNATURE, CUSTOM_SIGNATURE,
//     BASIC_AUTH, API_KEY (to: header or query), BEARER_TOKEN and
//     OAUTH2_CLIENT_CREDENTIALS, in either dialect (config.auth_type +
//     config.auth, or auth_method {type, config}). OAUTH2_AUTHORIZATION_CODE,
//     AWS_SIGNATURE and GCP_SERVICE_ACCOUNT are refused with a 422, as are
//     auth fields the type does not have.
//   - Ignored events have the OpenAPI meta of their cause (FILTERED: the
//     parts that did not match; TRANSFORMATION_FAILED: {transformation_id})
//     and one cause of Sluice's own: DEDUPLICATED, an event a deduplicate
//     rule dropped, with meta {deduplicate_key} (the digest of the fields
//     compared).
//
// Handlers only decode, call the store (or a retrier) and encode; the
// dialects' parsing and rendering live in their own files.
package api

package filter

import (
	"encoding/json"
	"testing"
)

// stripeEvent is a ~2 KiB Stripe-like event body.
const stripeEvent = `{
  "id": "evt_3OqZxYLkdIwHu7ix0jW3aBcD",
  "object": "event",
  "api_version": "2023-10-16",
  "created": 1709654321,
  "data": {
    "object": {
      "id": "pi_3OqZxYLkdIwHu7ix0XyZ1234",
      "object": "payment_intent",
      "amount": 2500,
      "amount_capturable": 0,
      "amount_received": 2500,
      "application": null,
      "application_fee_amount": null,
      "automatic_payment_methods": {"allow_redirects": "always", "enabled": true},
      "canceled_at": null,
      "cancellation_reason": null,
      "capture_method": "automatic",
      "charges": {"object": "list", "data": [], "has_more": false, "total_count": 0, "url": "/v1/charges?payment_intent=pi_3OqZxYLkdIwHu7ix0XyZ1234"},
      "client_secret": "pi_3OqZxYLkdIwHu7ix0XyZ1234_secret_abcdefghijklmnopqrstuvwxy",
      "confirmation_method": "automatic",
      "created": 1709654300,
      "currency": "usd",
      "customer": "cus_PfGhIjKlMnOpQr",
      "description": "Subscription creation",
      "invoice": "in_1OqZxYLkdIwHu7ixAbCdEfGh",
      "last_payment_error": null,
      "latest_charge": "ch_3OqZxYLkdIwHu7ix0QrStUvW",
      "livemode": false,
      "metadata": {"order_id": "6735", "plan": "pro", "seats": "5"},
      "next_action": null,
      "on_behalf_of": null,
      "payment_method": "pm_1OqZxYLkdIwHu7ixLmNoPqRs",
      "payment_method_configuration_details": {"id": "pmc_1NxYzLkdIwHu7ixAbCdEfGh", "parent": null},
      "payment_method_options": {"card": {"installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
      "payment_method_types": ["card", "link"],
      "processing": null,
      "receipt_email": "jenny.rosen@example.com",
      "review": null,
      "setup_future_usage": "off_session",
      "shipping": null,
      "source": null,
      "statement_descriptor": null,
      "statement_descriptor_suffix": null,
      "status": "succeeded",
      "transfer_data": null,
      "transfer_group": null
    }
  },
  "livemode": false,
  "pending_webhooks": 2,
  "request": {"id": "req_AbCdEfGhIjKlMn", "idempotency_key": "8a1c2b3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"},
  "type": "payment_intent.succeeded"
}`

// benchFilter has five conditions on the Stripe event.
const benchFilter = `{
  "type": {"$in": ["payment_intent.succeeded", "charge.succeeded"]},
  "livemode": false,
  "data": {"object": {
    "amount": {"$gte": 1000},
    "currency": "usd",
    "payment_method_types": "card"
  }}
}`

func BenchmarkMatch(b *testing.B) {
	f, err := Compile(json.RawMessage(benchFilter))
	if err != nil {
		b.Fatal(err)
	}
	body := Decode([]byte(stripeEvent))
	if !f.Match(body) {
		b.Fatal("benchmark filter does not match")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.Match(body)
	}
}

func BenchmarkMatchRef(b *testing.B) {
	f, err := Compile(json.RawMessage(`{"data":{"object":{"amount_received":{"$gte":{"$ref":"data.object.amount"}},"charges":{"data":{"$exist":true}}}}}`))
	if err != nil {
		b.Fatal(err)
	}
	body := Decode([]byte(stripeEvent))
	if !f.Match(body) {
		b.Fatal("benchmark filter does not match")
	}
	b.ReportAllocs()
	for b.Loop() {
		f.Match(body)
	}
}

func BenchmarkDecode(b *testing.B) {
	raw := []byte(stripeEvent)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Decode(raw)
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(json.RawMessage(benchFilter)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchBodySize(t *testing.T) {
	if n := len(stripeEvent); n < 2048 || n > 3072 {
		t.Fatalf("Stripe-like body is %d bytes, want about 2 KiB", n)
	}
}

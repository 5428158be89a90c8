package transform

import (
	"context"
	"syscall"
	"testing"
)

const benchSmall = `addHandler('transform', (request, context) => {
  request.headers['x-env'] = context.env.STAGE;
  request.body.processed = true;
  request.body.amount_cents = Math.round(request.body.amount * 100);
  return request;
})`

const benchTypical = `addHandler('transform', (request, context) => {
  const items = request.body.items.map(i => ({ sku: i.sku.toUpperCase(), qty: Number(i.qty) }));
  request.body = Object.assign({}, request.body, { items, total: items.reduce((a, i) => a + i.qty, 0) });
  request.headers['x-digest'] = String(JSON.stringify(items).length);
  console.log('items', items.length);
  return request;
})`

func benchRequest() Request {
	items := make([]any, 10)
	for i := range items {
		items[i] = map[string]any{"sku": "sku-a", "qty": "2"}
	}
	return Request{
		Headers: map[string]string{"content-type": "application/json", "user-agent": "bench"},
		Body:    map[string]any{"id": "evt_1", "amount": 12.5, "items": items, "customer": map[string]any{"email": "a@b.c"}},
		Path:    "/webhooks",
		Query:   "a=1",
	}
}

// processCPU is the CPU time the process has used, all threads (GC
// included). The benchmarks report it per op as cpu-ns/op next to the
// wall-clock ns/op, which a shared, loaded machine inflates.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchmarkRun(b *testing.B, code string) {
	e := NewEngine(Config{})
	env := map[string]string{"STAGE": "prod"}
	in := benchRequest()
	if _, err := e.Run(context.Background(), code, env, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := e.Run(context.Background(), code, env, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRunSmall is a small transform: a header, two body fields.
func BenchmarkRunSmall(b *testing.B) { benchmarkRun(b, benchSmall) }

// BenchmarkRunTypical maps an item list, uses JSON.stringify and console.
func BenchmarkRunTypical(b *testing.B) { benchmarkRun(b, benchTypical) }

// BenchmarkRunSmallParallel runs the small transform from GOMAXPROCS goroutines.
func BenchmarkRunSmallParallel(b *testing.B) {
	e := NewEngine(Config{})
	env := map[string]string{"STAGE": "prod"}
	in := benchRequest()
	b.ReportAllocs()
	start := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Run(context.Background(), benchSmall, env, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPrepareRuntime is what a dropped runtime costs to replace:
// goja.New, hardening, host objects, lockdown.
func BenchmarkPrepareRuntime(b *testing.B) {
	lim := NewEngine(Config{}).lim
	b.ReportAllocs()
	start := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := newSandbox(&lim); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

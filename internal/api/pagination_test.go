package api

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
)

func TestPaginationOverSeven(t *testing.T) {
	b := setup(t)
	var created []string // oldest first
	for i := range 7 {
		s := b.must(200, "POST", typedV+"/sources", fmt.Sprintf(`{"name":"s%d"}`, i))
		created = append(created, str(s, "id"))
	}
	desc := slices.Clone(created)
	slices.Reverse(desc)

	type page struct {
		ids        []string
		next, prev string
	}
	fetch := func(query string) page {
		t.Helper()
		body := b.must(200, "GET", typedV+"/sources?"+query, "")
		pg, _ := body["pagination"].(map[string]any)
		if pg["order_by"] != "created_at" || pg["limit"] != float64(3) {
			t.Fatalf("pagination = %v", pg)
		}
		ids := models(t, body)
		if body["count"] != float64(len(ids)) {
			t.Errorf("count %v for %d models", body["count"], len(ids))
		}
		next, _ := pg["next"].(string)
		prev, _ := pg["prev"].(string)
		return page{ids, next, prev}
	}
	for _, dir := range []struct {
		name  string
		query string
		order []string
	}{{"desc (default)", "limit=3", desc}, {"asc", "limit=3&dir=asc", created}} {
		t.Run(dir.name, func(t *testing.T) {
			p1 := fetch(dir.query)
			want := [][]string{dir.order[:3], dir.order[3:6], dir.order[6:]}
			if !slices.Equal(p1.ids, want[0]) || p1.next == "" || p1.prev != "" {
				t.Fatalf("page 1 = %+v, want ids %v with next only", p1, want[0])
			}
			p2 := fetch(dir.query + "&next=" + url.QueryEscape(p1.next))
			if !slices.Equal(p2.ids, want[1]) || p2.next == "" || p2.prev == "" {
				t.Fatalf("page 2 = %+v, want %v with next and prev", p2, want[1])
			}
			p3 := fetch(dir.query + "&next=" + url.QueryEscape(p2.next))
			if !slices.Equal(p3.ids, want[2]) || p3.next != "" || p3.prev == "" {
				t.Fatalf("page 3 = %+v, want %v with prev only", p3, want[2])
			}
			back2 := fetch(dir.query + "&prev=" + url.QueryEscape(p3.prev))
			if !slices.Equal(back2.ids, want[1]) || back2.next == "" || back2.prev == "" {
				t.Fatalf("prev of page 3 = %+v, want %v", back2, want[1])
			}
			back1 := fetch(dir.query + "&prev=" + url.QueryEscape(back2.prev))
			if !slices.Equal(back1.ids, want[0]) || back1.prev != "" || back1.next == "" {
				t.Fatalf("prev of page 2 = %+v, want %v with next only", back1, want[0])
			}
			again := fetch(dir.query + "&next=" + url.QueryEscape(back1.next))
			if !slices.Equal(again.ids, want[1]) {
				t.Fatalf("next after going back = %v, want %v", again.ids, want[1])
			}
		})
	}
	empty := b.must(200, "GET", typedV+"/sources?limit=0", "")
	if ids := models(t, empty); len(ids) != 0 || get(empty, "pagination", "next") != nil {
		t.Errorf("limit=0 answer = %v", empty)
	}
	all := b.must(200, "GET", typedV+"/sources", "")
	if get(all, "pagination", "limit") != float64(100) || get(all, "pagination", "dir") != "desc" || len(models(t, all)) != 7 {
		t.Errorf("default page = %v", all["pagination"])
	}
}

func TestQueryArrayForms(t *testing.T) {
	b := setup(t)
	var ids []string
	for i := range 3 {
		s := b.must(200, "POST", legacyV+"/sources", fmt.Sprintf(`{"name":"q%d"}`, i))
		ids = append(ids, str(s, "id"))
	}
	want := []string{ids[2], ids[0]}
	for _, q := range []string{
		"id=" + ids[0] + "&id=" + ids[2],
		"id[0]=" + ids[0] + "&id[1]=" + ids[2],
		"id=" + ids[0] + "," + ids[2],
		"id=" + url.QueryEscape(`["`+ids[0]+`","`+ids[2]+`"]`),
		"name=q0&name=q2",
		"name[0]=q2&name[1]=q0",
		"name=q0,q2",
	} {
		t.Run(q, func(t *testing.T) {
			got := models(t, b.must(200, "GET", legacyV+"/sources?"+q, ""))
			if !slices.Equal(got, want) {
				t.Errorf("models = %v, want %v", got, want)
			}
		})
	}
	if n := b.must(200, "GET", legacyV+"/sources/count?id[0]="+ids[1], ""); n["count"] != float64(1) {
		t.Errorf("count = %v", n)
	}
}

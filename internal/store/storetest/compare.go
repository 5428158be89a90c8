package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-gw/sluice/internal/store"
)

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// equal fails the test unless got and want are equal up to storage
// details that carry no meaning: time zones (times compare as UTC
// instants), nil versus empty slices and maps, and JSON formatting (key
// order, white space, a JSON null versus no value).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := normalized(got), normalized(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got: %s\nwant: %s", what, show(g), show(w))
	}
}

// show prints v with pointers followed, for failure messages.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

func normalized(v any) any {
	rv := reflect.New(reflect.TypeOf(v)).Elem()
	rv.Set(reflect.ValueOf(v))
	normalize(rv)
	return rv.Interface()
}

// normalize rewrites v in place (copying whatever it reaches through
// pointers and slices, so the caller's values are untouched).
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		normalize(c.Elem())
		v.Set(c)
	case reflect.Slice:
		if v.Type() == rawType {
			v.Set(reflect.ValueOf(canonicalJSON(v.Interface().(json.RawMessage))))
			return
		}
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalize(c.Index(i))
		}
		v.Set(c)
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
		}
	}
}

// canonicalJSON re-encodes raw with sorted keys and no white space; empty
// and null become nil.
func canonicalJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return raw
	}
	if x == nil {
		return nil
	}
	b, _ := json.Marshal(x)
	return b
}

// sameIDs fails the test unless got lists exactly want, in order.
func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got: %s\nwant: %s", what, strings.Join(got, " "), strings.Join(want, " "))
	}
}

// sameSet fails the test unless got and want hold the same ids, in any order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	sameIDs(t, what, g, w)
}

// reversed returns a reversed copy of ids.
func reversed(ids []string) []string {
	r := slices.Clone(ids)
	slices.Reverse(r)
	return r
}

// checkPaging walks every page of a list with the given limit, in both
// directions, and checks the concatenation equals all (ascending ids).
// list returns one page's ids.
func checkPaging(t *testing.T, what string, all []string, limit int, list func(p store.Page) ([]string, error)) {
	t.Helper()
	for _, asc := range []bool{true, false} {
		want := all
		if !asc {
			want = reversed(all)
		}
		var got []string
		after := ""
		for range len(all) + 2 {
			page, err := list(store.Page{Limit: limit, Asc: asc, After: after})
			if err != nil {
				t.Fatalf("%s page after %q: %v", what, after, err)
			}
			if len(page) > limit {
				t.Fatalf("%s: page of %d rows exceeds limit %d", what, len(page), limit)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		sameIDs(t, fmt.Sprintf("%s (asc=%v, limit %d)", what, asc, limit), got, want)
	}
	// No limit means the default page size, newest first.
	page, err := list(store.Page{})
	if err != nil {
		t.Fatalf("%s default page: %v", what, err)
	}
	want := reversed(all)
	if len(want) > store.DefaultPageLimit {
		want = want[:store.DefaultPageLimit]
	}
	sameIDs(t, what+" (default page)", page, want)
}

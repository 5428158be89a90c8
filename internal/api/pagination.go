package api

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-gw/sluice/internal/store"
)

// Page sizes (Hookdeck's list limit is 0–255, 100 by default).
const (
	defaultLimit = 100
	maxLimit     = 255
)

// cursorPrefix versions the opaque cursor format: base64url("c1:" + id),
// the id of the row at the page boundary.
const cursorPrefix = "c1:"

// pageReq is a list request's paging: order, size and cursor.
type pageReq struct {
	limit int
	asc   bool
	// after is the boundary id from the cursor, "" on the first page.
	after string
	// backward is set when the cursor came as prev: the store is read in
	// the opposite direction from the boundary and the rows reversed.
	backward bool
}

// pagination is the "pagination" object of a list answer.
type pagination struct {
	OrderBy string `json:"order_by"`
	Dir     string `json:"dir"`
	Limit   int    `json:"limit"`
	// Next and Prev are left out when there is no such page: the
	// document's SeekPagination has them as optional, non-nullable
	// strings.
	Next *string `json:"next,omitempty"`
	Prev *string `json:"prev,omitempty"`
}

// listResult is a list answer.
type listResult struct {
	Pagination pagination `json:"pagination"`
	Count      int        `json:"count"`
	Models     any        `json:"models"`
}

// parsePage reads order_by, dir, limit, next and prev. Sluice orders every
// list by created_at (ids sort by creation time); any other order_by is a
// 400 naming the field.
func parsePage(q query) (pageReq, error) {
	p := pageReq{limit: defaultLimit}
	if ob := q.str("order_by"); ob != "" && ob != "created_at" {
		return p, badRequest("order_by", fmt.Sprintf("only created_at is supported, not %q", ob))
	}
	switch d := strings.ToLower(q.str("dir")); d {
	case "", "desc":
	case "asc":
		p.asc = true
	default:
		return p, badRequest("dir", fmt.Sprintf("must be asc or desc, not %q", d))
	}
	if l := q.str("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > maxLimit {
			return p, badRequest("limit", fmt.Sprintf("must be an integer from 0 to %d, not %q", maxLimit, l))
		}
		p.limit = n
	}
	next, prev := q.str("next"), q.str("prev")
	if next != "" && prev != "" {
		return p, badRequest("next", "give next or prev, not both")
	}
	var err error
	switch {
	case next != "":
		p.after, err = decodeCursor("next", next)
	case prev != "":
		p.after, err = decodeCursor("prev", prev)
		p.backward = true
	}
	return p, err
}

// store returns the store page that fetches one row more than the limit,
// to learn whether another page follows.
func (p pageReq) store() store.Page {
	return store.Page{Limit: p.limit + 1, Asc: p.asc != p.backward, After: p.after}
}

// empty reports whether the page can hold nothing (limit=0), so the store
// need not be asked.
func (p pageReq) empty() bool { return p.limit == 0 }

// paginate trims rows (fetched with p.store()) to the page, puts them in
// the requested direction and computes the cursors.
func paginate[T any](p pageReq, rows []T, id func(T) string) ([]T, pagination) {
	pg := pagination{OrderBy: "created_at", Dir: "desc", Limit: p.limit}
	if p.asc {
		pg.Dir = "asc"
	}
	more := len(rows) > p.limit
	if more {
		rows = rows[:p.limit]
	}
	if p.backward {
		slices.Reverse(rows)
	}
	if len(rows) == 0 {
		return rows, pg
	}
	first, last := encodeCursor(id(rows[0])), encodeCursor(id(rows[len(rows)-1]))
	switch {
	case p.backward:
		// Rows before the cursor: more means still earlier rows; the
		// cursor's own page follows.
		if more {
			pg.Prev = &first
		}
		pg.Next = &last
	case p.after != "":
		if more {
			pg.Next = &last
		}
		pg.Prev = &first
	default:
		if more {
			pg.Next = &last
		}
	}
	return rows, pg
}

// list builds a list answer from fetched rows.
func list[T, R any](p pageReq, rows []T, id func(T) string, render func(T) R) listResult {
	rows, pg := paginate(p, rows, id)
	models := make([]R, 0, len(rows))
	for _, r := range rows {
		models = append(models, render(r))
	}
	return listResult{Pagination: pg, Count: len(models), Models: models}
}

// encodeCursor makes an opaque cursor from a boundary id.
func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id))
}

// decodeCursor reads a cursor given as the named parameter.
func decodeCursor(field, c string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(c, "="))
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) || len(raw) == len(cursorPrefix) {
		return "", badRequest(field, "is not a cursor this server issued")
	}
	return string(raw[len(cursorPrefix):]), nil
}

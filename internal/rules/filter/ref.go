package filter

import (
	"errors"
	"strconv"
	"strings"
)

// refPath is a compiled $ref path: the subset of JSONPath that
// simple-json-match documents (a.b, a[1], a[$index].b, ['quoted name'],
// optionally starting with $).
type refPath struct {
	segs []refSeg
}

type segKind uint8

const (
	segName  segKind = iota // .name or ['name']: object key (or array index/length on arrays)
	segIndex                // [n]: array index
	segDyn                  // [$index]: the index of the enclosing array iteration
)

type refSeg struct {
	kind segKind
	name string
	n    int // segIndex: the index (-1 when too large); segDyn: which $index (0 = outermost)
}

// parseRef compiles a $ref path. foldFirst lower-cases a leading name (used
// for header filters, whose header names are matched case-insensitively).
func parseRef(s string, foldFirst bool) (*refPath, error) {
	if s == "" {
		return nil, errors.New("empty path")
	}
	p := &refPath{}
	rest := s
	switch {
	case rest[0] == '$':
		rest = rest[1:]
		if rest != "" && rest[0] != '.' && rest[0] != '[' {
			return nil, errors.New("after $ expected . or [")
		}
	case rest[0] == '[':
	default:
		rest = "." + rest
	}
	dyn := 0
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if err := checkName(name); err != nil {
				return nil, err
			}
			p.segs = append(p.segs, refSeg{kind: segName, name: name})
			rest = rest[1+end:]
		case '[':
			seg, n, err := parseBracket(rest)
			if err != nil {
				return nil, err
			}
			if seg.kind == segDyn {
				seg.n = dyn
				dyn++
			}
			p.segs = append(p.segs, seg)
			rest = rest[n:]
		default:
			return nil, errors.New("expected . or [ at " + strconv.Quote(rest))
		}
	}
	if foldFirst && len(p.segs) > 0 && p.segs[0].kind == segName {
		p.segs[0].name = strings.ToLower(p.segs[0].name)
	}
	return p, nil
}

// checkName accepts an identifier ([A-Za-z_][A-Za-z0-9_]*) or a run of digits.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name (recursive descent .. is not supported)")
	}
	if name == "*" {
		return errors.New("wildcards are not supported")
	}
	digits := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		isDigit := c >= '0' && c <= '9'
		digits = digits && isDigit
		if !(isDigit || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return errors.New("invalid name " + strconv.Quote(name) + " (use ['name'] for other characters)")
		}
	}
	if !digits && name[0] >= '0' && name[0] <= '9' {
		return errors.New("invalid name " + strconv.Quote(name))
	}
	return nil
}

// parseBracket parses one [ ... ] segment at the start of s and returns how
// many bytes it used.
func parseBracket(s string) (refSeg, int, error) {
	if len(s) < 3 {
		return refSeg{}, 0, errors.New("unterminated [")
	}
	switch q := s[1]; q {
	case '\'', '"':
		var b strings.Builder
		for i := 2; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				if i+1 >= len(s) || s[i+1] != ']' {
					return refSeg{}, 0, errors.New("expected ] after quoted name")
				}
				return refSeg{kind: segName, name: b.String()}, i + 2, nil
			default:
				b.WriteByte(c)
			}
		}
		return refSeg{}, 0, errors.New("unterminated quoted name")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return refSeg{}, 0, errors.New("unterminated [")
	}
	inner := s[1:end]
	if inner == "$index" {
		return refSeg{kind: segDyn}, end + 1, nil
	}
	for i := 0; i < len(inner); i++ {
		if inner[i] < '0' || inner[i] > '9' {
			return refSeg{}, 0, errors.New("unsupported subscript [" + inner + "] (want [n], [$index] or ['name'])")
		}
	}
	if inner == "" || (len(inner) > 1 && inner[0] == '0') {
		return refSeg{}, 0, errors.New("invalid index [" + inner + "]")
	}
	n, err := strconv.Atoi(inner)
	if err != nil {
		n = -1 // syntactically fine, never in range
	}
	return refSeg{kind: segIndex, n: n}, end + 1, nil
}

// resolve returns the value the path designates in root, given the indexes
// of the enclosing array iterations (outermost first). A path that leads
// nowhere yields null, as in simple-json-match; ok is false when root is not
// an object or array or when a [$index] has no enclosing array iteration,
// where simple-json-match fails the comparison.
func (p *refPath) resolve(root any, idx []int) (v any, ok bool) {
	if k := kindOf(root); k != kObj && k != kArr {
		return nil, false
	}
	cur := root
	for _, s := range p.segs {
		var found bool
		switch s.kind {
		case segName:
			cur, found = member(cur, s.name)
		case segIndex:
			cur, found = index(cur, s.n)
		case segDyn:
			if s.n >= len(idx) {
				return nil, false // [$index] outside an array iteration
			}
			cur, found = index(cur, idx[s.n])
		}
		if !found {
			return nil, true
		}
	}
	return cur, true
}

// member reads a property: an object key, or on an array a canonical index
// or "length" (as JavaScript property access does).
func member(v any, name string) (any, bool) {
	switch kindOf(v) {
	case kObj:
		return objGet(v, name)
	case kArr:
		if name == "length" {
			return float64(arrLen(v)), true
		}
		if name == "0" || (name != "" && name[0] >= '1' && name[0] <= '9') {
			if n, err := strconv.Atoi(name); err == nil {
				return index(v, n)
			}
		}
	}
	return nil, false
}

func index(v any, n int) (any, bool) {
	if kindOf(v) != kArr || n < 0 || n >= arrLen(v) {
		return nil, false
	}
	return arrAt(v, n), true
}

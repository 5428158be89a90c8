package filter

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind classifies a Go value as the JSON (JavaScript) type it stands for.
type kind uint8

const (
	kAbsent kind = iota // a missing object key (JavaScript undefined)
	kNull
	kBool
	kNum
	kStr
	kArr
	kObj
	kOther // not a JSON value: matches nothing
)

// absentT marks a key that is not present in the input object.
type absentT struct{}

var absent any = absentT{}

// kindOf reports the JSON type of v. It accepts what Decode produces and the
// obvious Go equivalents a caller may build by hand.
func kindOf(v any) kind {
	switch v.(type) {
	case nil:
		return kNull
	case string:
		return kStr
	case float64, json.Number, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8, float32:
		return kNum
	case bool:
		return kBool
	case map[string]any, map[string]string:
		return kObj
	case []any, []string:
		return kArr
	case absentT:
		return kAbsent
	}
	return kOther
}

func isPrimitive(k kind) bool { return k >= kNull && k <= kStr }

// num returns v as a float64 when v is a number.
func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil && !isRangeErr(err) {
			return 0, false
		}
		return f, true
	case int32:
		return float64(n), true
	case int16:
		return float64(n), true
	case int8:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint8:
		return float64(n), true
	case float32:
		return float64(n), true
	}
	return 0, false
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// arrLen returns the length of an array value (0 for non-arrays).
func arrLen(v any) int {
	switch a := v.(type) {
	case []any:
		return len(a)
	case []string:
		return len(a)
	}
	return 0
}

// arrAt returns element i of an array value; i must be in range.
func arrAt(v any, i int) any {
	switch a := v.(type) {
	case []any:
		return a[i]
	case []string:
		return a[i]
	}
	return nil
}

// objGet looks key up in an object value.
func objGet(v any, key string) (any, bool) {
	switch m := v.(type) {
	case map[string]any:
		x, ok := m[key]
		return x, ok
	case map[string]string:
		x, ok := m[key]
		if !ok {
			return nil, false
		}
		return x, true
	}
	return nil, false
}

// objLen returns the number of keys of an object value.
func objLen(v any) int {
	switch m := v.(type) {
	case map[string]any:
		return len(m)
	case map[string]string:
		return len(m)
	}
	return 0
}

// objEach calls fn for every key of an object value until fn returns false.
func objEach(v any, fn func(k string, x any) bool) bool {
	switch m := v.(type) {
	case map[string]any:
		for k, x := range m {
			if !fn(k, x) {
				return false
			}
		}
	case map[string]string:
		for k, x := range m {
			if !fn(k, x) {
				return false
			}
		}
	}
	return true
}

// looseEq is JavaScript's abstract equality (==) restricted to JSON
// primitives: null equals only null; a boolean compares as 1 or 0; a number
// and a string compare numerically after ToNumber(string).
func looseEq(a, b any) bool {
	ka, kb := kindOf(a), kindOf(b)
	if ka == kb {
		switch ka {
		case kStr:
			return a.(string) == b.(string)
		case kNum:
			x, _ := num(a)
			y, _ := num(b)
			return x == y
		case kBool:
			return a.(bool) == b.(bool)
		case kNull:
			return true
		}
		return false
	}
	if !isPrimitive(ka) || !isPrimitive(kb) || ka == kNull || kb == kNull {
		return false
	}
	x, y := toNumber(a), toNumber(b)
	return x == y // NaN never equals
}

// toNumber is JavaScript's ToNumber for JSON primitives.
func toNumber(v any) float64 {
	switch x := v.(type) {
	case string:
		return stringToNumber(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case nil:
		return 0
	}
	if f, ok := num(v); ok {
		return f
	}
	return math.NaN()
}

// isJSSpace reports whether r is JavaScript WhiteSpace or LineTerminator.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// stringToNumber implements JavaScript's StringToNumber: surrounding white
// space is ignored, "" is 0, 0x/0o/0b integers and Infinity are accepted,
// anything else that is not a decimal literal is NaN.
func stringToNumber(s string) float64 {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return radixToNumber(s[2:], base)
		}
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if !isDecimalLiteral(s) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return math.NaN()
	}
	return f
}

func radixToNumber(digits string, base int) float64 {
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return math.NaN()
		}
		if d >= base {
			return math.NaN()
		}
	}
	if u, err := strconv.ParseUint(digits, base, 64); err == nil {
		return float64(u)
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return math.NaN()
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

// isDecimalLiteral matches [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?.
func isDecimalLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return false
		}
	}
	return i == len(s)
}

// formatNumber is JavaScript's Number.prototype.toString() (radix 10).
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f < 0:
		return "-" + formatNumber(-f)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddddde±xx
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n, k := x+1, len(digits)
	switch {
	case k <= n && n <= 21:
		return digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return "0." + strings.Repeat("0", -n) + digits
	}
	sign := "+"
	if n-1 < 0 {
		sign = "-"
	}
	ex := strconv.Itoa(abs(n - 1))
	if k == 1 {
		return digits + "e" + sign + ex
	}
	return digits[:1] + "." + digits[1:] + "e" + sign + ex
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// compareUTF16 orders strings as JavaScript does: by UTF-16 code units.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b) // one is a prefix of the other (or equal)
	}
	for i > 0 && !utf8.RuneStart(a[i]) { // back up to the start of the differing rune
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	ua, ub := utf16Lead(ra), utf16Lead(rb)
	if ua != ub {
		return int(ua) - int(ub)
	}
	if ra != rb {
		return int(ra) - int(rb)
	}
	// Same rune (e.g. two different invalid bytes decoding to U+FFFD).
	return int(a[i]) - int(b[i])
}

// utf16Lead returns the first UTF-16 code unit of r.
func utf16Lead(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + ((r - 0x10000) >> 10)
	}
	return r
}

// compareJS evaluates a relational comparison (>, >=, <, <=) as JavaScript
// does for strings and numbers: two strings compare by code units, anything
// else numerically. ok is false when a side is not a string or number, and
// cmp is unusable (every comparison false) when a side is NaN.
func compareJS(a, b any) (cmp int, ok bool) {
	ka, kb := kindOf(a), kindOf(b)
	if (ka != kStr && ka != kNum) || (kb != kStr && kb != kNum) {
		return 0, false
	}
	if ka == kStr && kb == kStr {
		return compareUTF16(a.(string), b.(string)), true
	}
	x, y := toNumber(a), toNumber(b)
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return 0, false
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// deepEqual compares two values structurally and strictly (no type
// coercion), ignoring object key order. It stands in for JavaScript's
// JSON.stringify(a) == JSON.stringify(b).
func deepEqual(a, b any) bool {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb {
		return false
	}
	switch ka {
	case kNull:
		return true
	case kBool:
		return a.(bool) == b.(bool)
	case kStr:
		return a.(string) == b.(string)
	case kNum:
		x, _ := num(a)
		y, _ := num(b)
		return x == y
	case kArr:
		n := arrLen(a)
		if n != arrLen(b) {
			return false
		}
		for i := 0; i < n; i++ {
			if !deepEqual(arrAt(a, i), arrAt(b, i)) {
				return false
			}
		}
		return true
	case kObj:
		if objLen(a) != objLen(b) {
			return false
		}
		return objEach(a, func(k string, x any) bool {
			y, ok := objGet(b, k)
			return ok && deepEqual(x, y)
		})
	}
	return false
}

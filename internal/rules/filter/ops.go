package filter

import "strings"

// opCode identifies a value operator (every operator except the logical
// $or/$and/$not and $ref, which shape the schema itself).
type opCode uint8

const (
	opEq opCode = iota
	opNeq
	opGt
	opGte
	opLt
	opLte
	opIn
	opNin
	opStartsWith
	opEndsWith
	opExist
)

var opNames = map[string]opCode{
	"$eq": opEq, "$neq": opNeq,
	"$gt": opGt, "$gte": opGte, "$lt": opLt, "$lte": opLte,
	"$in": opIn, "$nin": opNin,
	"$startsWith": opStartsWith, "$endsWith": opEndsWith,
	"$exist": opExist,
}

// evalOp applies operator code to the input value v (absent for a missing
// key) and the operand arg (already resolved when it was a $ref). A type the
// operator does not support yields false, for negated operators too.
func evalOp(code opCode, v, arg any) bool {
	kv := kindOf(v)
	if code == opExist {
		want, ok := arg.(bool)
		return ok && want == (kv != kAbsent)
	}
	if kv == kAbsent || kv == kOther {
		return false
	}
	switch code {
	case opEq:
		return eqOp(v, arg)
	case opNeq:
		return kindOf(arg) != kOther && !eqOp(v, arg)
	case opGt, opGte, opLt, opLte:
		c, ok := compareJS(v, arg)
		if !ok {
			return false
		}
		switch code {
		case opGt:
			return c > 0
		case opGte:
			return c >= 0
		case opLt:
			return c < 0
		}
		return c <= 0
	case opIn:
		in, ok := inOp(v, arg)
		return ok && in
	case opNin:
		in, ok := inOp(v, arg)
		return ok && !in
	case opStartsWith:
		return affixOp(v, arg, strings.HasPrefix)
	case opEndsWith:
		return affixOp(v, arg, strings.HasSuffix)
	}
	return false
}

// eqOp is $eq: loose (==) equality between primitives, strict structural
// equality between arrays or objects, and false between a primitive and an
// array or object.
func eqOp(v, arg any) bool {
	kv, ka := kindOf(v), kindOf(arg)
	if isPrimitive(kv) && isPrimitive(ka) {
		return looseEq(v, arg)
	}
	if (kv == kArr || kv == kObj) && (ka == kArr || ka == kObj) {
		return deepEqual(v, arg)
	}
	return false
}

// inOp is $in: with an array operand, v (a primitive) is one of its strings
// or numbers (strict equality); with a string or number operand, v is a
// string containing it. ok is false for unsupported types.
func inOp(v, arg any) (in, ok bool) {
	kv := kindOf(v)
	if !isPrimitive(kv) {
		return false, false
	}
	switch kindOf(arg) {
	case kArr:
		n := arrLen(arg)
		for i := 0; i < n; i++ {
			if k := kindOf(arrAt(arg, i)); k != kStr && k != kNum {
				return false, false
			}
		}
		for i := 0; i < n; i++ {
			if strictEq(v, arrAt(arg, i)) {
				return true, true
			}
		}
		return false, true
	case kStr:
		s, isStr := v.(string)
		if !isStr {
			return false, false
		}
		return strings.Contains(s, arg.(string)), true
	case kNum:
		s, isStr := v.(string)
		if !isStr {
			return false, false
		}
		f, _ := num(arg)
		return strings.Contains(s, formatNumber(f)), true
	}
	return false, false
}

// strictEq is JavaScript's SameValueZero for strings and numbers.
func strictEq(a, b any) bool {
	ka, kb := kindOf(a), kindOf(b)
	if ka != kb {
		return false
	}
	switch ka {
	case kStr:
		return a.(string) == b.(string)
	case kNum:
		x, _ := num(a)
		y, _ := num(b)
		return x == y
	}
	return false
}

// affixOp is $startsWith/$endsWith: v is a string and the operand a string
// or an array of strings (any of them).
func affixOp(v, arg any, has func(s, affix string) bool) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	switch kindOf(arg) {
	case kStr:
		return has(s, arg.(string))
	case kArr:
		n := arrLen(arg)
		for i := 0; i < n; i++ {
			if _, ok := arrAt(arg, i).(string); !ok {
				return false
			}
		}
		for i := 0; i < n; i++ {
			if has(s, arrAt(arg, i).(string)) {
				return true
			}
		}
	}
	return false
}

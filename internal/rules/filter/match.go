package filter

// Match reports whether input (a value as produced by Decode, or built from
// the same Go types: nil, bool, float64 or other numbers, json.Number,
// string, []any, []string, map[string]any, map[string]string) satisfies the
// filter. It never fails: a type mismatch is simply no match. input must not
// contain cycles.
func (f *Filter) Match(input any) (ok bool) {
	if f == nil || f.root == nil {
		return true
	}
	defer func() {
		if recover() != nil {
			ok = false // defensive: a bug must drop the match, not the process
		}
	}()
	return f.match(input)
}

// match is Match without the recover, for tests and fuzzing.
func (f *Filter) match(input any) bool {
	c := ctx{root: input, track: f.usesIndex}
	return f.root.match(input, &c)
}

// ctx is the state of one evaluation: the root value that $ref paths start
// from, and (when the filter uses [$index]) the indexes of the enclosing
// array iterations.
type ctx struct {
	root  any
	track bool
	idx   []int
}

func (c *ctx) push(i int) {
	if c.track {
		c.idx = append(c.idx, i)
	}
}

func (c *ctx) pop() {
	if c.track {
		c.idx = c.idx[:len(c.idx)-1]
	}
}

func (n *node) match(v any, c *ctx) bool {
	switch n.kind {
	case nPrim:
		return matchPrim(v, n.prim)
	case nArray:
		return n.matchArray(v, c)
	}
	return n.matchObject(v, c)
}

// matchPrim: a primitive schema equals a primitive input (JavaScript ==) or
// is contained in an array input, at any depth of nested arrays.
func matchPrim(v, p any) bool {
	k := kindOf(v)
	if isPrimitive(k) {
		return looseEq(v, p)
	}
	if k == kArr {
		for i, n := 0, arrLen(v); i < n; i++ {
			if matchPrim(arrAt(v, i), p) {
				return true
			}
		}
	}
	return false
}

// matchArray: every element schema is matched by some element of the input
// array (order and extra elements do not matter).
func (n *node) matchArray(v any, c *ctx) bool {
	if kindOf(v) != kArr {
		return false
	}
	size := arrLen(v)
	for _, sub := range n.elems {
		found := false
		for i := 0; i < size && !found; i++ {
			c.push(i)
			found = sub.match(arrAt(v, i), c)
			c.pop()
		}
		if !found {
			return false
		}
	}
	return true
}

// matchObject: all operators hold for the value, $not does not match it, and
// the element part matches the value (or, for an array, one of its elements).
func (n *node) matchObject(v any, c *ctx) bool {
	for i := range n.ops {
		op := &n.ops[i]
		arg := op.arg
		if op.ref != nil {
			var ok bool
			if arg, ok = op.ref.resolve(c.root, c.idx); !ok {
				return false
			}
		}
		if !evalOp(op.code, v, arg) {
			return false
		}
	}
	if n.not != nil && n.not.match(v, c) {
		return false
	}
	return !n.hasElem || n.matchElem(v, c)
}

// matchElem evaluates fields, $or, $and and $ref against v, or against any
// element of v when v is an array.
func (n *node) matchElem(v any, c *ctx) bool {
	k := kindOf(v)
	if k == kArr {
		for i, size := 0, arrLen(v); i < size; i++ {
			c.push(i)
			ok := n.matchElem(arrAt(v, i), c)
			c.pop()
			if ok {
				return true
			}
		}
		return false
	}
	if n.isObject {
		if k != kObj {
			return false
		}
		for i := range n.fields {
			f := &n.fields[i]
			x, ok := objGet(v, f.key)
			if !ok {
				x = absent
			}
			if !f.sub.match(x, c) {
				return false
			}
		}
	}
	if n.hasOr {
		hit := false
		for _, sub := range n.or {
			if sub.match(v, c) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	for _, sub := range n.and {
		if !sub.match(v, c) {
			return false
		}
	}
	if n.ref != nil {
		lit, ok := n.ref.resolve(c.root, c.idx)
		return ok && matchLiteral(v, lit)
	}
	return true
}

// matchLiteral matches v against a referenced input value used as a schema.
// The value is taken literally: its keys are never read as operators.
func matchLiteral(v, lit any) bool {
	switch kindOf(lit) {
	case kNull, kBool, kNum, kStr:
		return matchPrim(v, lit)
	case kArr:
		if kindOf(v) != kArr {
			return false
		}
		for i, n := 0, arrLen(lit); i < n; i++ {
			found := false
			for j, m := 0, arrLen(v); j < m && !found; j++ {
				found = matchLiteral(arrAt(v, j), arrAt(lit, i))
			}
			if !found {
				return false
			}
		}
		return true
	case kObj:
		switch kindOf(v) {
		case kArr:
			for i, n := 0, arrLen(v); i < n; i++ {
				if matchLiteral(arrAt(v, i), lit) {
					return true
				}
			}
			return false
		case kObj:
			return objEach(lit, func(k string, x any) bool {
				y, ok := objGet(v, k)
				return ok && matchLiteral(y, x)
			})
		}
	}
	return false
}

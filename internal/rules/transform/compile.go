package transform

import (
	"container/list"
	"fmt"
	"math/big"
	"reflect"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
)

// programCache holds compiled programs by code, least recently used first
// out. A goja.Program is immutable and safe to run in many runtimes at once,
// so one compilation serves every run of the same code.
//
// The key is the code itself: Go's map hashes it (no SHA-256 pass over up to
// 5 MiB per run), and a lookup with the same string the caller passed last
// time compares equal by pointer before comparing bytes.
type programCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List // front = most recently used; values are *cached
}

// cached is one cache entry: the program, or the error the code compiles to.
type cached struct {
	code string
	prog *goja.Program
	err  *ExecError
}

func newProgramCache(max int) *programCache {
	return &programCache{max: max, entries: make(map[string]*list.Element), order: list.New()}
}

// get returns the compiled program for code, compiling it on a miss.
// Compilation errors are cached too: an event stream hitting broken code
// pays for the parse once.
func (c *programCache) get(code string, maxBytes int) (*goja.Program, *ExecError) {
	c.mu.Lock()
	if el, ok := c.entries[code]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cached)
		c.mu.Unlock()
		return e.prog, e.err
	}
	c.mu.Unlock()

	// Compile outside the lock; two first runs of the same code may both
	// compile, which is harmless.
	prog, err := compile(code, maxBytes)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[code]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cached)
		return e.prog, e.err
	}
	c.entries[code] = c.order.PushFront(&cached{code: code, prog: prog, err: err})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cached).code)
	}
	return prog, err
}

// wrapperPrefix and wrapperSuffix put user code in a function body, so
// that each run evaluates it in a fresh scope: its top-level var, let,
// const, class and function declarations are locals of that run instead of
// bindings of the shared global environment (a second evaluation of a
// top-level "let x" in the same runtime would otherwise be a redeclaration
// error, and a global binding would outlive the run). The prefix is a line
// of its own, so user line n is line n+1 and columns are unchanged.
const (
	wrapperPrefix = "(function () {\n"
	wrapperSuffix = "\n})"
	wrapperLines  = 1
)

// compile checks user code as a script (Hookdeck runs it as one), then
// compiles it wrapped in a function for execution. Source maps are disabled:
// goja would otherwise follow a "//# sourceMappingURL=" comment and read
// that path from the filesystem.
func compile(code string, maxBytes int) (*goja.Program, *ExecError) {
	if len(code) > maxBytes {
		return nil, &ExecError{Kind: KindSyntax,
			Message: fmt.Sprintf("code is %d bytes; the limit is %d bytes", len(code), maxBytes)}
	}
	script, err := parser.ParseFile(nil, scriptName, code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err, 0)
	}
	if idx, ok := findBigInt(script); ok {
		p := script.File.Position(int(idx) - script.File.Base())
		return nil, &ExecError{Kind: KindSyntax, Line: p.Line, Column: p.Column,
			Message: fmt.Sprintf("SyntaxError: BigInt literals are not supported in transformations (%s:%d:%d)", scriptName, p.Line, p.Column)}
	}
	// A valid script cannot close the wrapper's brace, but check the shape
	// anyway: a single expression statement holding the function.
	wrapped, err := parser.ParseFile(nil, scriptName, wrapperPrefix+code+wrapperSuffix, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, syntaxError(err, wrapperLines)
	}
	if !isWrapper(wrapped) {
		return nil, &ExecError{Kind: KindSyntax, Message: "SyntaxError: unexpected end of code"}
	}
	prog, err := goja.CompileAST(wrapped, false)
	if err != nil {
		return nil, syntaxError(err, wrapperLines)
	}
	return prog, nil
}

// isWrapper reports whether tree is exactly one function expression.
func isWrapper(tree *ast.Program) bool {
	if len(tree.Body) != 1 {
		return false
	}
	st, ok := tree.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return false
	}
	_, ok = st.Expression.(*ast.FunctionLiteral)
	return ok
}

var (
	numberLiteralType = reflect.TypeOf(ast.NumberLiteral{})
	bigIntType        = reflect.TypeOf((*big.Int)(nil))
	fileType          = reflect.TypeOf(file.File{})
)

// findBigInt reports the position of the first BigInt literal in the tree.
// BigInt arithmetic runs in native Go code that neither the interrupt nor
// the memory watchdog can stop (2n ** (2n ** 40n) asks for 128 GiB at
// once), so the sandbox refuses BigInt: no literals here, and no BigInt
// global, typed arrays or eval at run time.
func findBigInt(tree *ast.Program) (file.Idx, bool) {
	var found file.Idx
	seen := make(map[uintptr]bool)
	var walk func(v reflect.Value) bool
	walk = func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || v.Type().Elem() == fileType || seen[v.Pointer()] {
				return false
			}
			seen[v.Pointer()] = true
			return walk(v.Elem())
		case reflect.Interface:
			if v.IsNil() {
				return false
			}
			return walk(v.Elem())
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				if walk(v.Index(i)) {
					return true
				}
			}
		case reflect.Struct:
			if v.Type() == numberLiteralType {
				lit := v.Interface().(ast.NumberLiteral)
				if reflect.TypeOf(lit.Value) == bigIntType {
					found = lit.Idx
					return true
				}
				return false
			}
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() && walk(v.Field(i)) {
					return true
				}
			}
		}
		return false
	}
	ok := walk(reflect.ValueOf(tree))
	return found, ok
}

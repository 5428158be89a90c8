package transform

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Kinds of ExecError.
const (
	// KindSyntax: the code does not compile (or is too large, or uses a
	// construct the sandbox refuses, such as a BigInt literal).
	KindSyntax = "syntax"
	// KindRuntime: the code threw, overflowed the call stack, or did not
	// register a transform handler.
	KindRuntime = "runtime"
	// KindTimeout: the run exceeded Config.Timeout.
	KindTimeout = "timeout"
	// KindMemory: the memory watchdog stopped a run that grew the heap by
	// more than Config.MaxMemoryBytes.
	KindMemory = "memory"
	// KindInvalidOutput: the handler returned something that is not a valid
	// request (wrong type, wrong field types, too large, circular).
	KindInvalidOutput = "invalid_output"
)

// ExecError is a failure of the transformation itself, as opposed to a
// failure of the engine or a cancelled context: the router records it as an
// ignored event TRANSFORMATION_FAILED with Message, and the API answers 422.
type ExecError struct {
	// Kind is one of KindSyntax, KindRuntime, KindTimeout, KindMemory,
	// KindInvalidOutput.
	Kind string
	// Message is meant for the transformation's author: it names the
	// problem and, where known, the position ("transform.js:3:7") and the
	// JavaScript stack.
	Message string
	// Line and Column locate the error in the code (1-based), 0 if unknown.
	Line, Column int
}

// Error implements error.
func (e *ExecError) Error() string {
	return "transformation " + e.Kind + " error: " + e.Message
}

// scriptName is the file name user code is compiled under; it appears in
// positions and stacks.
const scriptName = "transform.js"

// maxStackFrames bounds the JavaScript stack quoted in a runtime error.
const maxStackFrames = 10

// syntaxError turns a parse or compile error into an ExecError with the
// position in the message; skip is the number of wrapper lines before the
// user's first line.
func syntaxError(err error, skip int) *ExecError {
	at := func(msg string, line, col int) *ExecError {
		line -= skip
		if line < 1 {
			line, col = 1, 1
		}
		return &ExecError{Kind: KindSyntax, Line: line, Column: col,
			Message: fmt.Sprintf("SyntaxError: %s (%s:%d:%d)", msg, scriptName, line, col)}
	}
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return at(list[0].Message, list[0].Position.Line, list[0].Position.Column)
	}
	var one *parser.Error
	if errors.As(err, &one) {
		return at(one.Message, one.Position.Line, one.Position.Column)
	}
	var cse *goja.CompilerSyntaxError
	if errors.As(err, &cse) {
		if cse.File != nil {
			p := cse.File.Position(cse.Offset)
			return at(cse.Message, p.Line, p.Column)
		}
		return &ExecError{Kind: KindSyntax, Message: "SyntaxError: " + cse.Message}
	}
	return &ExecError{Kind: KindSyntax, Message: "SyntaxError: " + err.Error()}
}

// exceptionError builds a runtime ExecError from the rendered thrown value
// and the JavaScript stack, innermost frame first.
func exceptionError(desc string, stack []goja.StackFrame) *ExecError {
	e := &ExecError{Kind: KindRuntime}
	var b strings.Builder
	b.WriteString(desc)
	frames := 0
	for _, f := range stack {
		pos := f.Position()
		if f.SrcName() != scriptName || pos.Line <= wrapperLines {
			continue // native or sandbox frame: nothing of the user's
		}
		pos.Line -= wrapperLines
		if e.Line == 0 {
			e.Line, e.Column = pos.Line, pos.Column
		}
		if frames == maxStackFrames {
			b.WriteString("\n    at ...")
			break
		}
		fmt.Fprintf(&b, "\n    at %s (%s:%d:%d)", f.FuncName(), scriptName, pos.Line, pos.Column)
		frames++
	}
	e.Message = b.String()
	return e
}

// describeThrown renders a thrown value: an Error as its toString
// ("TypeError: x is not a function"), anything else as "Uncaught " and its
// console rendering. It may run user code (toString, getters), so it only
// runs under protect.
func describeThrown(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Error" {
		return truncate(o.String(), maxMessageBytes)
	}
	r := renderer{budget: maxMessageBytes}
	r.value(v, 0, true)
	return "Uncaught " + r.String()
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

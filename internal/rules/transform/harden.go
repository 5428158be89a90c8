package transform

import (
	"sync"

	"github.com/dop251/goja"
)

// hardenSource runs in every fresh runtime before any user code. It removes
// what a transformation must not have and puts length checks in front of
// the built-ins that allocate in one native step, where neither the
// interrupt nor the memory watchdog can stop them:
//
//   - code generation from strings (eval, Function, GeneratorFunction,
//     AsyncFunction constructors) throws EvalError, as in a V8 isolate with
//     code generation disallowed; it would also bypass the compile-time
//     BigInt check;
//   - BigInt, ArrayBuffer, DataView and the typed arrays are removed (their
//     constructors and arithmetic allocate natively, unbounded), as is
//     goja's own GoError;
//   - String.prototype.repeat/padStart/padEnd, Array.prototype.fill/join,
//     Array.from, Function.prototype.apply, Reflect.apply/construct check the
//     size of what they are about to build, and Array.prototype.flat the
//     depth it recurses to (natively, in Go), and throw RangeError beyond
//     the limits (V8's own messages).
//
// Every helper it uses is captured before user code runs, so later changes
// to globals by user code cannot disarm a guard.
const hardenSource = `(function () {
'use strict';
return function harden(maxStr, maxArr, maxArgs, maxDepth) {
  const g = globalThis;
  const O = Object, defineProperty = O.defineProperty, getPrototypeOf = O.getPrototypeOf;
  const apply = Reflect.apply, construct = Reflect.construct, S = String, N = Number;
  const RangeErr = RangeError, EvalErr = EvalError;
  const trunc = Math.trunc, max = Math.max, min = Math.min, iterSym = Symbol.iterator;
  const isArray = Array.isArray;

  const removed = ['GoError', 'BigInt', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Atomics',
    'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
    'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];
  for (let i = 0; i < removed.length; i++) delete g[removed[i]];

  const noCodegen = 'Code generation from strings disallowed for this context';
  const blockCtor = (name, proto) => {
    const f = ({ [name]: function () { throw new EvalErr(noCodegen); } })[name];
    defineProperty(f, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
    defineProperty(proto, 'constructor', { value: f, writable: true, enumerable: false, configurable: true });
    return f;
  };
  const hidden = (obj, name, value) =>
    defineProperty(obj, name, { value, writable: true, enumerable: false, configurable: true });
  hidden(g, 'Function', blockCtor('Function', Function.prototype));
  blockCtor('GeneratorFunction', getPrototypeOf(function* () {}));
  blockCtor('AsyncFunction', getPrototypeOf(async function () {}));
  hidden(g, 'eval', ({ eval(x) { if (typeof x !== 'string') return x; throw new EvalErr(noCodegen); } }).eval);

  const guard = (obj, name, make) => {
    const orig = obj[name];
    const f = make(orig);
    defineProperty(f, 'length', { value: orig.length, writable: false, enumerable: false, configurable: true });
    hidden(obj, name, f);
  };
  const tooLong = () => { throw new RangeErr('Invalid string length'); };
  const tooMany = () => { throw new RangeErr('Invalid array length'); };
  const toInt = (v) => { const n = N(v); return n !== n ? 0 : trunc(n); };
  const toLen = (v) => { const n = toInt(v); return n <= 0 ? 0 : min(n, 9007199254740991); };
  const rel = (v, len, dflt) => {
    if (v === undefined) return dflt;
    const n = toInt(v);
    return n < 0 ? max(len + n, 0) : min(n, len);
  };
  const checkArgs = (args) => {
    if (args !== undefined && args !== null && (typeof args === 'object' || typeof args === 'function') &&
        toLen(args.length) > maxArgs) {
      throw new RangeErr('Maximum call stack size exceeded');
    }
  };

  const SP = String.prototype, AP = Array.prototype;
  guard(SP, 'repeat', (orig) => ({ repeat(count) {
    if (this === undefined || this === null) return apply(orig, this, [count]);
    const s = S(this), n = toInt(count);
    if (n > 0 && n !== Infinity && s.length * n > maxStr) tooLong();
    return apply(orig, s, [n]);
  } }).repeat);
  for (const name of ['padStart', 'padEnd']) {
    guard(SP, name, (orig) => ({ [name](maxLength, fillString) {
      if (this === undefined || this === null) return apply(orig, this, [maxLength, fillString]);
      const s = S(this), n = toLen(maxLength);
      if (n > maxStr) tooLong();
      return apply(orig, s, [n, fillString]);
    } })[name]);
  }
  guard(AP, 'fill', (orig) => ({ fill(value, start, end) {
    if (this === undefined || this === null) return apply(orig, this, [value, start, end]);
    const o = O(this), len = toLen(o.length);
    const k = rel(start, len, 0), fin = rel(end, len, len);
    if (fin - k > maxArr) tooMany();
    return apply(orig, o, [value, k, fin]);
  } }).fill);
  guard(AP, 'join', (orig) => ({ join(separator) {
    if (this === undefined || this === null) return apply(orig, this, [separator]);
    const o = O(this), len = toLen(o.length);
    const sep = separator === undefined ? ',' : S(separator);
    if (len > maxArr) tooLong();
    let total = len > 0 ? sep.length * (len - 1) : 0;
    if (total > maxStr) tooLong();
    for (let i = 0; i < len; i++) {
      const v = o[i];
      if (typeof v === 'string' && (total += v.length) > maxStr) tooLong();
    }
    return apply(orig, o, [sep]);
  } }).join);
  guard(AP, 'flat', (orig) => ({ flat(depth) {
    const d = depth === undefined ? 1 : toInt(depth);
    if (d <= maxDepth) return apply(orig, this, [d]);
    const r = apply(orig, this, [maxDepth]);
    for (let i = 0; i < r.length; i++) {
      if (isArray(r[i])) throw new RangeErr('Maximum call stack size exceeded');
    }
    return r;
  } }).flat);
  guard(Array, 'from', (orig) => ({ from(items, mapFn, thisArg) {
    if (items !== undefined && items !== null && typeof items !== 'string') {
      const o = O(items);
      const it = o[iterSym];
      if ((isArray(o) || it === undefined || it === null) && toLen(o.length) > maxArr) tooMany();
    }
    return apply(orig, this, [items, mapFn, thisArg]);
  } }).from);
  guard(Function.prototype, 'apply', (orig) => ({ apply(thisArg, args) {
    checkArgs(args);
    return apply(orig, this, [thisArg, args]);
  } }).apply);
  guard(Reflect, 'apply', () => ({ apply(target, thisArg, args) {
    checkArgs(args);
    return apply(target, thisArg, args);
  } }).apply);
  guard(Reflect, 'construct', () => ({ construct(target, args, newTarget) {
    checkArgs(args);
    return arguments.length < 3 ? construct(target, args) : construct(target, args, newTarget);
  } }).construct);
};
})()`

// hardenProgram is hardenSource compiled once for all runtimes.
var hardenProgram = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("harden.js", hardenSource, false)
})

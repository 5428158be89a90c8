package transform

import (
	"sync"

	"github.com/dop251/goja"
)

// hardenSource runs once in every new runtime, before any user code. It removes
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
// Every helper it uses is captured before user code runs, and lockdown
// freezes the built-ins afterwards, so user code cannot disarm a guard.
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

// lockdownSource runs once in every new runtime after hardening and after
// the host objects (console, addHandler) are installed. It makes the
// runtime safe to reuse by making everything a script could change either
// immutable or resettable:
//
//   - every object reachable from the global object, plus the intrinsics
//     only syntax reaches (generator, async function and iterator
//     prototypes, %ThrowTypeError%), is frozen, so no run can change a
//     built-in another run will use;
//   - the global object's own properties become read-only and
//     non-configurable; it stays extensible so that sloppy code can still
//     create globals, and the returned reset function deletes whatever a run
//     added (reporting false when that is impossible: the runtime is then
//     dropped);
//   - before freezing, "constructor" and "toString" on the built-in
//     prototypes, the data properties of Object.prototype, and "name" and
//     "message" on the Error prototypes become accessors whose setter
//     defines an own property on the receiver. Without this, freezing makes
//     ordinary assignments like err.name = 'X' or obj.toString = f fail
//     (the "override mistake"). Assigning any other built-in name on an
//     instance still fails, as it would on a frozen prototype, and adding
//     methods to built-in prototypes is not possible.
const lockdownSource = `(function () {
'use strict';
return function lockdown() {
  const g = globalThis;
  const O = Object, defineProperty = O.defineProperty, getPrototypeOf = O.getPrototypeOf;
  const getOwnPropertyDescriptor = O.getOwnPropertyDescriptor, freeze = O.freeze;
  const ownKeys = Reflect.ownKeys, deleteProperty = Reflect.deleteProperty, isExtensible = O.isExtensible;
  const apply = Reflect.apply, TypeErr = TypeError, S = String;
  const SetCtor = Set, setHas = Set.prototype.has, setAdd = Set.prototype.add;

  const tame = (proto, key) => {
    const d = getOwnPropertyDescriptor(proto, key);
    if (d === undefined || !('value' in d) || !d.configurable) return;
    const value = d.value;
    defineProperty(proto, key, {
      get: getOwnPropertyDescriptor({ get [key]() { return value; } }, key).get,
      set: getOwnPropertyDescriptor({ set [key](v) {
        if (this === proto) throw new TypeErr("Cannot assign to read only property '" + S(key) + "' of object");
        if (this === null || (typeof this !== 'object' && typeof this !== 'function')) return;
        defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      } }, key).set,
      enumerable: d.enumerable,
      configurable: false,
    });
  };
  const errorProtos = [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError, AggregateError]
    .map((c) => c.prototype);
  const protos = [Array.prototype, Function.prototype, String.prototype, Number.prototype,
    Boolean.prototype, Symbol.prototype, Date.prototype, RegExp.prototype, Promise.prototype,
    Map.prototype, Set.prototype, WeakMap.prototype, WeakSet.prototype].concat(errorProtos);
  for (const key of ownKeys(O.prototype)) if (typeof key === 'string') tame(O.prototype, key);
  for (const p of protos) { tame(p, 'constructor'); tame(p, 'toString'); }
  for (const p of errorProtos) { tame(p, 'name'); tame(p, 'message'); }

  const roots = [
    getPrototypeOf(function* () {}),
    getPrototypeOf(async function () {}),
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(''[Symbol.iterator]()),
    getPrototypeOf(new Map()[Symbol.iterator]()),
    getPrototypeOf(new Set()[Symbol.iterator]()),
    getPrototypeOf(''.matchAll(/x/g)),
    getOwnPropertyDescriptor((function () { 'use strict'; return arguments; })(), 'callee').get,
    g,
  ];
  const seen = new SetCtor();
  const stack = roots;
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || apply(setHas, seen, [o])) continue;
    apply(setAdd, seen, [o]);
    if (o !== g) freeze(o);
    stack[stack.length] = getPrototypeOf(o);
    const keys = ownKeys(o);
    for (let i = 0; i < keys.length; i++) {
      const d = getOwnPropertyDescriptor(o, keys[i]);
      if (d === undefined) continue;
      if ('value' in d) {
        stack[stack.length] = d.value;
      } else {
        stack[stack.length] = d.get;
        stack[stack.length] = d.set;
      }
    }
  }

  const baseline = ownKeys(g);
  const known = new SetCtor(baseline);
  for (let i = 0; i < baseline.length; i++) {
    const d = getOwnPropertyDescriptor(g, baseline[i]);
    if ('value' in d) d.writable = false;
    d.configurable = false;
    defineProperty(g, baseline[i], d);
  }
  const proto = getPrototypeOf(g), size = baseline.length;
  return function reset() {
    if (!isExtensible(g) || getPrototypeOf(g) !== proto) return false;
    const keys = ownKeys(g);
    if (keys.length === size) return true;
    for (let i = 0; i < keys.length; i++) {
      if (!apply(setHas, known, [keys[i]]) && !deleteProperty(g, keys[i])) return false;
    }
    return true;
  };
};
})()`

// hardenProgram and lockdownProgram are compiled once for all runtimes.
var (
	hardenProgram = sync.OnceValue(func() *goja.Program {
		return goja.MustCompile("harden.js", hardenSource, false)
	})
	lockdownProgram = sync.OnceValue(func() *goja.Program {
		return goja.MustCompile("lockdown.js", lockdownSource, false)
	})
)

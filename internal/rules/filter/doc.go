// Package filter evaluates Hookdeck connection filters: JSON schemas matched
// against a request's body, headers, query and path.
//
// The language is Hookdeck's (the npm package simple-json-match, version
// 1.3.0, which Hookdeck publishes for its filter engine; the Go port in
// hookdeck/outpost was consulted but the JavaScript original wins where they
// differ). testdata/golden.json replays the upstream test suite, the readme
// examples and several hundred probes against that package's real answers.
//
// # Matching
//
//   - A primitive schema (string, number, boolean, null) equals a primitive
//     value with JavaScript's == : numbers compare numerically, "5" equals 5
//     and true equals 1 (useful for headers and query values, which are
//     strings), null equals only null. Against an array it means "contains",
//     at any depth of nested arrays.
//   - An object schema is partial: every field must exist and match; extra
//     input keys are fine. Against an array, its fields (and $or, $and, $ref)
//     must all be satisfied by one element. The empty object {} matches any
//     object (and any array holding one).
//   - An array schema against an array: every schema element is matched by
//     some input element, in any order.
//   - Operators may be combined in one object with each other and with
//     fields; every key must hold (AND). $eq $neq $gt $gte $lt $lte $in $nin
//     $startsWith $endsWith $exist and $not apply to the value as a whole,
//     arrays included:
//   - $eq/$neq: == between primitives; structural equality (key order
//     ignored, no coercion) between arrays/objects; a primitive never equals
//     an array or object.
//   - $gt $gte $lt $lte: two strings compare by UTF-16 code units, anything
//     else numerically after JavaScript's ToNumber ("10" > 9); booleans, null,
//     arrays and objects never compare.
//   - $in: with an array operand (of strings and numbers), the value is one
//     of them, strictly ("1" is not in [1]); with a string (or number)
//     operand, the value is a string containing it. $nin is the negation,
//     but a value of the wrong type matches neither (an array value, a
//     number against a string operand).
//   - $startsWith/$endsWith: the value is a string with that prefix/suffix,
//     or with any of an array of them.
//   - $exist: true if the key is present (even with null), false if absent.
//   - $or: [schemas] any; $and: [schemas] all; $not: schema negates.
//   - $ref: "path" matches the value against another value of the same part
//     (a.b, a[1], a['x-y'], $.a, a[$index].b, where each [$index] is the
//     index of the enclosing array iteration, outermost first; .length of an
//     array). It may also stand for an operand: {"$lte": {"$ref": "old"}}. A
//     path that leads nowhere yields null. The referenced value is taken
//     literally: its keys are never operators.
//
// A type mismatch is never an error, only no match. A filter never panics.
//
// # Deliberate differences from simple-json-match
//
// simple-json-match has structural accidents that make some well-formed
// filters never (or always) match. Sluice follows the documented intent
// instead; testdata/cases.js lists an example of each:
//
//  1. A null schema in $or/$and/$not (or the whole schema) is equality with
//     null; simple-json-match throws and never matches.
//  2. Operators at the top of a schema or of an $or/$and/$not branch apply to
//     the value; simple-json-match looks them up as field names of an object.
//  3. An array schema never matches an object; simple-json-match reads array
//     indexes as keys, so [] matches every object.
//  4. Every key of a schema object must hold; below the top level,
//     simple-json-match only evaluates the first of $or, $ref or the value
//     operators and ignores the other keys.
//  5. $not and $and work at any level (simple-json-match only honours them
//     at the top or on object values); $not of a falsy primitive is a
//     negation, not ignored.
//  6. A missing key is tested against its whole sub-schema, so {"$exist":
//     false} also counts inside $or or $not, and {"$not": {"$exist": true}}
//     matches it; every other operator needs a value (simple-json-match
//     fails a missing key unless $exist:false is at the top of its schema).
//  7. $ref always starts at the root of the part; simple-json-match restarts
//     from the current value inside $or/$and branches reached with a
//     primitive or an array.
//  8. $eq compares arrays/objects structurally, ignoring key order;
//     simple-json-match compares JSON text, so [1] equals "[1]".
//
// Compile rejects what simple-json-match accepts but can never evaluate:
// keys starting with "$" that are not operators (simple-json-match treats
// them as field names, so a payload key such as "$os" cannot be filtered
// on), operands of the wrong type, and $ref paths outside the subset above
// (wildcards, .., filters, slices, negative indexes).
//
// # Values
//
// Decode produces the values Match expects: JSON with numbers as float64
// (the doubles JavaScript sees), non-JSON bytes as one string. Match also
// accepts hand-built values of the same shape, with map[string]string,
// []string, Go integers and json.Number. Header filters match header names
// case-insensitively (the input's names are lower case).
package filter

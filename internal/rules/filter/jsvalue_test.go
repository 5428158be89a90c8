package filter

import (
	"math"
	"testing"
)

func TestStringToNumber(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		in   string
		want float64
	}{
		{"", 0}, {"   ", 0}, {"0", 0}, {"5", 5}, {" 5 ", 5}, {"\t\n\v\f\r 5\u00a0\ufeff\u2028\u3000", 5},
		{"-5", -5}, {"+5", 5}, {"5.", 5}, {".5", 0.5}, {"1e3", 1000}, {"1E-2", 0.01}, {"1e+2", 100},
		{"0x10", 16}, {"0X1f", 31}, {"0o17", 15}, {"0b101", 5}, {"0xffffffffffffffffff", 4.722366482869645e+21},
		{"Infinity", math.Inf(1)}, {"+Infinity", math.Inf(1)}, {"-Infinity", math.Inf(-1)}, {"1e400", math.Inf(1)},
		{"abc", nan}, {"1_000", nan}, {"-0x10", nan}, {"0x", nan}, {"0xg", nan}, {"0b2", nan}, {"inf", nan},
		{"infinity", nan}, {"NaN", nan}, {"1e", nan}, {"e1", nan}, {".", nan}, {"1.2.3", nan}, {"0x1p3", nan},
		{"\u0085 5", nan}, {"--5", nan}, {"5 5", nan},
	}
	for _, tc := range cases {
		got := stringToNumber(tc.in)
		if !(got == tc.want || (math.IsNaN(got) && math.IsNaN(tc.want))) {
			t.Errorf("stringToNumber(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {100, "100"},
		{123456789012345680000, "123456789012345680000"}, {1e21, "1e+21"}, {1.5e21, "1.5e+21"},
		{0.000001, "0.000001"}, {1e-7, "1e-7"}, {1.25e-7, "1.25e-7"}, {0.1, "0.1"}, {1 / 3.0, "0.3333333333333333"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {123.456, "123.456"},
	}
	for _, tc := range cases {
		if got := formatNumber(tc.in); got != tc.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLooseEq(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{nil, nil, true}, {nil, 0.0, false}, {nil, false, false}, {nil, "", false},
		{1.0, 1.0, true}, {1.0, "1", true}, {"1", 1.0, true}, {1.0, "1.0", true}, {1.0, "x", false},
		{true, 1.0, true}, {true, "1", true}, {false, "", true}, {false, "0", true}, {true, "true", false},
		{false, 0.0, true}, {true, true, true}, {true, false, false}, {"a", "a", true}, {"a", "b", false},
		{0.0, math.Copysign(0, -1), true}, {int64(3), 3.0, true}, {uint8(3), "3", true},
	}
	for _, tc := range cases {
		if got := looseEq(tc.a, tc.b); got != tc.want {
			t.Errorf("looseEq(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := looseEq(tc.b, tc.a); got != tc.want {
			t.Errorf("looseEq(%#v, %#v) = %v, want %v (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	cases := []struct {
		a, b string
		sign int
	}{
		{"a", "b", -1}, {"b", "a", 1}, {"a", "a", 0}, {"a", "ab", -1}, {"", "a", -1}, {"B", "a", -1},
		{"é", "z", 1}, {"\uffff", "😀", 1}, {"😀", "\uffff", -1}, {"😀", "😁", -1}, {"x😀", "x\ue000", -1},
		{"\xff", "\xfe", 1},
	}
	for _, tc := range cases {
		got := compareUTF16(tc.a, tc.b)
		if (got < 0 && tc.sign >= 0) || (got > 0 && tc.sign <= 0) || (got == 0 && tc.sign != 0) {
			t.Errorf("compareUTF16(%q, %q) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}

func TestDeepEqual(t *testing.T) {
	a := Decode([]byte(`{"x":[1,{"y":null,"z":"s"}],"w":true}`))
	b := Decode([]byte(`{"w":true,"x":[1.0,{"z":"s","y":null}]}`))
	if !deepEqual(a, b) {
		t.Error("equal documents differ")
	}
	for _, c := range []string{`{"w":true,"x":[1,{"z":"s"}]}`, `{"w":1,"x":[1,{"z":"s","y":null}]}`, `{"w":true,"x":[{"z":"s","y":null},1]}`} {
		if deepEqual(a, Decode([]byte(c))) {
			t.Errorf("%s equals the original", c)
		}
	}
	if !deepEqual(map[string]string{"k": "v"}, map[string]any{"k": "v"}) || !deepEqual([]string{"a"}, []any{"a"}) {
		t.Error("equivalent Go representations differ")
	}
}

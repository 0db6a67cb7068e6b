package render

import (
	"fmt"
	"testing"
	"time"
)

func TestMoney(t *testing.T) {
	cases := []struct {
		reason   string
		currency string
		amount   float64
		plus     bool
		want     string
	}{
		{"thousands separators", "CNY", 20184, false, "¥20,184.00"},
		{"negative", "CNY", -11.21, false, "-¥11.21"},
		{"plus on a rise", "CNY", 3.4, true, "+¥3.40"},
		{"rounds to cents", "CNY", 0.005, false, "¥0.01"},
		{"rounds to zero: no sign", "CNY", -0.001, true, "¥0.00"},
		{"millions", "CNY", 1234567.891, false, "¥1,234,567.89"},
		{"dollar", "USD", 5, false, "$5.00"},
		{"unknown currency shown as its code", "EUR", 5, false, "EUR 5.00"},
	}
	for _, tc := range cases {
		if got := money(tc.currency, tc.amount, tc.plus); got != tc.want {
			t.Errorf("%s: money(%s, %v) = %s, want %s", tc.reason, tc.currency, tc.amount, got, tc.want)
		}
	}
}

func TestShortening(t *testing.T) {
	cases := []struct {
		reason, got, want string
	}{
		{"four names shown whole", shortList([]string{"a", "b", "c", "d"}), "a, b, c, d"},
		{"fifty names: three and the rest counted", shortList(make50()), "n0, n1, n2 and 47 more"},
		{"id: four characters", shortID("9f3c81aa", 4), "9f3c…"},
		{"short id kept whole", shortID("9f3c", 4), "9f3c"},
		{"email: local part", shortEmail("alice@example.com"), "alice@…"},
		{"elapsed under a minute: tenths", elapsed(1234 * time.Millisecond), "1.2s"},
		{"elapsed over a minute: seconds", elapsed(83*time.Second + 400*time.Millisecond), "1m23s"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.reason, tc.got, tc.want)
		}
	}
}

func make50() []string {
	out := make([]string, 50)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i)
	}
	return out
}

func TestIDLen(t *testing.T) {
	cases := []struct {
		reason string
		ids    []string
		want   int
	}{
		{"distinct in four characters", []string{"9f3c81aa", "19ab0c3e"}, 4},
		{"shared prefix: long enough to tell apart", []string{"a0000000", "a0000001"}, 8},
		{"the same id twice is no clash", []string{"9f3c81aa", "9f3c81aa"}, 4},
		{"one id a prefix of another: whole and shortened tell apart", []string{"abcd", "abcde"}, 4},
		{"none", nil, 4},
	}
	for _, tc := range cases {
		if got := idLen(tc.ids); got != tc.want {
			t.Errorf("%s: idLen(%q) = %d, want %d", tc.reason, tc.ids, got, tc.want)
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	cases := []struct {
		reason, s string
		want      int
	}{
		{"ascii", "cad-01", 6},
		{"wide characters count two", "渲染-01", 7},
		{"colour escapes count none", "\x1b[31m-\x1b[0m", 1},
		{"ellipsis counts one", "9f3c…", 5},
	}
	for _, tc := range cases {
		if got := displayWidth(tc.s); got != tc.want {
			t.Errorf("%s: displayWidth(%q) = %d, want %d", tc.reason, tc.s, got, tc.want)
		}
	}
}

package engine

import "testing"

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		currency string
		amount   float64
		withPlus bool
		want     string
		reason   string
	}{
		{"CNY", 20184, false, "¥20,184.00", "yuan with thousands and cents"},
		{"CNY", -11.214, false, "-¥11.21", "the sign before the symbol, rounded to the cent"},
		{"CNY", 3.4, true, "+¥3.40", "a positive change gets a plus"},
		{"CNY", 0.004, true, "¥0.00", "an amount that rounds to zero has no sign"},
		{"CNY", -0.004, false, "¥0.00", "nor a negative one"},
		{"USD", 1234567.891, false, "$1,234,567.89", "dollars, two groups of thousands"},
		{"EUR", 999.995, false, "EUR 1,000.00", "an unknown code before the amount; rounding carries into the thousands"},
		{"", 5.05, false, "5.05", "no currency: the number alone"},
		{"RMB", 0.5, false, "¥0.50", "RMB is yuan too"},
	}
	for _, tc := range cases {
		if got := FormatMoney(tc.currency, tc.amount, tc.withPlus); got != tc.want {
			t.Errorf("FormatMoney(%q, %v, %v) = %q, want %q (%s)", tc.currency, tc.amount, tc.withPlus, got, tc.want, tc.reason)
		}
	}
}

func TestGroupThousands(t *testing.T) {
	cases := []struct {
		n      int64
		want   string
		reason string
	}{
		{0, "0", "zero"},
		{999, "999", "no separator under a thousand"},
		{1000, "1,000", "the first separator"},
		{123456, "123,456", "whole groups"},
		{1234567, "1,234,567", "a leading short group"},
		{-65536, "-65,536", "a negative number keeps its sign before the groups"},
	}
	for _, tc := range cases {
		if got := GroupThousands(tc.n); got != tc.want {
			t.Errorf("GroupThousands(%d) = %q, want %q (%s)", tc.n, got, tc.want, tc.reason)
		}
	}
}

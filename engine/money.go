package engine

import (
	"math"
	"strconv"
	"strings"
)

// FormatMoney writes an amount for people: rounded to the cent, "," between thousands, after the
// currency's symbol ("¥20,184.00" for CNY, "$3.40" for USD; any other code is written before the
// amount with a space: "EUR 3.00", and "" writes the number alone). A negative amount starts with
// "-"; withPlus adds "+" to a positive one (for changes); an amount that rounds to zero has no sign.
// The code is written as given: a front end showing a code from an untrusted file escapes it first.
func FormatMoney(currency string, amount float64, withPlus bool) string {
	cents := int64(math.Round(amount * 100))
	var b strings.Builder
	switch {
	case cents < 0:
		b.WriteByte('-')
		cents = -cents
	case cents > 0 && withPlus:
		b.WriteByte('+')
	}
	switch currency {
	case "CNY", "RMB":
		b.WriteString("¥")
	case "USD":
		b.WriteString("$")
	case "":
	default:
		b.WriteString(currency + " ")
	}
	b.WriteString(GroupThousands(cents / 100))
	b.WriteByte('.')
	if c := cents % 100; c < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.FormatInt(cents%100, 10))
	return b.String()
}

// GroupThousands writes a whole number with "," every three digits: "1,234,567".
func GroupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	pre := len(s) % 3
	if pre == 0 {
		pre = 3
	}
	b.WriteString(s[:pre])
	for i := pre; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Common request parameters of the GCW API (docs/api-readings.md, "Signing").
const (
	APIVersion       = "2019-08-08"
	SignatureMethod  = "HMAC-SHA1"
	SignatureVersion = "1.0"
	// TimestampLayout is the format of the Timestamp parameter (always UTC).
	TimestampLayout = "2006-01-02T15:04:05Z"
)

// PercentEncode encodes s as the signing algorithm requires: url.QueryEscape, then
// "+" -> "%20", "*" -> "%2A" and "%7E" -> "~". That is, in one pass: every byte but the unreserved
// A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex); s itself when it has nothing to encode.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// CanonicalQuery sorts params by raw key (byte order) and joins the percent-encoded pairs with "&".
// A "Signature" parameter, if present, is left out. Only the first value of each key is used.
func CanonicalQuery(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(PercentEncode(k))
		b.WriteByte('=')
		b.WriteString(PercentEncode(params.Get(k)))
	}
	return b.String()
}

// StringToSign returns METHOD + "&%2F&" + percentEncode(canonical query).
func StringToSign(method string, params url.Values) string {
	return stringToSign(method, CanonicalQuery(params))
}

func stringToSign(method, canonical string) string {
	return strings.ToUpper(method) + "&" + PercentEncode("/") + "&" + PercentEncode(canonical)
}

// Sign returns the base64 HMAC-SHA1 signature of the request, keyed with the raw secret
// (no "&" appended: the one difference from Aliyun's RPC signature). params must hold the
// common parameters and, for GET actions, the action's own parameters; POST bodies are not signed.
// Sign is pure: it neither reads a clock nor generates a nonce, and it does not modify params.
func Sign(method string, params url.Values, secret string) string {
	return SignCanonical(method, CanonicalQuery(params), secret)
}

// SignCanonical is Sign for a query already made canonical by CanonicalQuery, for a client that
// sends that same text as its URL's query and so canonicalises once per request.
func SignCanonical(method, canonical, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(stringToSign(method, canonical)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

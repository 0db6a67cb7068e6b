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
// "+" -> "%20", "*" -> "%2A" and "%7E" -> "~".
func PercentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
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

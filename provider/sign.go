package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"hash"
	"net/url"
	"sort"
	"strings"
	"sync"
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
	n := encodedLen(s)
	if n == len(s) {
		return s
	}
	return string(appendPercentEncoded(make([]byte, 0, n), s))
}

// encodedLen is len(PercentEncode(s)).
func encodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !unreserved[s[i]] {
			n += 2
		}
	}
	return n
}

// appendPercentEncoded appends PercentEncode(s) to b, the runs of unreserved bytes at once.
func appendPercentEncoded(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved[c] {
			b = append(b, s[start:i]...)
			b = append(b, '%', hex[c>>4], hex[c&15])
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// unreserved holds the bytes PercentEncode keeps: A-Z a-z 0-9 - _ . ~
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

// CanonicalQuery sorts params by raw key (byte order) and joins the percent-encoded pairs with "&".
// A "Signature" parameter, if present, is left out. Only the first value of each key is used.
func CanonicalQuery(params url.Values) string {
	keys := make([]string, 0, len(params))
	size := 0
	for k := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
		size += encodedLen(k) + len("=&") + encodedLen(params.Get(k))
	}
	sort.Strings(keys)
	b := make([]byte, 0, size)
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendPercentEncoded(b, k)
		b = append(b, '=')
		b = appendPercentEncoded(b, params.Get(k))
	}
	return string(b)
}

// StringToSign returns METHOD + "&%2F&" + percentEncode(canonical query).
func StringToSign(method string, params url.Values) string {
	return string(appendStringToSign(nil, method, CanonicalQuery(params)))
}

// appendStringToSign appends the string to sign of a canonical query to b.
func appendStringToSign(b []byte, method, canonical string) []byte {
	b = append(b, strings.ToUpper(method)...)
	b = append(b, '&')
	b = appendPercentEncoded(b, "/")
	b = append(b, '&')
	return appendPercentEncoded(b, canonical)
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
	return sign(hmac.New(sha1.New, []byte(secret)), method, canonical)
}

// sign is the base64 HMAC of the string to sign, with mac keyed and reset.
func sign(mac hash.Hash, method, canonical string) string {
	mac.Write(appendStringToSign(make([]byte, 0, len(method)+len("&%2F&")+encodedLen(canonical)), method, canonical))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// Signer signs requests with one secret, as SignCanonical does, reusing its keyed HMAC states (keying
// a MAC costs as much as hashing a short string to sign). A client holds one: the secret stays with
// the client that was given it. It is safe for concurrent use; the zero value is not usable.
type Signer struct {
	secret string
	macs   sync.Pool // of hash.Hash, keyed with secret
}

// NewSigner returns a Signer for secret.
func NewSigner(secret string) *Signer {
	s := &Signer{secret: secret}
	s.macs.New = func() any { return hmac.New(sha1.New, []byte(s.secret)) }
	return s
}

// String describes the Signer without its secret; GoString is String, so that %#v does not print
// it either.
func (s *Signer) String() string   { return "provider.Signer{secret: (redacted)}" }
func (s *Signer) GoString() string { return s.String() }

// SignCanonical is SignCanonical(method, canonical, the Signer's secret).
func (s *Signer) SignCanonical(method, canonical string) string {
	mac := s.macs.Get().(hash.Hash)
	mac.Reset()
	sig := sign(mac, method, canonical)
	s.macs.Put(mac)
	return sig
}

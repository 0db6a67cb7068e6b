package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func commonParams(action string) url.Values {
	return url.Values{
		"Action":           {action},
		"AccessKeyId":      {"testAK"},
		"SignatureMethod":  {SignatureMethod},
		"SignatureVersion": {SignatureVersion},
		"SignatureNonce":   {"1f1e2d3c-0000-4000-8000-000000000001"},
		"Timestamp":        {"2022-06-01T00:00:00Z"},
		"Version":          {APIVersion},
	}
}

// TestSignVectors reproduces the three signing vectors of docs/api-readings.md, computed with the
// vendor's own code.
func TestSignVectors(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		method string
		action string
		extra  map[string]string
		want   string
	}{
		{"QueryVm", "GET action with its parameter in the signed query", "GET", "QueryVm",
			map[string]string{"vmId": "a8d09bab-64d4-4549-9c8c-0efe19423e5e"}, "dGyxY7zDOigtvP3dhrBacIwI2dQ="},
		{"CreateSubAccount", "POST action: only the common parameters are signed", "POST", "CreateSubAccount",
			nil, "NKms7SjecgtL0/x5emQ5npbj+mE="},
		{"QueryVms", "space, '*', '~', '/', '+' and non-ASCII must be encoded exactly (a space is %20, not +)", "GET", "QueryVms",
			map[string]string{"vpcName": "保定-云桌面 默认VPC*~/+", "email": "a+b@x.com"}, "ccl3v98xuU1snWbMK55GbmFZN4Q="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := commonParams(tt.action)
			for k, v := range tt.extra {
				p.Set(k, v)
			}
			if got := Sign(tt.method, p, "testSK"); got != tt.want {
				t.Errorf("%s: Sign = %q, want %q", tt.reason, got, tt.want)
			}
		})
	}
}

func TestCanonicalQueryVector(t *testing.T) {
	p := commonParams("QueryVm")
	p.Set("vmId", "a8d09bab-64d4-4549-9c8c-0efe19423e5e")
	p.Set("Signature", "ignored")
	want := "AccessKeyId=testAK&Action=QueryVm&SignatureMethod=HMAC-SHA1&SignatureNonce=1f1e2d3c-0000-4000-8000-000000000001&SignatureVersion=1.0&Timestamp=2022-06-01T00%3A00%3A00Z&Version=2019-08-08&vmId=a8d09bab-64d4-4549-9c8c-0efe19423e5e"
	if got := CanonicalQuery(p); got != want {
		t.Errorf("canonical query (Signature must be excluded, keys sorted):\n got %s\nwant %s", got, want)
	}
	sts := StringToSign("GET", p)
	if want := "GET&%2F&AccessKeyId%3DtestAK"; sts[:len(want)] != want {
		t.Errorf("string to sign starts %q, want prefix %q", sts[:40], want)
	}
}

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"a b", "a%20b", "space is %20, never +"},
		{"*", "%2A", "star is encoded"},
		{"~", "~", "tilde is left alone"},
		{"a+b", "a%2Bb", "plus is encoded"},
		{"2022-06-01T00:00:00Z", "2022-06-01T00%3A00%3A00Z", "colon is encoded"},
	}
	for _, tt := range tests {
		if got := PercentEncode(tt.in); got != tt.want {
			t.Errorf("%s: PercentEncode(%q) = %q, want %q", tt.reason, tt.in, got, tt.want)
		}
	}
}

// TestPercentEncodeIsQueryEscape: the one-pass encoding is the reference's definition (url.QueryEscape,
// then "+" -> "%20", "*" -> "%2A", "%7E" -> "~") for every byte, alone and in text.
func TestPercentEncodeIsQueryEscape(t *testing.T) {
	def := func(s string) string {
		e := url.QueryEscape(s)
		e = strings.ReplaceAll(e, "+", "%20")
		e = strings.ReplaceAll(e, "*", "%2A")
		return strings.ReplaceAll(e, "%7E", "~")
	}
	ins := []string{"", "AccessKeyId", "vm-00001_a.b~c", "宿迁A", "a b+c*d~e%7E/f=g&h", "\xff\x00\x7f"}
	for c := range 256 {
		ins = append(ins, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, in := range ins {
		if got, want := PercentEncode(in), def(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, the definition gives %q", in, got, want)
		}
	}
}

// TestSignerReuse: signers of different secrets used in turn each sign with their own key, and a MAC
// kept for reuse signs nothing with what the previous signature left in it.
func TestSignerReuse(t *testing.T) {
	want := func(method, canonical, secret string) string {
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(StringToSign(method, mustParseQuery(t, canonical))))
		return base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	canonicals := []string{"AccessKeyId=a&Action=QueryVm", "Action=QueryVms&Timestamp=2022-06-01T00%3A00%3A00Z"}
	secrets := []string{"secret-a", "secret-b", ""}
	signers := []*Signer{NewSigner(secrets[0]), NewSigner(secrets[1]), NewSigner(secrets[2])}
	for i := range 20 {
		secret, signer := secrets[i%3], signers[i%3]
		canonical := canonicals[i%2]
		if got, w := signer.SignCanonical("GET", canonical), want("GET", canonical, secret); got != w {
			t.Fatalf("signature %d (secret %q) = %s, want %s", i, secret, got, w)
		}
		if got, w := SignCanonical("GET", canonical, secret), want("GET", canonical, secret); got != w {
			t.Fatalf("SignCanonical %d (secret %q) = %s, want %s", i, secret, got, w)
		}
	}
}

// TestSignerHidesSecret: printing a Signer, in any verb, never shows its secret.
func TestSignerHidesSecret(t *testing.T) {
	s := NewSigner("canary-5ecret")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, "canary") {
			t.Errorf("%s prints the secret: %s", verb, out)
		}
	}
}

func mustParseQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

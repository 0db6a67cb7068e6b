package gcw

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// BenchmarkDecodeAnswer compares the one-pass decoding of a 200 answer (decodeOnce: decodeFlat's one
// scan for QueryVm's flat answer; the envelope and Data into the caller's value in one json.Unmarshal
// for QueryVms') with the two-step parse it replaced and still falls back to (decodeEnvelope, then
// decodeData), on a QueryVm answer and a 10,000-id QueryVms one. Both use the string shortcuts
// (plainString, plainStrings).
func BenchmarkDecodeAnswer(b *testing.B) {
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf(`"vm-%05d"`, i)
	}
	bodies := []struct {
		name string
		body []byte
		out  func() any
	}{
		{"QueryVm", []byte(`{"Code":"Success","Message":"","Data":{"vmName":"ws0-001","siteId":"s1","billMethod":"1",` +
			`"productId":"p","vpcId":"v","vpcName":"n","eip":"","privateIp":"10.0.0.2","publicIp":"","bw":"5",` +
			`"accountName":"a","accountEmail":"a@b.c","expireTime":"2022-05-07 14:03:44","label":"lab","status":"running"}}`),
			func() any { return new(vmWire) }},
		{"QueryVms-10k", []byte(`{"Code":"Success","Message":"","Data":{"vmIds":[` + strings.Join(ids, ",") + `]}}`),
			func() any { return new(vmsWire) }},
	}
	info, _ := provider.LookupAction(provider.ActionQueryVm)
	for _, bc := range bodies {
		b.Run(bc.name+"/once", func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if _, ok := decodeOnce(bc.body, bc.out()); !ok {
					b.Fatal("not decoded")
				}
			}
		})
		b.Run(bc.name+"/two-step", func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				env, err := decodeEnvelope(bc.body)
				if err != nil {
					b.Fatal(err)
				}
				if err := decodeData(info, "", env.data, noScrub, bc.out()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPlainStringsMatchEncodingJSON: the shortcuts that read strings and string arrays without a
// second parse give what encoding/json gives, or step aside.
func TestPlainStringsMatchEncodingJSON(t *testing.T) {
	tests := []struct {
		in     string
		plain  bool // the shortcut takes it
		reason string
	}{
		{`"abc"`, true, "a plain string"},
		{`""`, true, "empty"},
		{`"宿迁A"`, true, "UTF-8"},
		{`"a\"b"`, false, "an escaped quote"},
		{`"a\\b"`, false, "an escaped backslash"},
		{`"\u00e9"`, false, "a unicode escape"},
		{"\"\xff\xfe\"", false, "invalid UTF-8 (encoding/json makes it U+FFFD)"},
		{`["a","b"]`, true, "an array of plain strings"},
		{` [ "a" , "b" ] `, true, "blanks around the items"},
		{`[]`, true, "an empty array: [] not null"},
		{`["a",1]`, false, "a number item: encoding/json's rules"},
		{`["a",null]`, false, "a null item"},
		{`["a\"]","b"]`, false, "an escaped quote and a bracket in an item"},
		{`["a"]x`, false, "trailing text"},
		{`["a",]`, false, "a trailing comma"},
	}
	for _, tc := range tests {
		if strings.HasPrefix(strings.TrimSpace(tc.in), "[") {
			got, ok := plainStrings([]byte(tc.in))
			if ok != tc.plain {
				t.Errorf("plainStrings(%s) ok = %v, want %v (%s)", tc.in, ok, tc.plain, tc.reason)
			}
			var want []string
			if err := json.Unmarshal([]byte(tc.in), &want); ok && (err != nil || !reflect.DeepEqual([]string(got), want)) {
				t.Errorf("plainStrings(%s) = %q, encoding/json %q, %v (%s)", tc.in, got, want, err, tc.reason)
			}
			var viaType fStrings
			if err := viaType.UnmarshalJSON([]byte(tc.in)); err == nil && ok && !reflect.DeepEqual(viaType, got) {
				t.Errorf("fStrings(%s) = %q, want %q (%s)", tc.in, viaType, got, tc.reason)
			}
			continue
		}
		got, ok := plainString([]byte(tc.in))
		if ok != tc.plain {
			t.Errorf("plainString(%s) ok = %v, want %v (%s)", tc.in, ok, tc.plain, tc.reason)
		}
		var want string
		err := json.Unmarshal([]byte(tc.in), &want)
		if ok && (err != nil || got != want) {
			t.Errorf("plainString(%s) = %q, encoding/json %q, %v (%s)", tc.in, got, want, err, tc.reason)
		}
		var viaType fString
		if err := viaType.UnmarshalJSON([]byte(tc.in)); err != nil || string(viaType) != want {
			t.Errorf("fString(%s) = %q, %v; want %q (%s)", tc.in, viaType, err, want, tc.reason)
		}
	}
}

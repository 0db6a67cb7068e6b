package gcw

import (
	"reflect"
	"testing"
	"time"
)

// flatCases are bodies for decodeFlat: handled says whether it reads the body itself (otherwise
// encoding/json does).
var flatCases = []struct {
	body    string
	handled bool
	reason  string
}{
	{`{"Code":"Success","Message":"","Data":{"vmName":"ws0-001","siteId":"宿迁A","billMethod":"1","bw":5,` +
		`"expireTime":"2022-05-07 14:03:44","label":"lab","status":"running"}}`, true, "QueryVm's answer"},
	{`{"Code":"Success","Data":{"bw":5,"billMethod":0,"vmName":"a"},"Message":""}`, true, "the emulator's key order"},
	{" \n{ \"code\" : 0 ,\t\"msg\" : null , \"data\" : { \"VMNAME\" : \"x\" , \"Bw\" : \"7\" } } \r\n", true, "blanks, the lower-case spelling, keys in any case"},
	{`{"Code":"Success","Data":null}`, true, "null Data leaves out untouched"},
	{`{"Code":"Success","Data":{}}`, true, "empty Data"},
	{`{"Code":"Success"}`, true, "no Data"},
	{`{"Code":"10006","Message":"对应云桌面不存在","Data":{}}`, true, "a refusal"},
	{`{"Message":"no code","Data":{"vmName":"a"}}`, true, "no Code: not decoded"},
	{`{"Code":null,"Message":null}`, true, "null Code and Message"},
	{`{"Code":"Success","Message":true,"msg":"ignored"}`, true, "Message wins over msg, a boolean kept as text"},
	{`{"Code":"Success","msg":"from msg"}`, true, "msg alone"},
	{`{"Code":"A","Code":"Success"}`, true, "a repeated Code: the last"},
	{`{"Code":"Success","Data":{"vmName":"a","vmName":"b","bw":-1.5e3,"unknown":[1]}}`, false, "an array value"},
	{`{"Code":"Success","Data":{"vmName":"a","vmName":"b","bw":-0,"other":true}}`, true, "a repeated field: the last; an unknown one ignored"},
	{`{"Code":"Success","Data":{"bw":1.5}}`, false, "a value its field refuses"},
	{`{"Code":"Success","Data":{"vmName":"a\"b"}}`, false, "an escape in a value"},
	{`{"Code":"Success","Data":{"vm\u004eame":"a"}}`, false, "an escape in a key"},
	{"{\"Code\":\"Success\",\"Data\":{\"\u212amName\":\"a\"}}", false, "a key that only Unicode folding could match"},
	{"{\"Code\":\"Success\",\"Data\":{\"vmName\":\"\xff\"}}", true, "invalid UTF-8 in a value, handed to the field as encoding/json does"},
	{`{"Code":"Success","Data":{"bw":01}}`, false, "a number with a leading zero"},
	{`{"Code":"Success","Data":{"bw":1.}}`, false, "a number without fraction digits"},
	{`{"Code":"Success","Data":{"bw":1e}}`, false, "a number without exponent digits"},
	{`{"Code":"Success","Data":{"vmName":"a",}}`, false, "a trailing comma"},
	{`{"Code":"Success","Data":{"vmName":"a"}} x`, false, "trailing text"},
	{`{"Code":"Success","Data":{"vmName":"a"}`, false, "truncated"},
	{`{"Code":"Success","Data":"a string"}`, false, "a Data that is not an object"},
	{`{"Code":"Success","Data":null,"Data":{"vmName":"a"}}`, false, "a repeated Data"},
	{`{"Code":{"x":1},"Data":{}}`, false, "an object Code"},
	{`{"Code":"Success","Data":{"vmName":tru}}`, false, "a misspelt literal"},
	{"\xef\xbb\xbf{\"Code\":\"Success\"}", false, "a byte order mark"},
	{`[]`, false, "not an object"},
	{``, false, "empty"},
}

// TestDecodeFlatMatchesEncodingJSON: for every body decodeFlat reads, the envelope, whether it
// decoded, and the Data are what encoding/json's pass (decodeOnceJSON) gives; and it reads the
// common answers itself (the point of it).
func TestDecodeFlatMatchesEncodingJSON(t *testing.T) {
	for _, tc := range flatCases {
		handled := checkFlat(t, []byte(tc.body))
		if handled != tc.handled {
			t.Errorf("decodeFlat(%s) handled = %v, want %v (%s)", tc.body, handled, tc.handled, tc.reason)
		}
	}
}

// checkFlat compares decodeFlat with decodeOnceJSON on body, into a vmWire and into nothing, and
// reports whether decodeFlat handled it into the vmWire.
func checkFlat(t *testing.T, body []byte) bool {
	t.Helper()
	var flat, ref vmWire
	env, ok, handled := decodeFlat(body, &flat)
	if handled {
		wantEnv, wantOK := decodeOnceJSON(body, &ref)
		if ok != wantOK || (ok && !reflect.DeepEqual(env, wantEnv)) || (ok && flat != ref) {
			t.Errorf("decodeFlat(%q) = %+v, %v, Data %+v; encoding/json: %+v, %v, Data %+v", body, env, ok, flat, wantEnv, wantOK, ref)
		}
	}
	env, ok, discarded := decodeFlat(body, nil)
	if discarded {
		wantEnv, wantOK := decodeOnceJSON(body, nil)
		if ok != wantOK || (ok && !reflect.DeepEqual(env, wantEnv)) {
			t.Errorf("decodeFlat(%q, nil) = %+v, %v; encoding/json: %+v, %v", body, env, ok, wantEnv, wantOK)
		}
	}
	return handled
}

// TestFlatStructOf: the wire types decodeFlat fills, and the types it leaves to encoding/json.
func TestFlatStructOf(t *testing.T) {
	tests := []struct {
		v      any
		flat   bool
		reason string
	}{
		{vmWire{}, true, "QueryVm's Data: fString and fInt fields"},
		{vmsWire{}, false, "QueryVms' Data: a []fString field, left to encoding/json"},
		{struct {
			L fStrings `json:"l"`
		}{}, true, "an fStrings field (its scalar values only)"},
		{struct {
			A fString `json:"a,omitempty"`
		}{}, false, "a tag with options"},
		{struct {
			A fString `json:"a"`
			B fString `json:"A"`
		}{}, false, "two names equal but for case"},
		{struct{ A string }{}, false, "a field without UnmarshalJSON"},
		{struct{ A *fString }{}, false, "a pointer field"},
		{struct {
			vmWire
		}{}, false, "an embedded struct"},
		{struct {
			A fString `json:"-"`
			B fInt
			_ int
		}{}, true, "a skipped, an untagged and an unexported field"},
		{"text", false, "not a struct"},
	}
	for _, tc := range tests {
		if got := flatStructOf(reflect.TypeOf(tc.v)) != nil; got != tc.flat {
			t.Errorf("flatStructOf(%T) flat = %v, want %v (%s)", tc.v, got, tc.flat, tc.reason)
		}
	}
}

// FuzzDecodeFlat: whatever the body, what decodeFlat reads is what encoding/json reads.
func FuzzDecodeFlat(f *testing.F) {
	for _, tc := range flatCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFlat(t, body)
	})
}

// TestParseTime: every layout the reference shows, the blank-separated one included (its layouts are
// tried first for a blank after the date), and text no layout reads (kept raw, no time); each read
// afresh and again as the text last read.
func TestParseTime(t *testing.T) {
	tests := []struct {
		raw    string
		want   time.Time
		reason string
	}{
		{"2098-12-31T16:00:00.000+0000", time.Date(2098, 12, 31, 16, 0, 0, 0, time.UTC), "milliseconds and an offset"},
		{"2098-12-31T16:00:00+0800", time.Date(2098, 12, 31, 8, 0, 0, 0, time.UTC), "an offset"},
		{"2022-05-07T14:03:44Z", time.Date(2022, 5, 7, 14, 3, 44, 0, time.UTC), "RFC 3339"},
		{"2022-05-07 14:03:44", time.Date(2022, 5, 7, 6, 3, 44, 0, time.UTC), "a blank, no offset: China time"},
		{" 2022-05-07 14:03:44 ", time.Date(2022, 5, 7, 6, 3, 44, 0, time.UTC), "blanks around"},
		{"2022-05-07T14:03:44", time.Date(2022, 5, 7, 6, 3, 44, 0, time.UTC), "a T, no offset: China time"},
		{"2022-05-07", time.Date(2022, 5, 6, 16, 0, 0, 0, time.UTC), "a date"},
		{"2022-05-07 14:03", time.Time{}, "no seconds: not read"},
		{"", time.Time{}, "empty"},
	}
	for _, tc := range tests {
		for _, pass := range []string{"read", "remembered"} { // the second call finds it as the last text read
			got := parseTime(fString(tc.raw))
			if !got.Time.Equal(tc.want) || got.Raw != tc.raw {
				t.Errorf("parseTime(%q) (%s) = %v, %q; want %v (%s)", tc.raw, pass, got.Time, got.Raw, tc.want, tc.reason)
			}
		}
	}
}

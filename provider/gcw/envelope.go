package gcw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/deskfleet/deskfleet/provider"
)

// envelope is the response wrapper, spelt Code/Message/Data or code/msg/data.
type envelope struct {
	code    string
	message string
	data    json.RawMessage
}

// decodeEnvelope accepts both spellings of the three keys (exact first, then any case); Code may be a
// string or a number; Message may be null.
func decodeEnvelope(body []byte) (envelope, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return envelope{}, errors.New("body is not a JSON object")
	}
	pick := func(names ...string) (json.RawMessage, bool) {
		for _, n := range names {
			if v, ok := m[n]; ok {
				return v, true
			}
		}
		for k, v := range m {
			for _, n := range names {
				if strings.EqualFold(k, n) {
					return v, true
				}
			}
		}
		return nil, false
	}
	var env envelope
	raw, ok := pick("Code", "code")
	if !ok {
		return envelope{}, errors.New("no Code in response")
	}
	var code fString
	if err := json.Unmarshal(raw, &code); err != nil {
		return envelope{}, fmt.Errorf("the response's Code: %w", err)
	}
	env.code = string(code)
	if raw, ok := pick("Message", "msg"); ok {
		var msg fString
		if json.Unmarshal(raw, &msg) == nil {
			env.message = string(msg)
		} else {
			env.message = string(raw)
		}
	}
	if raw, ok := pick("Data"); ok && !isNull(raw) {
		env.data = raw
	}
	return env, nil
}

// answer is a 200 body parsed in one pass: the envelope's Code and Message kept raw, and Data decoded
// straight into the caller's value (Data holds a pointer to it). encoding/json matches each key to the
// field with the same name in any case, so "code", "msg" and "DATA" land here too.
type answer struct {
	Code    json.RawMessage `json:"Code"`
	Message json.RawMessage `json:"Message"`
	Msg     json.RawMessage `json:"msg"`
	Data    any             `json:"Data"`
}

// discard is the Data of a call that wants none: accepted unread.
type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }

// decodeOnce parses body once, decoding Data into out (a pointer; nil: Data is ignored) whatever the
// Code. ok is false when anything in the body, the envelope or the Data, does not decode: the caller
// then parses it again with decodeEnvelope and decodeData, which say what is wrong (and out is
// decoded afresh from the same Data, so what this pass left in it is overwritten). When the Code is
// not Success, out may hold part of the Data: the call is an error and out is dropped. A key repeated
// in two cases ("Code" and "code") is read as its last occurrence, where decodeEnvelope prefers the
// exact spelling; no server seen sends both.
//
// The common answer is read by decodeFlat, which gives the same in one scan; the rest by encoding/json.
func decodeOnce(body []byte, out any) (env envelope, ok bool) {
	if env, ok, handled := decodeFlat(body, out); handled {
		return env, ok
	}
	return decodeOnceJSON(body, out)
}

// decodeOnceJSON is decodeOnce by encoding/json alone.
func decodeOnceJSON(body []byte, out any) (env envelope, ok bool) {
	a := answer{Data: out}
	if out == nil {
		a.Data = &discard{}
	}
	if err := json.Unmarshal(body, &a); err != nil || a.Code == nil {
		return envelope{}, false
	}
	var code fString
	if err := json.Unmarshal(a.Code, &code); err != nil {
		return envelope{}, false
	}
	env.code = string(code)
	msg := a.Message
	if msg == nil {
		msg = a.Msg
	}
	if msg != nil {
		var m fString
		if json.Unmarshal(msg, &m) == nil {
			env.message = string(m)
		} else {
			env.message = string(msg)
		}
	}
	return env, true
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// decodeData unmarshals Data into v; null or absent Data leaves v untouched. Data it cannot read is an
// *APIError for a read, and an *UnknownOutcomeError for a mutation: the server said Success, but what
// it did (task id, created ids) is unknown. The error's message and body are scrubbed of the secret
// and the signature: the decoders quote the values they refuse, and a server may echo the query.
func decodeData(info provider.ActionInfo, requestID string, data json.RawMessage, scrub func(string) string, v any) error {
	if isNull(data) {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		e := &provider.APIError{Action: info.Name, RequestID: requestID, HTTPStatus: 200,
			Message: scrub("unexpected Data: " + err.Error()), Body: truncate(scrub(string(data)), maxErrorBody)}
		if info.Mutating {
			return &provider.UnknownOutcomeError{Action: info.Name, RequestID: requestID, Err: e}
		}
		return e
	}
	return nil
}

// fString accepts a JSON string, number or boolean (kept as its text) or null ("").
type fString string

func (s *fString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		if v, ok := plainString(b); ok {
			*s = fString(v)
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = fString(v)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("expected a string, got %.20s", b)
	default:
		*s = fString(b)
	}
	return nil
}

// plainString returns the text of a JSON string literal (b, already validated by the decoder that
// handed it over) without escapes and in valid UTF-8: the common case, which needs no second parse.
// ok is false for anything else (escapes; invalid UTF-8, which encoding/json turns into U+FFFD).
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	if bytes.IndexByte(in, '\\') >= 0 || bytes.IndexByte(in, '"') >= 0 || !utf8.Valid(in) {
		return "", false
	}
	for _, c := range in {
		if c < 0x20 {
			return "", false
		}
	}
	return string(in), true
}

// plainStrings reads a JSON array of plain strings (see plainString) without a second parse: the vm
// id lists of QueryVms and the order calls. ok is false for anything else (numbers, null, escapes),
// left to encoding/json.
func plainStrings(b []byte) (fStrings, bool) {
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	i++
	out := fStrings{}
	skip()
	if i < len(b) && b[i] == ']' {
		i++
		skip()
		return out, i == len(b)
	}
	for {
		skip()
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		s, ok := plainString(b[i : i+end+2])
		if !ok {
			return nil, false
		}
		out = append(out, s)
		i += end + 2
		skip()
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			i++
			skip()
			return out, i == len(b)
		default:
			return nil, false
		}
	}
}

// fInt accepts a number (integral, or with a zero fraction) or a numeric string; null and "" are 0.
type fInt int

func (n *fInt) UnmarshalJSON(b []byte) error {
	var s fString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(t, 10, 64); err == nil {
		*n = fInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("expected an integer, got %q", t)
	}
	*n = fInt(f)
	return nil
}

// fFloat accepts a number or a numeric string; null and "" are 0.
type fFloat float64

func (f *fFloat) UnmarshalJSON(b []byte) error {
	var s fString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return fmt.Errorf("expected a number, got %q", t)
	}
	*f = fFloat(v)
	return nil
}

// fBool accepts true/false, 1/0 and their string forms; null and "" are false.
type fBool bool

func (v *fBool) UnmarshalJSON(b []byte) error {
	var s fString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "", "0", "false":
		*v = false
	case "1", "true":
		*v = true
	default:
		return fmt.Errorf("expected a boolean, got %q", string(s))
	}
	return nil
}

// fStrings accepts a JSON array of strings, a string holding a JSON array (subnet "dns"), a
// comma-separated string, or null.
type fStrings []string

func (l *fStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*l = nil
		return nil
	}
	if b[0] == '[' {
		if v, ok := plainStrings(b); ok {
			*l = v
			return nil
		}
		var v []fString
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = make(fStrings, len(v))
		for i, s := range v {
			(*l)[i] = string(s)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		*l = nil
		return nil
	}
	if strings.HasPrefix(s, "[") {
		return l.UnmarshalJSON([]byte(s))
	}
	var out fStrings
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*l = out
	return nil
}

func stringsOf(l []fString) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}

// chinaTime is the zone assumed for times the API sends without an offset ("2022-05-07 14:03:44"):
// the vendor operates in China (UTC+8). An assumption: the reference does not say.
var chinaTime = time.FixedZone("UTC+8", 8*3600)

// parseTime recognises the formats seen in the reference; it keeps the raw text in any case. The
// last text read is remembered with its value: every per-minute desktop shows the same far-off
// expireTime, which a 10,000-desktop read would otherwise parse 10,000 times.
func parseTime(raw fString) provider.TimeValue {
	if last := lastTime.Load(); last != nil && last.Raw == string(raw) {
		return *last
	}
	tv := parseTimeText(raw)
	lastTime.Store(&tv)
	return tv
}

// lastTime is parseTime's last result.
var lastTime atomic.Pointer[provider.TimeValue]

// parseTimeText is parseTime without the memory of the last text.
func parseTimeText(raw fString) provider.TimeValue {
	s := strings.TrimSpace(string(raw))
	tv := provider.TimeValue{Raw: string(raw)}
	if s == "" {
		return tv
	}
	// The layouts with a "T" cannot read a date and time separated by a blank (one of the forms of
	// QueryVm's expireTime): skipped, not tried and failed (each failure allocates its error).
	if len(s) <= 10 || s[10] != ' ' {
		for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
			if t, err := time.Parse(layout, s); err == nil {
				tv.Time = t
				return tv
			}
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, chinaTime); err == nil {
			tv.Time = t
			return tv
		}
	}
	return tv
}

// Request encoding helpers: the wire takes strings, even for numbers and booleans.

func setIf(q map[string]any, key, v string) {
	if v != "" {
		q[key] = v
	}
}

func setInt(q map[string]any, key string, v int) {
	if v != 0 {
		q[key] = strconv.Itoa(v)
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ids returns a non-nil copy so that an empty list is sent as [] rather than null.
func ids(v []string) []string {
	out := make([]string, len(v))
	copy(out, v)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

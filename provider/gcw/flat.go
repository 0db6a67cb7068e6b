package gcw

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// The flat decoder reads the common 200 answer, an envelope whose Data is an object of scalars
// ({"Code":"Success","Message":"","Data":{"vmName":"ws0-001","bw":5,...}}, QueryVm's), in one scan
// and without encoding/json's machinery: encoding/json validates the whole body, then scans it again
// to decode it, copying Code and Message and dispatching each value through reflection. decodeOnce
// tries it first and falls back to encoding/json for anything it does not take.
//
// Contract: when decodeFlat reports handled, out and the envelope are exactly what encoding/json (the
// answer type's decoding, see decodeOnce) gives for that body. It handles only what it can mirror
// exactly, and reports not handled for anything else, leaving it to encoding/json: a body with an
// escape in a key or in a string it reads itself, a key that matches no field but might by Unicode
// case folding, an object or array value other than Data, a repeated Data, a Data into a value that
// is not a flat struct (see flatStructOf), and any syntax it cannot read (which encoding/json then
// refuses with its own error). Each field's value goes to the field's own UnmarshalJSON, with the
// same bytes encoding/json would hand it (a plain string in valid UTF-8 is set straight into an
// fString field: what its UnmarshalJSON would make of it). When it reports not handled, out may hold part of the Data:
// encoding/json then decodes the same body into it again, the same fields from the same values first.

// flatStruct is how decodeFlat fills one struct type: its JSON field names (all distinct, even
// ignoring case) and the index of each field, whose type's pointer is a json.Unmarshaler (fString,
// fInt, ...).
type flatStruct struct {
	names []string
	index []int
}

// flatStructs caches flatStructOf: reflect.Type -> *flatStruct (nil: not flat).
var flatStructs sync.Map

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// flatStructOf returns the flat decoding of t, or nil when t is not a struct whose every exported
// field has a plain name (a tag without options, or the Go name), is not embedded, and has a type
// (neither a pointer nor an interface) whose pointer implements json.Unmarshaler; or when two names
// are equal but for case (encoding/json's choice between them is not mirrored).
func flatStructOf(t reflect.Type) *flatStruct {
	if v, ok := flatStructs.Load(t); ok {
		return v.(*flatStruct)
	}
	fs := buildFlatStruct(t)
	flatStructs.Store(t, fs)
	return fs
}

func buildFlatStruct(t reflect.Type) *flatStruct {
	if t.Kind() != reflect.Struct {
		return nil
	}
	fs := &flatStruct{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil
		}
		if !f.IsExported() {
			continue
		}
		name, ok := f.Tag.Lookup("json")
		if name == "-" {
			continue
		}
		if !ok || name == "" {
			name = f.Name
		}
		if !plainName(name) {
			return nil
		}
		k := f.Type.Kind()
		if k == reflect.Pointer || k == reflect.Interface || !reflect.PointerTo(f.Type).Implements(unmarshalerType) {
			return nil
		}
		for _, n := range fs.names {
			if strings.EqualFold(n, name) {
				return nil
			}
		}
		fs.names = append(fs.names, name)
		fs.index = append(fs.index, i)
	}
	return fs
}

// plainName reports a name of ASCII letters, digits and "_" only: a tag encoding/json takes as it is,
// without options, and that folds (ignoring case) only with ASCII.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// field returns the index in names (plain ASCII, see plainName) of the field that encoding/json fills
// for key: the exact name first, then the one equal ignoring ASCII case; -1 for none. known is false
// when key is not ASCII (so it matches no name exactly): encoding/json's Unicode folding might match
// it (the Kelvin sign folds to k), which this does not mirror.
func field(names []string, key []byte) (i int, known bool) {
	for i, n := range names {
		if n == string(key) {
			return i, true
		}
	}
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return -1, false
		}
	}
	for i, n := range names {
		if len(n) == len(key) && strings.EqualFold(n, string(key)) {
			return i, true
		}
	}
	return -1, true
}

// flatScan reads JSON text from b[i:].
type flatScan struct {
	b []byte
	i int
}

func (s *flatScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after blanks, or 0 at the end.
func (s *flatScan) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// expect consumes c after blanks.
func (s *flatScan) expect(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// key reads a key and its colon; the key's text is returned without quotes. ok is false for a key
// with an escape or a control character (encoding/json would change its text first). A key with
// invalid UTF-8 is returned as it is: it is not ASCII, so field refuses it unless it is a name.
func (s *flatScan) key() (key []byte, ok bool) {
	if s.peek() != '"' {
		return nil, false
	}
	raw, ok := s.str()
	if !ok {
		return nil, false
	}
	return raw[1 : len(raw)-1], s.expect(':')
}

// str reads a string literal without escapes or control characters, quotes included.
func (s *flatScan) str() ([]byte, bool) {
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// scalar reads a string (see str), a number, true, false or null, and returns its text. ok is false
// for anything else, an object or an array included.
func (s *flatScan) scalar() (raw []byte, ok bool) {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	case c == 't':
		return s.word("true")
	case c == 'f':
		return s.word("false")
	case c == 'n':
		return s.word("null")
	}
	return nil, false
}

func (s *flatScan) word(w string) ([]byte, bool) {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return nil, false
	}
	s.i += len(w)
	return s.b[s.i-len(w) : s.i], true
}

// number reads a number as JSON spells it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *flatScan) number() ([]byte, bool) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// object reads an object of scalars, calling set for each member in order; set returns false to
// give up.
func (s *flatScan) object(set func(key, raw []byte) bool) bool {
	if !s.expect('{') {
		return false
	}
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		raw, ok := s.scalar()
		if !ok || !set(key, raw) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// answerNames are the envelope's keys as the answer type names them.
var answerNames = []string{"Code", "Message", "msg", "Data"}

// decodeFlat is decodeOnce for a body it can read itself (see the contract above); handled is false
// otherwise, and env and ok then mean nothing.
func decodeFlat(body []byte, out any) (env envelope, ok, handled bool) {
	var dst reflect.Value
	var fs *flatStruct
	if out != nil {
		v := reflect.ValueOf(out)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return envelope{}, false, false
		}
		if fs = flatStructOf(v.Type().Elem()); fs == nil {
			return envelope{}, false, false
		}
		dst = v.Elem()
	}
	s := flatScan{b: body}
	var code, message, msg []byte
	sawData := false
	data := func(key, raw []byte) bool {
		if out == nil {
			return true // discarded
		}
		i, known := field(fs.names, key)
		if !known {
			return false
		}
		if i < 0 {
			return true // no such field: ignored
		}
		f := dst.Field(fs.index[i]).Addr().Interface()
		if p, ok := f.(*fString); ok && raw[0] == '"' && utf8.Valid(raw[1:len(raw)-1]) {
			// What fString.UnmarshalJSON makes of a string str has read (no escape, no control
			// character, no quote inside) in valid UTF-8: its text.
			*p = fString(raw[1 : len(raw)-1])
			return true
		}
		return f.(json.Unmarshaler).UnmarshalJSON(raw) == nil
	}
	if !s.expect('{') {
		return envelope{}, false, false
	}
	if s.peek() == '}' {
		s.i++
	} else {
		for done := false; !done; {
			key, kok := s.key()
			if !kok {
				return envelope{}, false, false
			}
			i, known := field(answerNames, key)
			if !known {
				return envelope{}, false, false
			}
			if i == 3 { // Data
				if sawData {
					return envelope{}, false, false
				}
				sawData = true
				if s.peek() == '{' {
					if !s.object(data) {
						return envelope{}, false, false
					}
				} else if raw, rok := s.scalar(); !rok || (out != nil && string(raw) != "null") {
					return envelope{}, false, false
				}
			} else {
				raw, rok := s.scalar()
				if !rok {
					return envelope{}, false, false
				}
				switch i {
				case 0:
					code = raw
				case 1:
					message = raw
				case 2:
					msg = raw
				}
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				done = true
			default:
				return envelope{}, false, false
			}
		}
	}
	if s.space(); s.i != len(s.b) {
		return envelope{}, false, false
	}
	if message == nil {
		message = msg
	}
	env, ok = flatEnvelope(code, message)
	return env, ok, true
}

// flatEnvelope is the envelope of the raw Code and Message (or msg) of a body decodeFlat read, as
// decodeOnceJSON makes it of the same values; ok is false without a Code, or with one it refuses.
func flatEnvelope(code, message []byte) (env envelope, ok bool) {
	if code == nil {
		return envelope{}, false
	}
	var c fString
	if c.UnmarshalJSON(code) != nil {
		return envelope{}, false
	}
	env.code = string(c)
	if message != nil {
		var m fString
		if m.UnmarshalJSON(message) == nil {
			env.message = string(m)
		} else {
			env.message = string(message)
		}
	}
	return env, true
}

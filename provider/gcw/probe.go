package gcw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// ProbeResult is one read made by Probe, with what a first contact with an account needs to know
// beyond the decoded answer: the reply's envelope spelling, the fields of its Data against the ones
// this client decodes, the server's clock (its Date header) and the latency.
type ProbeResult struct {
	Action     provider.Action
	HTTPStatus int // of the last attempt; 0 when no answer came
	// Date is the reply's HTTP Date header (zero when absent or unreadable); DateRaw is its text.
	Date    time.Time
	DateRaw string
	// Sent and Received are the client's clock (Config.Clock, the one signed into Timestamp) when the
	// last attempt was sent and its answer read: the server's Date lies between them, give or take
	// the header's one-second resolution.
	Sent, Received time.Time
	Latency        time.Duration // of the last attempt
	Attempts       int           // HTTP attempts made (retries of a transient failure included)
	Throttled      int           // attempts answered with a throttle (HTTP 429 or a throttle Code)
	// Err is the call's failure, as the client's own call of the action reports it (an
	// *provider.APIError for an auth failure, a transport error, ...); nil on Success.
	Err error
	// Envelope is how the reply spelt its envelope; zero when the body is not a JSON object.
	Envelope EnvelopeKeys
	// Fields compares the reply's Data with the fields the client decodes for the action; nil when the
	// reply was no Success envelope.
	Fields *FieldCheck
	// Body is the raw reply, credential material removed (the secret and the attempt's signature);
	// Data is its envelope's Data (nil when absent).
	Body []byte
	Data json.RawMessage
}

// EnvelopeKeys are the keys an envelope used: "Code", "Message", "Data" or "code", "msg", "data" as
// the reference spells them, or whatever else matched (the client reads the three in any case).
// Other holds the envelope's other keys (requestId, status), sorted.
type EnvelopeKeys struct {
	Code, Message, Data string
	Other               []string
}

// Casing names the spelling: "Code/Message/Data", "code/msg/data", or the keys seen joined by "/"
// ("-" for one absent), e.g. "CODE/-/data".
func (k EnvelopeKeys) Casing() string {
	d := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return d(k.Code) + "/" + d(k.Message) + "/" + d(k.Data)
}

// Standard reports the two spellings the reference shows.
func (k EnvelopeKeys) Standard() bool {
	c := k.Casing()
	return c == "Code/Message/Data" || c == "code/msg/data"
}

// FieldCheck is a Data compared with the client's decoding of it. Paths name a field inside one
// item ("siteId"), nested ones with their parents ("publicImages[].imageSites[].status").
type FieldCheck struct {
	Null    bool     // Data was null or absent (GetDefaultNet on a site without a default network)
	List    bool     // Data is a list (of Items items), else one object
	Items   int      // top-level items compared (1 for an object)
	Unknown []string // keys the client does not decode (ignored by it), sorted
	// Missing are keys the client decodes that at least one item lacks (read as zero values), sorted.
	// Two spellings the client both accepts (vGateways, vgateways) count as one key.
	Missing []string
	// Mismatch says where the Data's shape is not what the client decodes (an object for a list):
	// such a reply fails the client's own call.
	Mismatch []string
}

// probeShapes are the types each read's Data is decoded into by the client's own call of it.
var probeShapes = map[provider.Action]reflect.Type{
	provider.ActionQueryTask:            reflect.TypeFor[taskWire](),
	provider.ActionQuerySites:           reflect.TypeFor[[]siteWire](),
	provider.ActionQueryProducts:        reflect.TypeFor[[]productWire](),
	provider.ActionQueryImages:          reflect.TypeFor[[]productImagesWire](),
	provider.ActionQuerySubAccounts:     reflect.TypeFor[[]accountWire](),
	provider.ActionGetDefaultNet:        reflect.TypeFor[networkWire](),
	provider.ActionGetCustomNet:         reflect.TypeFor[[]networkWire](),
	provider.ActionGetLineBillingScheme: reflect.TypeFor[[]lineWire](),
	provider.ActionGetEipPrice:          reflect.TypeFor[eipPriceWire](),
	provider.ActionQueryVms:             reflect.TypeFor[vmsWire](),
	provider.ActionQueryVm:              reflect.TypeFor[vmWire](),
	provider.ActionQueryExpireVms:       reflect.TypeFor[[]expireWire](),
}

// probeOptional are fields the client decodes that a reply of the action may lack without anything
// being wrong: GetCustomNet shares GetDefaultNet's decoding, but the reference's GetCustomNet lists
// no record id, city, times or delete flag; a subnet carries no gateway line (ip_type, conf_id,
// conf_name are a virtual gateway's).
var probeOptional = map[provider.Action][]string{
	provider.ActionGetCustomNet: {"id", "vpcRecordId", "cityId", "createTime", "updateTime", "deleteFlag",
		"subnets[].ip_type", "subnets[].conf_id", "subnets[].conf_name"},
	provider.ActionGetDefaultNet: {"subnets[].ip_type", "subnets[].conf_id", "subnets[].conf_name"},
}

// ErrNotProbed is returned by Probe for an action it does not make: anything but a read sent as GET.
var ErrNotProbed = errors.New("gcw probe: only reads sent as GET are probed")

// Probe makes one signed read of action with params (the action's own query parameters) the way the
// client's own call of it does (the same signing, transport, rate control and retries of what is safe
// to retry) and returns the raw reply with what a doctor reports about it. It refuses every
// mutation, and the POST reads, with ErrNotProbed; every other failure is in the result's Err.
func (c *Client) Probe(ctx context.Context, action provider.Action, params map[string]string) (*ProbeResult, error) {
	info, ok := provider.LookupAction(action)
	if _, shaped := probeShapes[action]; !ok || info.Mutating || info.Method != http.MethodGet || !shaped {
		return nil, fmt.Errorf("%w: %s", ErrNotProbed, action)
	}
	query := make([]queryParam, 0, len(params))
	for k, v := range params {
		query = append(query, queryParam{k, v})
	}
	requestID := params["requestId"]
	pr := &ProbeResult{Action: action}
	var last result
	for attempt := 0; ; attempt++ {
		res := c.attempt(ctx, info, query, nil, requestID, attempt)
		last = res
		pr.Attempts++
		v := c.classify(ctx, info, requestID, res, nil)
		if res.answered {
			c.pace.done(res.ticket, v.throttled)
		}
		if v.throttled {
			pr.Throttled++
		}
		pr.HTTPStatus, pr.Body, pr.Err = res.status, []byte(res.scrub(string(res.body))), v.err
		pr.Sent, pr.Received, pr.Latency = res.sent, res.received, res.received.Sub(res.sent)
		pr.DateRaw, pr.Date = res.date, time.Time{}
		if t, err := http.ParseTime(res.date); err == nil {
			pr.Date = t
		}
		if v.err == nil || !v.retry || attempt >= c.maxRetries || ctx.Err() != nil {
			break
		}
		d := c.backoff(attempt)
		if res.retryAfter > d {
			d = min(res.retryAfter, c.maxBackoff)
		}
		if err := c.sleep(ctx, d); err != nil {
			pr.Err = fmt.Errorf("%w (gave up retrying: %w)", v.err, err)
			break
		}
	}
	// The reply is read as it came (scrubbing could change a key); what is reported of it is scrubbed.
	keys, data := envelopeKeys(last.body)
	if data != nil {
		pr.Data = json.RawMessage(last.scrub(string(data)))
	}
	pr.Envelope = EnvelopeKeys{Code: last.scrub(keys.Code), Message: last.scrub(keys.Message), Data: last.scrub(keys.Data),
		Other: scrubAll(keys.Other, last.scrub)}
	if pr.Err == nil && pr.HTTPStatus == http.StatusOK {
		if fc := CheckFields(action, data); fc != nil {
			fc.Unknown, fc.Missing, fc.Mismatch = scrubAll(fc.Unknown, last.scrub), scrubAll(fc.Missing, last.scrub),
				scrubAll(fc.Mismatch, last.scrub)
			pr.Fields = fc
		}
	}
	return pr, nil
}

// envelopeKeys reads which keys the body's envelope used, and its Data. Keys are matched as the
// client matches them: exact spelling first, then any case.
func envelopeKeys(body []byte) (EnvelopeKeys, json.RawMessage) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return EnvelopeKeys{}, nil
	}
	var k EnvelopeKeys
	used := map[string]bool{}
	pick := func(names ...string) string {
		for _, n := range names {
			if _, ok := m[n]; ok {
				used[n] = true
				return n
			}
		}
		for _, key := range slices.Sorted(maps.Keys(m)) {
			for _, n := range names {
				if strings.EqualFold(key, n) && !used[key] {
					used[key] = true
					return key
				}
			}
		}
		return ""
	}
	k.Code = pick("Code", "code")
	k.Message = pick("Message", "msg")
	k.Data = pick("Data", "data")
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if !used[key] {
			k.Other = append(k.Other, key)
		}
	}
	if k.Data == "" {
		return k, nil
	}
	return k, m[k.Data]
}

// CheckFields compares data (an envelope's Data) with the fields the client decodes for action's
// reply. nil for an action the client has no reading of.
func CheckFields(action provider.Action, data json.RawMessage) *FieldCheck {
	t, ok := probeShapes[action]
	if !ok {
		return nil
	}
	fc := &FieldCheck{}
	if isNull(data) {
		fc.Null = true
		return fc
	}
	unknown, missing, mismatch := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var walk func(t reflect.Type, raw json.RawMessage, path string, top bool)
	walk = func(t reflect.Type, raw json.RawMessage, path string, top bool) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if isNull(raw) || !composite(t) {
			return
		}
		switch t.Kind() {
		case reflect.Slice:
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil {
				mismatch[orTop(path)+": not a list"] = true
				return
			}
			if top {
				fc.Items, fc.List = len(items), true
			}
			for _, it := range items {
				walk(t.Elem(), it, path+"[]", false)
			}
		case reflect.Struct:
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) != nil {
				mismatch[orTop(path)+": not an object"] = true
				return
			}
			if top {
				fc.Items = 1
			}
			prefix := path
			if prefix != "" {
				prefix += "."
			}
			prefix = strings.TrimPrefix(prefix, "[].")
			fields := jsonFields(t)
			for key, v := range obj {
				f, ok := matchField(fields, key)
				if !ok {
					unknown[prefix+key] = true
					continue
				}
				walk(f.typ, v, prefix+f.name, false)
			}
			for _, group := range fieldGroups(fields) {
				if !slices.ContainsFunc(group, func(f jsonField) bool { _, ok := matchKey(obj, f.name); return ok }) {
					names := make([]string, len(group))
					for i, f := range group {
						names[i] = prefix + f.name
					}
					missing[strings.Join(names, "|")] = true
				}
			}
		}
	}
	walk(t, data, "", true)
	for _, o := range probeOptional[action] {
		delete(missing, o)
	}
	fc.Unknown, fc.Missing, fc.Mismatch = sortedKeys(unknown), sortedKeys(missing), sortedKeys(mismatch)
	return fc
}

func scrubAll(l []string, scrub func(string) string) []string {
	if scrub == nil {
		return l
	}
	for i, v := range l {
		l[i] = scrub(v)
	}
	return l
}

func orTop(path string) string {
	if path == "" {
		return "Data"
	}
	return path
}

// composite reports a struct or a list of structs the walk descends into; the client's scalar types
// (fString, fInt, fStrings, ...) are leaves.
func composite(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

type jsonField struct {
	name string
	typ  reflect.Type
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out = append(out, jsonField{name: name, typ: f.Type})
	}
	return out
}

// matchField finds key's field the way encoding/json does: exact name first, then any case.
func matchField(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

func matchKey(obj map[string]json.RawMessage, name string) (string, bool) {
	if _, ok := obj[name]; ok {
		return name, true
	}
	for k := range obj {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// fieldGroups groups fields whose names differ only in case (vGateways, vgateways): one of a group
// present is enough.
func fieldGroups(fields []jsonField) [][]jsonField {
	var out [][]jsonField
	for _, f := range fields {
		i := slices.IndexFunc(out, func(g []jsonField) bool { return strings.EqualFold(g[0].name, f.name) })
		if i < 0 {
			out = append(out, []jsonField{f})
		} else {
			out[i] = append(out[i], f)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

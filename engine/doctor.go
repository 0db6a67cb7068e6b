package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/deskfleet/deskfleet/provider"
)

// DoctorFormatVersion is the format_version of the doctor's JSON report (docs/doctor.md).
const DoctorFormatVersion = 1

// Doctor statuses: a check passed, passed with something worth knowing, failed (a first apply would
// not work, or would read wrong values), or was not made.
const (
	DoctorOK      = "ok"
	DoctorWarn    = "warn"
	DoctorFail    = "fail"
	DoctorSkipped = "skipped"
)

// ProbeReply is one read as the doctor needs it: what a provider/gcw Client.Probe returns, in the
// engine's own terms (the engine does not depend on the HTTP client).
type ProbeReply struct {
	HTTPStatus     int
	Date           time.Time // the reply's Date header; zero when absent
	Sent, Received time.Time // the local clock around the exchange (the one signed into Timestamp)
	Latency        time.Duration
	Attempts       int
	Throttled      int
	Err            error
	// Casing is the envelope's spelling ("Code/Message/Data"); Standard reports one of the two the
	// reference shows; EnvelopeOther are its other keys.
	Casing        string
	Standard      bool
	EnvelopeOther []string
	// Checked: the Data was compared with the client's decoding (a Success reply).
	Checked                    bool
	Null                       bool
	List                       bool // Data is a list of Items items, else one object
	Items                      int
	Unknown, Missing, Mismatch []string
	Data                       json.RawMessage
}

// Prober makes one signed read (never a mutation) with the action's own parameters.
type Prober func(ctx context.Context, action provider.Action, params map[string]string) (ProbeReply, error)

// DoctorOptions configure Doctor.
type DoctorOptions struct {
	Probe    Prober
	Endpoint string // for the report only
	// Site names the site (name or id) whose networks are read; default the first QuerySites lists.
	Site string
	// SkewWarn and SkewFail bound the clock's offset from the API's: beyond SkewWarn it is worth
	// fixing, beyond SkewFail it is a failure. The API documents no timestamp window (the reading is
	// 15 minutes, docs/api-readings.md); defaults 1 minute and 5 minutes.
	SkewWarn, SkewFail time.Duration
	// RateStats, when set, gives the client's rate control once the reads are done: throttles
	// answered and the rate in force (requests per second, 0: none).
	RateStats func() (throttled int, limit float64)
	// NewRequestID gives the requestId of the reads that take one; default a random UUID.
	NewRequestID func() string
}

// DoctorReport is what Doctor found. OK is true when nothing failed: the first apply has what it needs.
type DoctorReport struct {
	FormatVersion int              `json:"format_version"`
	Endpoint      string           `json:"endpoint"`
	OK            bool             `json:"ok"`
	Credentials   DoctorCheck      `json:"credentials"`
	Clock         DoctorClock      `json:"clock"`
	Throttling    DoctorThrottling `json:"throttling"`
	Actions       []DoctorAction   `json:"actions"`
	Problems      []string         `json:"problems"`
	Notes         []string         `json:"notes"`
	Site          *DoctorSite      `json:"site,omitempty"`
}

// DoctorSite is the site whose networks were read.
type DoctorSite struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DoctorCheck is one verdict with what it rests on and, when something is wrong, what to do.
type DoctorCheck struct {
	Status string `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

// DoctorClock is the local clock against the API's (its replies' Date header). Skew is the API's
// clock minus the local one: positive when this machine is behind.
type DoctorClock struct {
	DoctorCheck
	Known       bool          `json:"known"`
	Skew        time.Duration `json:"-"`
	Uncertainty time.Duration `json:"-"`
	SkewSeconds float64       `json:"skew_seconds"`
	// UncertaintySeconds is how far off the estimate may be: half the round trip plus the Date
	// header's one-second resolution.
	UncertaintySeconds float64 `json:"uncertainty_seconds"`
}

// DoctorThrottling says whether the API throttled any read.
type DoctorThrottling struct {
	Seen      bool    `json:"seen"`
	Throttled int     `json:"throttled"`
	Limit     float64 `json:"limit_per_second"`
}

// DoctorAction is one read action's reply.
type DoctorAction struct {
	Action     provider.Action `json:"action"`
	Params     string          `json:"params,omitempty"` // what it was asked for ("siteId 宿迁A"), never a credential
	Status     string          `json:"status"`
	Detail     string          `json:"detail,omitempty"`
	HTTPStatus int             `json:"http_status,omitempty"`
	Latency    time.Duration   `json:"-"`
	LatencyMS  float64         `json:"latency_ms"`
	Attempts   int             `json:"attempts"`
	Throttled  int             `json:"throttled"`
	Casing     string          `json:"envelope,omitempty"`
	Standard   bool            `json:"envelope_standard"`
	List       bool            `json:"data_list"` // Data is a list (of Items items), else an object
	Items      int             `json:"items"`
	Null       bool            `json:"data_null"`
	Unknown    []string        `json:"unknown_fields"`
	Missing    []string        `json:"missing_fields"`
	Mismatch   []string        `json:"mismatched"`
	Error      string          `json:"error,omitempty"`
}

// doctorPlan is the reads Doctor makes, in order; the network reads and QueryVm need what earlier
// replies named.
var doctorPlan = []provider.Action{
	provider.ActionQuerySites, provider.ActionQueryProducts, provider.ActionQueryImages,
	provider.ActionQuerySubAccounts, provider.ActionGetDefaultNet, provider.ActionGetCustomNet,
	provider.ActionQueryVms, provider.ActionQueryVm, provider.ActionQueryExpireVms,
}

// Doctor makes read calls only (QuerySites, QueryProducts, QueryImages, QuerySubAccounts,
// GetDefaultNet and GetCustomNet for one site, QueryVms, QueryVm for one desktop, QueryExpireVms) and
// reports what a first apply needs: the credentials accepted, the clock close to the API's, each
// reply's envelope and Data as the client reads them, latency and throttling. Its error is only for a
// misuse (no Prober); what the API answered is in the report.
func Doctor(ctx context.Context, opt DoctorOptions) (*DoctorReport, error) {
	if opt.Probe == nil {
		return nil, errors.New("doctor: no prober")
	}
	if opt.SkewWarn <= 0 {
		opt.SkewWarn = time.Minute
	}
	if opt.SkewFail <= 0 {
		opt.SkewFail = 5 * time.Minute
	}
	if opt.NewRequestID == nil {
		opt.NewRequestID = uuid.NewString
	}
	r := &DoctorReport{FormatVersion: DoctorFormatVersion, Endpoint: opt.Endpoint, Problems: []string{}, Notes: []string{}}
	var replies []ProbeReply
	var siteID, siteName string
	var vmID string
	authFailed := false
	for _, action := range doctorPlan {
		a := DoctorAction{Action: action, Unknown: []string{}, Missing: []string{}, Mismatch: []string{}}
		params := map[string]string{}
		switch action {
		case provider.ActionGetDefaultNet, provider.ActionGetCustomNet:
			params["siteId"], params["requestId"] = siteID, opt.NewRequestID()
			a.Params = "site " + siteName
			if siteID == "" {
				a.Status, a.Detail = DoctorSkipped, "no site to read the networks of"
			}
		case provider.ActionQueryVm:
			params["vmId"] = vmID
			a.Params = "vmId " + shortVmID(vmID)
			if vmID == "" {
				a.Status, a.Detail, a.Params = DoctorSkipped, "the account has no desktop to read", ""
			}
		}
		if authFailed {
			a.Status, a.Detail = DoctorSkipped, "the credentials were refused"
		}
		if a.Status == "" {
			rep, err := opt.Probe(ctx, action, params)
			if err != nil {
				return nil, err
			}
			replies = append(replies, rep)
			judgeAction(&a, rep)
			if action == provider.ActionQuerySites && isAuthError(rep.Err) {
				authFailed = true
			}
			switch {
			case rep.Err != nil:
			case action == provider.ActionQuerySites:
				var err error
				if siteID, siteName, err = pickSite(rep.Data, opt.Site); err != nil {
					a.Status, a.Detail = DoctorFail, err.Error()
				} else if siteID != "" {
					r.Site = &DoctorSite{ID: siteID, Name: siteName}
				}
			case action == provider.ActionQueryVms:
				vmID = firstVmID(rep.Data)
			}
		}
		r.Actions = append(r.Actions, a)
	}
	r.Credentials = judgeCredentials(replies)
	r.Clock = judgeClock(replies, opt.SkewWarn, opt.SkewFail)
	for _, a := range r.Actions {
		r.Throttling.Throttled += a.Throttled
	}
	if opt.RateStats != nil {
		n, limit := opt.RateStats()
		r.Throttling.Throttled = max(r.Throttling.Throttled, n)
		r.Throttling.Limit = limit
	}
	r.Throttling.Seen = r.Throttling.Throttled > 0
	if r.Throttling.Seen {
		r.Notes = append(r.Notes, fmt.Sprintf("the API throttled %d answer(s): deskfleet slows down to what it accepts; an apply of many desktops takes longer, --parallelism or --rate lower it from the start", r.Throttling.Throttled))
	}
	r.OK = r.Credentials.Status != DoctorFail && r.Clock.Status != DoctorFail
	if r.Credentials.Status == DoctorFail {
		r.Problems = append(r.Problems, "credentials: "+r.Credentials.Detail)
	}
	if r.Clock.Status == DoctorFail {
		r.Problems = append(r.Problems, "clock: "+r.Clock.Detail)
	}
	for _, a := range r.Actions {
		switch a.Status {
		case DoctorFail:
			r.OK = false
			if !authFailed || a.Action != provider.ActionQuerySites {
				r.Problems = append(r.Problems, string(a.Action)+": "+a.Detail)
			}
		case DoctorWarn:
			r.Notes = append(r.Notes, string(a.Action)+": "+a.Detail)
		}
	}
	if r.Clock.Status == DoctorWarn {
		r.Notes = append(r.Notes, "clock: "+r.Clock.Detail)
	}
	return r, nil
}

// judgeAction fills a from its reply: failed when the call failed or its Data lacks a field the
// client reads or has another shape; a warning for fields the client does not know (it ignores them),
// an envelope spelt neither way the reference shows, or throttling.
func judgeAction(a *DoctorAction, rep ProbeReply) {
	a.HTTPStatus, a.Latency, a.Attempts, a.Throttled = rep.HTTPStatus, rep.Latency, rep.Attempts, rep.Throttled
	a.LatencyMS = float64(rep.Latency.Microseconds()) / 1000
	a.Casing, a.Standard, a.Items, a.Null, a.List = rep.Casing, rep.Standard, rep.Items, rep.Null, rep.List
	a.Unknown = append(a.Unknown, rep.Unknown...)
	a.Missing = append(a.Missing, rep.Missing...)
	a.Mismatch = append(a.Mismatch, rep.Mismatch...)
	var fails, warns []string
	if rep.Err != nil {
		a.Error = rep.Err.Error()
		fails = append(fails, a.Error)
	}
	if len(rep.Mismatch) > 0 {
		fails = append(fails, "Data is not shaped as the client reads it: "+strings.Join(rep.Mismatch, ", "))
	}
	if len(rep.Missing) > 0 {
		fails = append(fails, "fields the client reads are missing (read as empty): "+strings.Join(rep.Missing, ", "))
	}
	if rep.Casing != "" && !rep.Standard && rep.Err == nil {
		warns = append(warns, "envelope spelt "+rep.Casing+", neither Code/Message/Data nor code/msg/data (read anyway: keys match in any case)")
	}
	if len(rep.Unknown) > 0 {
		warns = append(warns, "fields the client does not read (ignored): "+strings.Join(rep.Unknown, ", "))
	}
	if rep.Throttled > 0 {
		warns = append(warns, fmt.Sprintf("throttled %d time(s) before the answer", rep.Throttled))
	}
	switch {
	case len(fails) > 0:
		a.Status, a.Detail = DoctorFail, strings.Join(append(fails, warns...), "; ")
	case len(warns) > 0:
		a.Status, a.Detail = DoctorWarn, strings.Join(warns, "; ")
	default:
		a.Status = DoctorOK
		switch {
		case rep.Null:
			a.Detail = "Data null"
		case rep.List && rep.Items == 0:
			a.Detail = "no items: no fields to compare"
		}
	}
}

// isAuthError reports the API refusing the request's signature or key: HTTP 401 or 403.
func isAuthError(err error) bool {
	e, ok := provider.AsAPIError(err)
	return ok && (e.HTTPStatus == 401 || e.HTTPStatus == 403)
}

// authCodes are the reasons of a signature failure (docs/api-readings.md) with what to do.
var authCodes = map[string]string{
	"InvalidAccessKeyId":    "CDS_SECRET_ID names no access key of the API: check it (the console's API keys page)",
	"SignatureDoesNotMatch": "the signature does not match: check CDS_SECRET_KEY belongs to CDS_SECRET_ID",
	"InvalidTimestamp":      "the request's time is outside the API's window: set this machine's clock (NTP)",
	"SignatureNonceUsed":    "a nonce was used twice: a proxy may be replaying requests",
	"MissingParameter":      "a signing parameter did not arrive: a proxy may be rewriting the query",
}

// judgeCredentials: the first read's answer. A signed read that the API answered in an envelope,
// even with an error code, went past the signature check; a 401/403 did not.
func judgeCredentials(replies []ProbeReply) DoctorCheck {
	if len(replies) == 0 {
		return DoctorCheck{Status: DoctorSkipped, Detail: "no read was made"}
	}
	first := replies[0]
	switch {
	case first.Err == nil:
		return DoctorCheck{Status: DoctorOK, Detail: "a signed read (QuerySites) was accepted"}
	case isAuthError(first.Err):
		e, _ := provider.AsAPIError(first.Err)
		detail := fmt.Sprintf("the API refused the signed read (HTTP %d", e.HTTPStatus)
		if e.Code != "" {
			detail += ", " + e.Code
		}
		detail += ")"
		hint := "check CDS_SECRET_ID and CDS_SECRET_KEY, and that this machine's clock is right (signed requests carry the time)"
		for code, h := range authCodes {
			if strings.EqualFold(strings.SplitN(e.Code, ".", 2)[0], code) {
				hint = h
			}
		}
		return DoctorCheck{Status: DoctorFail, Detail: detail, Hint: hint}
	case first.HTTPStatus != 0:
		return DoctorCheck{Status: DoctorOK, Detail: "a signed read was answered past the signature check (with an error, see QuerySites)"}
	default:
		return DoctorCheck{Status: DoctorFail, Detail: "the API was not reached: " + first.Err.Error(),
			Hint: "check --endpoint, the network and any proxy (HTTPS_PROXY); --endpoint sim runs the emulator instead"}
	}
}

// judgeClock estimates the skew from the reply with the shortest round trip that carried a Date: the
// server's second lies within it (mid-point, plus half a second for the header's truncation).
func judgeClock(replies []ProbeReply, warn, fail time.Duration) DoctorClock {
	var best *ProbeReply
	for i := range replies {
		rp := &replies[i]
		if rp.Date.IsZero() || rp.Sent.IsZero() || rp.Received.IsZero() {
			continue
		}
		if best == nil || rp.Received.Sub(rp.Sent) < best.Received.Sub(best.Sent) {
			best = rp
		}
	}
	if best == nil {
		return DoctorClock{DoctorCheck: DoctorCheck{Status: DoctorWarn,
			Detail: "no reply carried a Date header: the clock could not be compared (signed requests carry this machine's time)"}}
	}
	rtt := best.Received.Sub(best.Sent)
	mid := best.Sent.Add(rtt / 2)
	skew := best.Date.Add(500 * time.Millisecond).Sub(mid).Round(time.Millisecond)
	unc := (rtt/2 + 500*time.Millisecond).Round(time.Millisecond)
	c := DoctorClock{Known: true, Skew: skew, Uncertainty: unc, SkewSeconds: skew.Seconds(), UncertaintySeconds: unc.Seconds()}
	abs := skew.Abs()
	side := "behind"
	if skew < 0 {
		side = "ahead of"
	}
	off := fmt.Sprintf("this machine's clock is %s %s the API's (±%s)", roundSkew(abs), side, roundSkew(unc))
	switch {
	case abs <= warn:
		c.Status, c.Detail = DoctorOK, fmt.Sprintf("this machine's clock is within %s of the API's (%s %s, ±%s)",
			roundSkew(warn), roundSkew(abs), side, roundSkew(unc))
	case abs <= fail:
		c.Status, c.Detail = DoctorWarn, off+": signed requests still pass, but the API documents no window; sync the clock (NTP)"
		c.Hint = "sync this machine's clock (NTP): signed requests carry its time"
	default:
		c.Status, c.Detail = DoctorFail, off+fmt.Sprintf(": more than %s; the API documents no timestamp window (15 minutes is the reading taken), so signed requests may be refused (InvalidTimestamp), during a long apply too", roundSkew(fail))
		c.Hint = "sync this machine's clock (NTP) before applying"
	}
	return c
}

// roundSkew shows a duration for people: "10m", "2m30s", "1h", "12s", "300ms".
func roundSkew(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// pickSite returns the site named (name or id), or the first listed. The Data is read loosely (keys
// in any case): the field check reports what is wrong with it.
func pickSite(data json.RawMessage, want string) (id, name string, err error) {
	var items []map[string]any
	if json.Unmarshal(data, &items) != nil {
		return "", "", nil
	}
	var names []string
	for _, it := range items {
		id, name := lookupString(it, "siteId"), lookupString(it, "siteName")
		if want == "" || want == id || want == name {
			return id, name, nil
		}
		names = append(names, name)
	}
	if want != "" {
		sort.Strings(names)
		return "", "", fmt.Errorf("no site %s; sites: %s", want, strings.Join(names, ", "))
	}
	return "", "", nil
}

// shortVmID is a desktop id cut to 8 characters for display.
func shortVmID(id string) string {
	if r := []rune(id); len(r) > 9 {
		return string(r[:8]) + "…"
	}
	return id
}

func firstVmID(data json.RawMessage) string {
	var obj map[string]any
	if json.Unmarshal(data, &obj) != nil {
		return ""
	}
	for k, v := range obj {
		if strings.EqualFold(k, "vmIds") {
			if l, ok := v.([]any); ok && len(l) > 0 {
				s, _ := l[0].(string)
				return s
			}
		}
	}
	return ""
}

func lookupString(m map[string]any, key string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			if s, ok := m[k].(string); ok {
				return s
			}
			if m[k] != nil {
				return fmt.Sprint(m[k])
			}
		}
	}
	return ""
}

// Package sim is an in-memory emulator of the GCW cloud-desktop API (docs/emulator.md):
// an http.Handler that speaks the real wire format, verifies signatures, enforces the reference's
// rules with its error codes, runs mutations as tasks on an injectable clock, injects seeded faults,
// counts calls and can persist its world to a file that several processes may share.
//
// It is written from the reference, not from the client (provider/gcw): it shares only provider.Sign
// and provider.Action with it, so that a wire bug in one is caught by the other. For the same reason
// it keeps its own raw wire values (desktop and account statuses, power actions, billing) as plain
// strings spelt as the reference spells them, rather than provider's normalised types.
//
// Wire contract for failures that the reference leaves open:
//   - Signature failures (unknown key, bad signature, stale or future timestamp, reused nonce,
//     missing common parameter, wrong SignatureMethod/Version) answer HTTP 403 with
//     {"Code":"<reason>","Message":"...","Data":null}, reason one of InvalidAccessKeyId,
//     SignatureDoesNotMatch, InvalidTimestamp, SignatureNonceUsed, MissingParameter.
//   - An unknown Action answers HTTP 400 {"Code":"InvalidAction",...}.
//   - API errors answer HTTP 200 {"Code":"10006","Message":"参数错误，...","Data":null}
//     (code/msg/data for QueryImages and QueryExpireVms).
//   - A request the reference does not allow is refused with its 10003 (传入参数不符合要求) in that
//     envelope, whatever the keys: the wrong HTTP method; a POST's own parameters in the URL (only
//     Action and the signature's common parameters go there); a GET with a body; a POST body that
//     is not one JSON object sent as application/json; a parameter the reference does not list for
//     the action (Params), or one given twice.
//   - Faults: HTTP 500 (envelope), 502 and 504 (a gateway's HTML page) and 503 (envelope), before
//     any work or after the work was done and saved; HTTP 429 {"Code":"Throttling"} or HTTP 200
//     with that envelope (nothing done); a connection closed without any response (before or after
//     the work); a slow answer; a task that fails later (faults.go).
//
// Sharing a data file (Options.DataFile): several Sims, in one process or in several, may use one
// file at once and behave as one cloud. Every operation that reads or changes the world (the work
// of each HTTP request after its latency and faults, and every Go method that touches the world:
// Add*, Set*, Console*, Desktops, Desktop, Accounts, Task, Save...) runs under the Sim's mutex and an
// exclusive flock on DataFile + ".lock"; under it the Sim reloads the world first if another one
// saved since it last read or wrote the file (a generation counter kept in the lock file, and the
// file's identity, size and modification time), does the work, and saves if anything changed.
// An operation that changes nothing writes nothing, and one that finds the generation unchanged
// parses nothing. Latency and slow faults are slept before the lock is taken. The lock is released
// by the kernel when a process dies, even by SIGKILL, and the file is only ever replaced whole
// (temp file, fsync, rename), so a killed process leaves the previous or the new world, never a
// mix. Saved and shared: the world, the running tasks with their absolute deadlines, the id and
// fault generators, and the accepted signature nonces (journal DataFile + ".nonces"), so a request
// replayed against another process is refused too. Per process, never saved: call counts (Calls,
// MutatingCalls), FailNext queues and fault rates (SetFaults). With several processes the fault
// sequence is shared through the file but no longer reproducible, since it depends on how their
// requests interleave. The flock needs a Unix system (Linux, the BSDs, macOS); elsewhere only the
// in-process mutex protects the file (see flock_other.go).
package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// Options configure a Sim. The zero value is a usable emulator: no signature checks, the wall
// clock, DefaultCatalog, 5 s tasks, no faults, the default quotas, no file.
type Options struct {
	// Keys maps AccessKeyId to secret. Empty: requests are accepted unsigned.
	Keys map[string]string
	// TimestampWindow is how far Timestamp may be from the clock, either way (default 15 min). Nonces
	// are remembered for this long.
	TimestampWindow time.Duration
	// Clock defaults to WallClock.
	Clock Clock
	// Meter keeps the bill of per-minute desktops (Bill): each change of the desktops then costs a
	// pass over them, so it is off unless a measure needs it.
	Meter bool
	// Seed derives generated ids and the fault sequence.
	Seed uint64
	// TaskDuration is how long a task runs on the clock (default 5 s); TaskDurations overrides it per
	// action (CreateVm, OperateVm, RebuildVm, DeleteVm, CreateDefaultNet, SupplyDefaultNet, and
	// CreateSubAccount for the creating -> create delay of accounts).
	TaskDuration  time.Duration
	TaskDurations map[provider.Action]time.Duration
	// Latency is slept in real time (time.Sleep, whatever Clock is) before each request is served.
	Latency time.Duration
	// Faults are the seeded fault rates.
	Faults Faults
	// MonthlyQuota and OnDemandQuota cap the live monthly / per-minute desktops (12501 / 12502),
	// those in "error" and still being created included; 0 means DefaultMonthlyQuota /
	// DefaultOnDemandQuota, negative means unlimited.
	MonthlyQuota, OnDemandQuota int
	// NetsWithoutGateways makes CreateDefaultNet and SupplyDefaultNet make subnets only, as the
	// API's later versions (the virtual gateway withdrawn) do; by default they add a 电信 and a 移动
	// gateway, as the reference's GetDefaultNet example shows.
	NetsWithoutGateways bool
	// Catalog seeds a new world; nil means DefaultCatalog().
	Catalog *Catalog
	// DataFile, if set, holds the world as JSON: loaded by New when it exists (seeded from Catalog
	// and written when it does not), rewritten atomically (temp file and rename, mode 0600) after
	// every change. Task deadlines are absolute times, so a task started by one process completes
	// for the next. Several processes (and several Sims in one process) may share one DataFile:
	// each operation takes an exclusive lock on DataFile + ".lock" (created 0600, waited for
	// without limit, released by the kernel if the holder dies), reloads the world when another
	// Sim changed the file, and saves only if it changed something itself. Accepted nonces are
	// journaled in DataFile + ".nonces". Do not delete the .lock file while Sims use DataFile.
	// Without DataFile the world lives in memory only and no file is touched.
	DataFile string
}

// Default quotas of a test world: room for the project's largest fleets created through the API
// (benchmarks apply 200 desktops; the spec allows 1,000 per group) with a margin, and for a plan of
// 1,000 desktops made beside them; small enough that a runaway loop of creations meets 12502.
const (
	DefaultOnDemandQuota = 2000
	DefaultMonthlyQuota  = 1000
)

func quota(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// monthlyQuota and onDemandQuota are the quotas in force; 0 means unlimited.
func (s *Sim) monthlyQuota() int  { return quota(s.opt.MonthlyQuota, DefaultMonthlyQuota) }
func (s *Sim) onDemandQuota() int { return quota(s.opt.OnDemandQuota, DefaultOnDemandQuota) }

// Sim is the emulator. All methods are safe for concurrent use.
type Sim struct {
	opt   Options
	clock Clock

	mu       sync.Mutex
	w        *world
	idRNG    *rand.PCG
	faultRNG *rand.PCG
	faultR   *rand.Rand
	idR      *rand.Rand
	targeted map[provider.Action][]FaultKind
	nonces   map[string]time.Time
	nonceQ   []nonceEntry
	calls    map[provider.Action]int
	store    *store // nil without DataFile
	meter    meter
}

type nonceEntry struct {
	key string
	at  time.Time
}

// New returns a Sim. It fails only when DataFile exists but cannot be read or parsed.
func New(opt Options) (*Sim, error) {
	if opt.TimestampWindow <= 0 {
		opt.TimestampWindow = 15 * time.Minute
	}
	if opt.TaskDuration <= 0 {
		opt.TaskDuration = 5 * time.Second
	}
	s := &Sim{opt: opt, clock: opt.Clock, targeted: map[provider.Action][]FaultKind{},
		nonces: map[string]time.Time{}, calls: map[provider.Action]int{}}
	if s.clock == nil {
		s.clock = WallClock{}
	}
	s.idRNG = rand.NewPCG(opt.Seed, 0x6964)
	s.faultRNG = rand.NewPCG(opt.Seed, 0x666c74)
	s.idR, s.faultR = rand.New(s.idRNG), rand.New(s.faultRNG)
	if opt.DataFile != "" {
		s.store = &store{path: opt.DataFile}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.acquire()
	defer s.release()
	if err != nil {
		return nil, err
	}
	// acquire has loaded DataFile if it exists and is not empty.
	if s.w == nil {
		c := opt.Catalog
		if c == nil {
			dc := DefaultCatalog()
			c = &dc
		}
		s.w = newWorld()
		s.w.seed(*c)
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close saves the world to DataFile (if any) and closes the lock file and the nonce journal. The
// Sim stays usable: its next operation opens them again.
func (s *Sim) Close() error {
	err := s.Save()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		err = errors.Join(err, s.store.close())
	}
	return err
}

// Save writes the world to DataFile now (after taking in any change another Sim saved); a no-op
// without one. Every change is saved as it happens, so Save only matters for the fault generator's
// position after reads.
func (s *Sim) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.acquire()
	defer s.release()
	if err != nil {
		return err
	}
	return s.saveLocked()
}

// actionSpec says how an action is called.
type actionSpec struct {
	method   string
	mutating bool
	lower    bool // code/msg/data envelope
	task     bool
	params   []string // the parameters the reference lists, besides the common ones
	handle   func(s *Sim, p *params) (any, error)
}

var actions map[provider.Action]actionSpec

func init() {
	g, p := http.MethodGet, http.MethodPost
	ps := func(names ...string) []string { return names }
	actions = map[provider.Action]actionSpec{
		"QueryTask":              {method: g, params: ps("taskId", "requestId"), handle: (*Sim).queryTask},
		"QuerySites":             {method: g, params: ps("siteId"), handle: (*Sim).querySites},
		"QueryProducts":          {method: g, params: ps("siteId"), handle: (*Sim).queryProducts},
		"QueryImages":            {method: g, lower: true, params: ps("siteId", "productId"), handle: (*Sim).queryImages},
		"QueryVmPrice":           {method: p, params: ps("requestId", "siteId", "duration", "isToMonth", "billCycle", "num", "goodsId"), handle: (*Sim).queryVmPrice},
		"UpdateOrder":            {method: p, mutating: true, params: ps("requestId", "vmIds", "isToMonth", "duration", "isAutoRenewal"), handle: (*Sim).updateOrder},
		"RenewalOrder":           {method: p, mutating: true, params: ps("requestId", "vmIds", "duration", "priceToMonth", "isToMonth", "isAutoRenewal"), handle: (*Sim).renewalOrder},
		"QuerySubAccounts":       {method: g, params: ps("email", "name", "remark"), handle: (*Sim).querySubAccounts},
		"CreateSubAccount":       {method: p, mutating: true, params: ps("requestId", "email", "name", "remark"), handle: (*Sim).createSubAccount},
		"CreateSubAccounts":      {method: p, mutating: true, params: ps("requestId", "createAccountParams"), handle: (*Sim).createSubAccounts},
		"ChangeSubAccountName":   {method: p, mutating: true, params: ps("requestId", "email", "name"), handle: (*Sim).changeSubAccountName},
		"ChangeSubAccountRemark": {method: p, mutating: true, params: ps("requestId", "emails", "remark"), handle: (*Sim).changeSubAccountRemark},
		"CreateDefaultNet":       {method: p, mutating: true, task: true, params: ps("siteId", "requestId"), handle: (*Sim).createDefaultNet},
		"SupplyDefaultNet":       {method: p, mutating: true, task: true, params: ps("siteId", "requestId"), handle: (*Sim).supplyDefaultNet},
		"GetDefaultNet":          {method: g, params: ps("siteId", "requestId"), handle: (*Sim).getDefaultNet},
		"GetCustomNet":           {method: g, params: ps("siteId", "requestId"), handle: (*Sim).getCustomNet},
		"GetLineBillingScheme":   {method: g, params: ps("siteId", "requestId"), handle: (*Sim).getLineBillingScheme},
		"GetEipPrice":            {method: g, params: ps("size", "bandwidthConfId", "siteId", "qos", "requestId"), handle: (*Sim).getEipPrice},
		"QueryVms":               {method: g, params: ps("siteId", "productId", "billMethod", "email", "vpcId", "vpcName"), handle: (*Sim).queryVms},
		"QueryVm":                {method: g, params: ps("vmId"), handle: (*Sim).queryVm},
		"QueryExpireVms":         {method: g, lower: true, handle: (*Sim).queryExpireVms},
		"CreateVm": {method: p, mutating: true, task: true, params: ps("requestId", "siteId", "productId", "name", "num", "hostNo",
			"imageId", "moneyType", "subAccountId", "billCycle", "duration", "isToMonth", "isAutoRenewal", "priceToMonth", "qos",
			"vpcId", "subnetNetId", "vGatewayNetId", "vGatewayConfId", "vgatewayNetId", "vgatewayConfId"), handle: (*Sim).createVm},
		"OperateVm":      {method: p, mutating: true, task: true, params: ps("requestId", "action", "vmIds"), handle: (*Sim).operateVm},
		"RebuildVm":      {method: g, mutating: true, task: true, params: ps("requestId", "vmId", "imageId"), handle: (*Sim).rebuildVm},
		"DeleteVm":       {method: p, mutating: true, task: true, params: ps("requestId", "vmId"), handle: (*Sim).deleteVm},
		"ChangeVmName":   {method: p, mutating: true, params: ps("requestId", "vmId", "name"), handle: (*Sim).changeVmName},
		"UpdateVmLabels": {method: p, mutating: true, params: ps("requestId", "vmIds", "label"), handle: (*Sim).updateVmLabels},
		"ChangeAccount":  {method: p, mutating: true, params: ps("requestId", "vmId", "accountId"), handle: (*Sim).changeAccount},
		"UnbindAccounts": {method: p, mutating: true, params: ps("requestId", "vmIds"), handle: (*Sim).unbindAccounts},
		"BindAccounts":   {method: p, mutating: true, params: ps("requestId", "vmIds", "accountId"), handle: (*Sim).bindAccounts},
	}
}

// Params returns the parameters the reference lists for action, besides the common ones (the
// query-string parameters of every request: Action and the signature's). Any other parameter is
// refused with 10003. CreateVm lists both spellings of the gateway parameters.
func Params(action provider.Action) []string {
	return slices.Clone(actions[action].params)
}

// Actions returns the sorted names of the 30 actions the emulator serves.
func Actions() []provider.Action {
	out := make([]provider.Action, 0, len(actions))
	for k := range actions {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// IsMutating reports whether action changes the cloud (every POST action but QueryVmPrice, plus
// RebuildVm).
func IsMutating(action provider.Action) bool { return actions[action].mutating }

// Calls returns a copy of the per-action call counts: every request that named a known action,
// including rejected and faulted ones.
func (s *Sim) Calls() map[provider.Action]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[provider.Action]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// MutatingCalls returns the number of calls to mutating actions (see IsMutating).
func (s *Sim) MutatingCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.calls {
		if IsMutating(k) {
			n += v
		}
	}
	return n
}

// ResetCalls sets every call count to zero.
func (s *Sim) ResetCalls() {
	s.mu.Lock()
	s.calls = map[provider.Action]int{}
	s.mu.Unlock()
}

// reply is a response ready to be written.
type reply struct {
	status      int
	body        []byte
	contentType string // default application/json;charset=UTF-8
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"Code":"InternalError","Message":"encode","Data":null}`)
		status = http.StatusInternalServerError
	}
	return reply{status: status, body: b}
}

func plainError(status int, code, msg string) reply {
	return jsonReply(status, map[string]any{"Code": code, "Message": msg, "Data": nil})
}

// envelope builds the reference's success or error envelope.
func envelope(lower bool, code, msg string, data any) reply {
	if lower {
		var m any
		if msg != "" {
			m = msg
		}
		return jsonReply(http.StatusOK, map[string]any{"code": code, "msg": m, "data": data, "requestId": nil, "status": 0})
	}
	return jsonReply(http.StatusOK, map[string]any{"Code": code, "Message": msg, "Data": data})
}

// ServeHTTP serves the API at /gcw/, /gcw and /. The order of work is: latency, action lookup and
// call count, request-level fault (5xx before the work, 429, throttle envelope, drop before, slow),
// body read and method check, signature check, parameter placement and listing, the action itself
// (under the Sim's lock and, with a DataFile, the file lock; nothing before it sleeps under either),
// then a fault after the work if one was drawn (a 5xx instead of the answer, or a dropped
// connection).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opt.Latency > 0 {
		time.Sleep(s.opt.Latency)
	}
	switch r.URL.Path {
	case "/", "/gcw", "/gcw/":
	default:
		writeReply(w, plainError(http.StatusNotFound, "NotFound", "no such path"))
		return
	}
	q := r.URL.Query()
	name := provider.Action(q.Get("Action"))
	spec, ok := actions[name]
	if !ok {
		writeReply(w, plainError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("unknown Action %q", name)))
		return
	}
	s.mu.Lock()
	s.calls[name]++
	fault, tf := s.drawFault(name)
	slow := s.opt.Faults.slowDelay()
	s.mu.Unlock()

	status5xx, after5xx, is5xx := fault.serverError()
	switch {
	case is5xx && !after5xx:
		writeReply(w, serverErrorReply(status5xx))
		return
	case fault == FaultThrottle:
		w.Header().Set("Retry-After", "1")
		writeReply(w, plainError(http.StatusTooManyRequests, "Throttling", "too many requests (injected)"))
		return
	case fault == FaultThrottleEnvelope:
		writeReply(w, envelope(spec.lower, "Throttling", "请求过于频繁，请稍后重试(模拟限流)", nil))
		return
	case fault == FaultDropBefore:
		dropConn(w)
		return
	case fault == FaultSlow:
		time.Sleep(slow)
	}
	var buf bytes.Buffer
	if r.Body != nil {
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 8<<20)); err != nil {
			writeReply(w, errReply(spec.lower, fail("10003", "请求体读取失败")))
			return
		}
	}
	body := buf.Bytes()
	if r.Method != spec.method {
		writeReply(w, errReply(spec.lower, fail("10003", fmt.Sprintf("%s须使用%s方法", name, spec.method))))
		return
	}

	s.mu.Lock()
	rep := s.serveLocked(name, spec, r, q, body, tf)
	s.mu.Unlock()

	switch {
	case fault == FaultDropAfter:
		dropConn(w)
		return
	case is5xx && after5xx:
		rep = serverErrorReply(status5xx)
	}
	writeReply(w, rep)
}

// serveLocked does a request's work. Caller holds s.mu; serveLocked takes the file lock.
func (s *Sim) serveLocked(name provider.Action, spec actionSpec, r *http.Request, q url.Values, body []byte, tf taskFault) reply {
	err := s.acquire()
	defer s.release()
	if err != nil {
		return plainError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	now := s.clock.Now()
	if rep, ok := s.verify(r.Method, q, now); !ok {
		return rep
	}
	p, err := newParams(r, spec, q, body)
	if err != nil {
		return errReply(spec.lower, err)
	}
	settled := s.settle(now)
	p.now, p.taskFail, p.failError = now, tf.fail, tf.error
	data, err := spec.handle(s, p)
	if spec.mutating && s.opt.Meter {
		s.meter.mark(s.w)
	}
	if err != nil {
		if settled {
			_ = s.saveLocked()
		}
		return errReply(spec.lower, err)
	}
	if spec.mutating || settled {
		if err := s.saveLocked(); err != nil {
			return plainError(http.StatusInternalServerError, "InternalError", "save: "+err.Error())
		}
	}
	return envelope(spec.lower, "Success", "", data)
}

func errReply(lower bool, err error) reply {
	if e, ok := err.(*apiError); ok {
		return envelope(lower, e.Code, e.Message, nil)
	}
	return envelope(lower, "10003", err.Error(), nil)
}

func writeReply(w http.ResponseWriter, rep reply) {
	ct := rep.contentType
	if ct == "" {
		ct = "application/json;charset=UTF-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// dropConn closes the client's connection without writing a response.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

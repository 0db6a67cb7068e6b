package contract_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
)

const (
	testAK     = "contractAK"
	testSecret = "contract-secret-9f3e"
	taskDur    = 5 * time.Second
)

// t0 is the emulator's starting time (the reference's examples are around 12:19:08 Beijing time).
var t0 = time.Date(2026, 6, 22, 4, 19, 8, 0, time.UTC)

// Default-catalog network ids at 宿迁A (sim.DefaultCatalog).
const (
	subnetSuqianA  = "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d"
	gwTelecomA     = "8054ab84-cdcb-11ec-a318-ee97882ecf7d" // 电信, conf_id 10289
	confTelecom    = "10289"
	subnetSuqianB  = "b36b43a8-e706-11ec-8171-32f9a7e748fc"
	seedAccountID  = "7e7ba91e-4357-470a-9609-ce60d9d7e38f"
	seedAccountEml = "17716313367@163.com"
)

// env is one emulator behind a loopback HTTP server and one gcw client pointed at it.
type env struct {
	t      *testing.T
	sim    *sim.Sim
	srv    *httptest.Server
	clock  *sim.ManualClock
	c      *gcw.Client
	cfg    gcw.Config
	logBuf *syncBuffer

	mu   sync.Mutex
	sigs []string // every Signature value the emulator received
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv starts a Sim (keys, ManualClock at t0, task duration taskDur unless set) and a gcw client
// with the same credentials, no rate limit, an instant Sleep, a fixed Rand, the sim's clock for
// timestamps and debug logging into a buffer. simOpt and cliOpt may adjust the options.
func newEnv(t *testing.T, simOpt func(*sim.Options), cliOpt func(*gcw.Config)) *env {
	t.Helper()
	clock := sim.NewManualClock(t0)
	opt := sim.Options{Keys: map[string]string{testAK: testSecret}, Clock: clock, Seed: 1, TaskDuration: taskDur}
	if simOpt != nil {
		simOpt(&opt)
	}
	s, err := sim.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: s, clock: clock, logBuf: &syncBuffer{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sig := r.URL.Query().Get("Signature"); sig != "" {
			e.mu.Lock()
			e.sigs = append(e.sigs, sig)
			e.mu.Unlock()
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.cfg = gcw.Config{
		Endpoint: e.srv.URL + "/gcw", AccessKeyID: testAK, Secret: testSecret,
		Rate: -1, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Clock:  clock.Now,
		Rand:   func() float64 { return 0.5 },
		Sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		Logger: slog.New(slog.NewTextHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if cliOpt != nil {
		cliOpt(&e.cfg)
	}
	e.c = e.newClient(e.cfg)
	return e
}

func (e *env) newClient(cfg gcw.Config) *gcw.Client {
	e.t.Helper()
	c, err := gcw.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) signatures() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.sigs...)
}

var ctx = context.Background()

// pollOpts polls with a Sleep that moves the emulator's clock instead of waiting.
func (e *env) pollOpts() provider.PollOptions {
	return provider.PollOptions{Interval: time.Second, MaxInterval: 4 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { e.clock.Advance(d); return nil }}
}

// wait runs a task to its end: the clock passes the task's duration, then WaitTask polls it.
func (e *env) wait(taskID, requestID string) (*provider.Task, error) {
	e.t.Helper()
	e.clock.Advance(taskDur + time.Second)
	return provider.WaitTask(ctx, e.c, taskID, requestID, e.pollOpts())
}

// mustWait runs a task that must complete.
func (e *env) mustWait(taskID, requestID string) {
	e.t.Helper()
	task, err := e.wait(taskID, requestID)
	if err != nil {
		e.t.Fatalf("task %s: %v", taskID, err)
	}
	if task.Status != provider.TaskCompleted {
		e.t.Fatalf("task %s: status %q", taskID, task.Status)
	}
}

// vmReq is a CreateVm request for one per-minute windows A5000 desktop at 宿迁A with the 电信 gateway.
func vmReq(name string) provider.CreateVmRequest {
	return provider.CreateVmRequest{SiteID: sim.SiteSuqianA, ProductID: sim.ProductA5000Win, ImageID: sim.ImageWin10,
		Name: name, QosMbps: 5, VpcID: sim.VPCDefaultSuqianA, SubnetNetID: subnetSuqianA,
		VGatewayNetID: gwTelecomA, VGatewayConfID: confTelecom}
}

// createVms creates desktops with req and waits for the task; it returns their ids.
func (e *env) createVms(req provider.CreateVmRequest) []string {
	e.t.Helper()
	resp, err := e.c.CreateVm(ctx, req)
	if err != nil {
		e.t.Fatalf("CreateVm %s: %v", req.Name, err)
	}
	e.mustWait(resp.TaskID, resp.RequestID)
	return resp.VmIDs
}

// createVm creates one running desktop named name and returns its id.
func (e *env) createVm(name string) string {
	e.t.Helper()
	ids := e.createVms(vmReq(name))
	if len(ids) != 1 {
		e.t.Fatalf("CreateVm %s: %d ids", name, len(ids))
	}
	return ids[0]
}

// power switches desktops on or off and waits for the task.
func (e *env) power(action provider.PowerAction, ids ...string) {
	e.t.Helper()
	resp, err := e.c.OperateVm(ctx, provider.OperateVmRequest{Action: action, VmIDs: ids})
	if err != nil {
		e.t.Fatalf("OperateVm %s: %v", action, err)
	}
	e.mustWait(resp.TaskID, resp.RequestID)
}

// readyAccount creates a sub-account, lets its creation finish and returns its id.
func (e *env) readyAccount(email string) string {
	e.t.Helper()
	if _, err := e.c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{Email: email, Name: "u-" + email}); err != nil {
		e.t.Fatalf("CreateSubAccount %s: %v", email, err)
	}
	e.clock.Advance(taskDur + time.Second)
	acc := e.account(email)
	if acc.Status != provider.AccountReady {
		e.t.Fatalf("account %s: status %q after its creation time", email, acc.Status)
	}
	return acc.AccountID
}

// account reads one sub-account by email.
func (e *env) account(email string) provider.SubAccount {
	e.t.Helper()
	as, err := e.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{Email: email})
	if err != nil {
		e.t.Fatalf("QuerySubAccounts %s: %v", email, err)
	}
	if len(as) != 1 {
		e.t.Fatalf("QuerySubAccounts %s: %d accounts", email, len(as))
	}
	return as[0]
}

// vm reads one desktop.
func (e *env) vm(id string) *provider.Desktop {
	e.t.Helper()
	d, err := e.c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
	if err != nil {
		e.t.Fatalf("QueryVm %s: %v", id, err)
	}
	return d
}

// wantCode asserts err is an *provider.APIError with exactly code, and that the helper is agrees.
func wantCode(t *testing.T, err error, code string, is func(error) bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("want code %s, got success", code)
	}
	ae, ok := provider.AsAPIError(err)
	if !ok {
		t.Fatalf("want *provider.APIError code %s, got %T: %v", code, err, err)
	}
	if ae.Code != code {
		t.Fatalf("want code %s, got %q: %v", code, ae.Code, err)
	}
	if ae.Message == "" || ae.HTTPStatus != 200 || ae.Action == "" {
		t.Fatalf("code %s: message %q, HTTP %d, action %q: the envelope was not carried", code, ae.Message, ae.HTTPStatus, ae.Action)
	}
	if is != nil && !is(err) {
		t.Fatalf("code %s: the provider.Is* helper does not recognise %v", code, err)
	}
}

// errClass names an outcome for sequence comparisons.
func errClass(err error) string {
	var ue *provider.UnknownOutcomeError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ue):
		return "unknown"
	}
	if ae, ok := provider.AsAPIError(err); ok {
		return fmt.Sprintf("api:%d:%s", ae.HTTPStatus, ae.Code)
	}
	return "transport"
}

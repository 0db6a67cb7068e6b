package gcw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// Replies of a server that does the work of every request it reads, then answers one way or another
// (the server is written from the API reference, which documents no HTTP status meanings and no
// de-duplication by requestId).
func replyStatus(code int, body string) step {
	return func(w http.ResponseWriter) { writeJSON(w, code, body) }
}

var (
	reply503Envelope = replyStatus(503, `{"Code":"ServiceUnavailable","Message":"busy"}`)
	reply503Plain    = replyStatus(503, `<html>503 Service Unavailable</html>`)
	reply500         = replyStatus(500, `{"Code":"InternalError","Message":"boom"}`)
	reply502         = replyStatus(502, `<html>Bad Gateway</html>`)
	reply504         = replyStatus(504, `<html>Gateway Timeout</html>`)
	reply429Envelope = replyStatus(429, `{"Code":"Throttling","Message":"too many requests"}`)
	reply429Plain    = replyStatus(429, `Too Many Requests`)
	replyThrottle200 = replyStatus(200, `{"Code":"Throttling","Message":"too many requests"}`)
	replyGarbage200  = replyStatus(200, `<html>ok</html>`)
)

// createCall is a CreateVm: each one the server processes is a desktop (or several) more.
func createCall(ctx context.Context, c *Client) error {
	_, err := c.CreateVm(ctx, provider.CreateVmRequest{RequestID: "rid-1", SiteID: "s", ProductID: "p", Name: "n", ImageID: "i"})
	return err
}

func renameCall(ctx context.Context, c *Client) error {
	_, err := c.ChangeVmName(ctx, provider.ChangeVmNameRequest{RequestID: "rid-1", VmID: "v", Name: "n"})
	return err
}

// TestMutationNeverResentBlindly: a call that creates (or otherwise changes) something is sent again
// only when the previous attempt provably was not processed. Before, 503 and 429 were resent for every
// action, and a server that had created the desktops before answering 503 got CreateVm again.
func TestMutationNeverResentBlindly(t *testing.T) {
	tests := []struct {
		name     string
		call     callFn
		steps    []step
		attempts int // requests the server read (and, for CreateVm, desktops it created)
		want     outcome
		reason   string
	}{
		{"create-503-after-work", createCall, []step{reply503Envelope, ok()}, 1, unknownOutcome,
			"the server created the desktops, then answered 503: a resend would create them again"},
		{"create-503-plain", createCall, []step{reply503Plain, ok()}, 1, unknownOutcome,
			"a 503 from a proxy proves nothing about the server behind it"},
		{"create-500", createCall, []step{reply500, ok()}, 1, unknownOutcome, "a 500 may follow the work"},
		{"create-502", createCall, []step{reply502, ok()}, 1, unknownOutcome, "a gateway error may hide a done request"},
		{"create-504", createCall, []step{reply504, ok()}, 1, unknownOutcome, "a gateway timeout may hide a done request"},
		{"create-drop-after-read", createCall, []step{drop(), ok()}, 1, unknownOutcome,
			"the connection dropped after the server read the request"},
		{"create-garbage-200", createCall, []step{replyGarbage200, ok()}, 1, unknownOutcome,
			"a 200 whose body is not an envelope says nothing about what was done"},
		{"create-429-envelope", createCall, []step{reply429Envelope, ok()}, 2, okOutcome,
			"a 429 whose body is an error envelope is the server's refusal: nothing was done, resend"},
		{"create-429-plain", createCall, []step{reply429Plain, ok()}, 1, unknownOutcome,
			"a 429 without an envelope is not the server's word that nothing was done"},
		{"create-throttle-in-envelope", createCall, []step{replyThrottle200, ok()}, 2, okOutcome,
			"a Throttling code in an HTTP 200 envelope is a refusal: resend after backoff"},
		{"create-429-envelope-exhausted", createCall, []step{reply429Envelope}, 4, apiOutcome,
			"every attempt refused: the last refusal, as a plain APIError (nothing was done)"},
		{"rename-503", renameCall, []step{reply503Envelope, ok()}, 1, unknownOutcome,
			"a setter too: the caller learns that its change may have landed, and observes"},
		{"rename-429-envelope", renameCall, []step{reply429Envelope, ok()}, 2, okOutcome,
			"a refusal in an envelope is retried for every mutation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scripted(t, tc.steps...)
			c, _ := newTestClient(t, f.srv.URL, nil)
			err := tc.call(context.Background(), c)
			checkOutcome(t, err, tc.want, tc.reason)
			if n := len(f.requests()); n != tc.attempts {
				t.Fatalf("the server read %d requests, want %d (%s)", n, tc.attempts, tc.reason)
			}
			if tc.want == unknownOutcome {
				// The last reply stays reachable: an unknown outcome wraps it.
				if _, ok := provider.AsAPIError(err); !ok && !strings.Contains(tc.name, "drop") {
					t.Errorf("err = %v: the unknown outcome should wrap the server's reply", err)
				}
			}
		})
	}
}

// mutationCalls calls every mutating action once.
var mutationCalls = map[provider.Action]func(context.Context, *Client) error{
	provider.ActionCreateVm: createCall,
	provider.ActionOperateVm: func(ctx context.Context, c *Client) error {
		_, err := c.OperateVm(ctx, provider.OperateVmRequest{RequestID: "rid-1", Action: provider.PowerReboot, VmIDs: []string{"v"}})
		return err
	},
	provider.ActionRebuildVm: rebuildCall,
	provider.ActionDeleteVm:  deleteCall,
	provider.ActionCreateDefaultNet: func(ctx context.Context, c *Client) error {
		_, err := c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{RequestID: "rid-1", SiteID: "s"})
		return err
	},
	provider.ActionSupplyDefaultNet: func(ctx context.Context, c *Client) error {
		_, err := c.SupplyDefaultNet(ctx, provider.SupplyDefaultNetRequest{RequestID: "rid-1", SiteID: "s"})
		return err
	},
	provider.ActionCreateSubAccount: func(ctx context.Context, c *Client) error {
		_, err := c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{RequestID: "rid-1", Email: "a@example.com", Name: "a"})
		return err
	},
	provider.ActionCreateSubAccounts: func(ctx context.Context, c *Client) error {
		_, err := c.CreateSubAccounts(ctx, provider.CreateSubAccountsRequest{RequestID: "rid-1",
			Accounts: []provider.NewSubAccount{{Email: "a@example.com", Name: "a"}}})
		return err
	},
	provider.ActionUpdateOrder: func(ctx context.Context, c *Client) error {
		_, err := c.UpdateOrder(ctx, provider.UpdateOrderRequest{RequestID: "rid-1", VmIDs: []string{"v"}, Duration: 1})
		return err
	},
	provider.ActionRenewalOrder: func(ctx context.Context, c *Client) error {
		_, err := c.RenewalOrder(ctx, provider.RenewalOrderRequest{RequestID: "rid-1", VmIDs: []string{"v"}, Duration: 1})
		return err
	},
	provider.ActionChangeVmName: renameCall,
	provider.ActionUpdateVmLabels: func(ctx context.Context, c *Client) error {
		_, err := c.UpdateVmLabels(ctx, provider.UpdateVmLabelsRequest{RequestID: "rid-1", VmIDs: []string{"v"}, Label: "l"})
		return err
	},
	provider.ActionChangeSubAccountName: func(ctx context.Context, c *Client) error {
		_, err := c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{RequestID: "rid-1", Email: "a@example.com", Name: "n"})
		return err
	},
	provider.ActionChangeSubAccountRemark: func(ctx context.Context, c *Client) error {
		_, err := c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{RequestID: "rid-1", Emails: []string{"a@example.com"}, Remark: "r"})
		return err
	},
	provider.ActionChangeAccount: func(ctx context.Context, c *Client) error {
		_, err := c.ChangeAccount(ctx, provider.ChangeAccountRequest{RequestID: "rid-1", VmID: "v", AccountID: "a"})
		return err
	},
	provider.ActionBindAccounts: func(ctx context.Context, c *Client) error {
		_, err := c.BindAccounts(ctx, provider.BindAccountsRequest{RequestID: "rid-1", VmIDs: []string{"v"}, AccountID: "a"})
		return err
	},
	provider.ActionUnbindAccounts: func(ctx context.Context, c *Client) error {
		_, err := c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{RequestID: "rid-1", VmIDs: []string{"v"}})
		return err
	},
}

// TestEveryMutationIsUnknownWithoutAnEnvelope: every mutating action, answered after its work with a
// 5xx (503 included, with or without an envelope), a 429 without an envelope or a dropped connection,
// is an unknown outcome after a single request; answered with a refusal in an envelope, it is sent
// again.
func TestEveryMutationIsUnknownWithoutAnEnvelope(t *testing.T) {
	for _, a := range provider.Actions {
		if a.Mutating && mutationCalls[a.Name] == nil {
			t.Fatalf("mutationCalls lacks %s", a.Name)
		}
	}
	replies := []struct {
		name     string
		reply    step
		attempts int
		want     outcome
	}{
		{"503-envelope", reply503Envelope, 1, unknownOutcome},
		{"503-plain", reply503Plain, 1, unknownOutcome},
		{"500", reply500, 1, unknownOutcome},
		{"502", reply502, 1, unknownOutcome},
		{"504", reply504, 1, unknownOutcome},
		{"429-plain", reply429Plain, 1, unknownOutcome},
		{"drop", drop(), 1, unknownOutcome},
		{"429-envelope", reply429Envelope, 2, okOutcome},
		{"throttle-in-envelope", replyThrottle200, 2, okOutcome},
	}
	for _, a := range provider.Actions {
		if !a.Mutating {
			continue
		}
		for _, r := range replies {
			t.Run(string(a.Name)+"-"+r.name, func(t *testing.T) {
				f := scripted(t, r.reply, ok())
				c, _ := newTestClient(t, f.srv.URL, nil)
				err := mutationCalls[a.Name](context.Background(), c)
				reason := fmt.Sprintf("%s answered %s after doing its work", a.Name, r.name)
				if r.want == okOutcome {
					reason = fmt.Sprintf("%s refused with %s: nothing done, sent again", a.Name, r.name)
				}
				checkOutcome(t, err, r.want, reason)
				if n := len(f.requests()); n != r.attempts {
					t.Fatalf("%s sent %d times, want %d (%s)", a.Name, n, r.attempts, reason)
				}
			})
		}
	}
}

// TestReadsRetryTransientFailures: reads have no side effect, so every transient failure is retried
// with backoff, the in-envelope throttle code of an HTTP 200 included.
func TestReadsRetryTransientFailures(t *testing.T) {
	taskCall := func(ctx context.Context, c *Client) error {
		_, err := c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: "t1", RequestID: "rid-1"})
		return err
	}
	tests := []struct {
		name     string
		call     callFn
		steps    []step
		attempts int
		want     outcome
		reason   string
	}{
		{"500", readCall, []step{reply500, ok()}, 2, okOutcome, "a read is retried on any 5xx"},
		{"502", readCall, []step{reply502, ok()}, 2, okOutcome, "a read is retried on a gateway error"},
		{"503", readCall, []step{reply503Plain, ok()}, 2, okOutcome, "a read is retried on 503"},
		{"504", readCall, []step{reply504, ok()}, 2, okOutcome, "a read is retried on a gateway timeout"},
		{"429-plain", readCall, []step{reply429Plain, ok()}, 2, okOutcome, "a read is retried on any 429"},
		{"429-envelope", readCall, []step{reply429Envelope, ok()}, 2, okOutcome, "a read is retried on a 429 refusal"},
		{"throttle-in-envelope", readCall, []step{replyThrottle200, replyThrottle200, ok()}, 3, okOutcome,
			"a Throttling code in an HTTP 200 envelope is transient: retried"},
		{"throttle-in-envelope-task", taskCall, []step{replyThrottle200, ok()}, 2, okOutcome,
			"QueryTask is a read: retried on an in-envelope throttle"},
		{"throttle-in-envelope-exhausted", readCall, []step{replyThrottle200}, 4, apiOutcome,
			"after MaxRetries the throttle comes back as an APIError with its code"},
		{"drop", readCall, []step{drop(), ok()}, 2, okOutcome, "a read is retried after a dropped connection"},
		{"api-error", readCall, []step{apiErr("10006"), ok()}, 1, apiOutcome, "an error code other than a throttle is an answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := scripted(t, tc.steps...)
			c, sl := newTestClient(t, f.srv.URL, nil)
			err := tc.call(context.Background(), c)
			checkOutcome(t, err, tc.want, tc.reason)
			if n := len(f.requests()); n != tc.attempts {
				t.Fatalf("%d attempts, want %d (%s)", n, tc.attempts, tc.reason)
			}
			if sl.count() != tc.attempts-1 {
				t.Errorf("%d backoff sleeps for %d attempts (%s)", sl.count(), tc.attempts, tc.reason)
			}
			if tc.name == "throttle-in-envelope-exhausted" {
				if ae, _ := provider.AsAPIError(err); ae == nil || ae.Code != "Throttling" {
					t.Errorf("err = %v, want the Throttling code kept", err)
				}
			}
		})
	}
}

// TestNotSentIsRetriedForMutations: failures that prove the request never reached the server are
// retried for every action, CreateVm included.
func TestNotSentIsRetriedForMutations(t *testing.T) {
	t.Run("tls-handshake-failure", func(t *testing.T) {
		var handled atomic.Int32
		srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled.Add(1) }))
		srv.Config.ErrorLog = discardLog()
		t.Cleanup(srv.Close)
		// The default client does not trust the test server's certificate: the handshake fails before a
		// byte of the request is written.
		c, sl := newTestClient(t, srv.URL, nil)
		err := createCall(context.Background(), c)
		if err == nil || provider.IsUnknownOutcome(err) {
			t.Fatalf("err = %v, want a plain transport error: the request was never written", err)
		}
		if sl.count() != 3 {
			t.Errorf("%d retries, want 3: a handshake failure proves nothing was sent", sl.count())
		}
		if handled.Load() != 0 {
			t.Errorf("the handler ran")
		}
	})
}

// taskServer answers QueryTask with the given statuses in turn (the last one repeated).
func taskServer(t *testing.T, statuses ...string) *fake {
	return newFake(t, func(n int, _ *http.Request, w http.ResponseWriter) {
		s := statuses[min(n-1, len(statuses)-1)]
		writeJSON(w, 200, `{"Code":"Success","Data":{"taskId":"t1","requestId":"rid-1","status":"`+s+`","failReason":"why"}}`)
	})
}

// TestTaskStatusMatchedCaseInsensitively: the reference spells the statuses Running, Completed and
// Failed; any case (and stray spaces) is the same status. Before, "COMPLETED" kept WaitTask polling
// until its timeout.
func TestTaskStatusMatchedCaseInsensitively(t *testing.T) {
	tests := []struct {
		raw    string
		want   provider.TaskStatus
		reason string
	}{
		{"Completed", provider.TaskCompleted, "the reference's spelling"},
		{"COMPLETED", provider.TaskCompleted, "upper case is the same status"},
		{"completed", provider.TaskCompleted, "lower case is the same status"},
		{` Completed\n`, provider.TaskCompleted, "surrounding blanks are ignored"},
		{"FAILED", provider.TaskFailed, "upper case is the same status"},
		{"failed", provider.TaskFailed, "lower case is the same status"},
		{"RUNNING", provider.TaskRunning, "upper case is the same status"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			f := taskServer(t, tc.raw)
			c, _ := newTestClient(t, f.srv.URL, nil)
			task, err := c.QueryTask(context.Background(), provider.QueryTaskRequest{TaskID: "t1", RequestID: "rid-1"})
			if err != nil || task.Status != tc.want {
				t.Fatalf("QueryTask = %+v, %v; want status %q (%s)", task, err, tc.want, tc.reason)
			}
			if tc.want == provider.TaskRunning {
				return
			}
			// And WaitTask, which compares with the constants, ends at once.
			polls := 0
			_, err = provider.WaitTask(context.Background(), c, "t1", "rid-1", provider.PollOptions{
				Timeout: time.Hour, Sleep: func(ctx context.Context, _ time.Duration) error { polls++; return ctx.Err() }})
			var tf *provider.TaskFailedError
			switch tc.want {
			case provider.TaskCompleted:
				if err != nil {
					t.Fatalf("WaitTask: %v (%s)", err, tc.reason)
				}
			case provider.TaskFailed:
				if !errors.As(err, &tf) {
					t.Fatalf("WaitTask: %v, want *TaskFailedError (%s)", err, tc.reason)
				}
			}
			if polls != 0 {
				t.Errorf("WaitTask slept %d times on a final status", polls)
			}
		})
	}
}

// TestUnknownTaskStatusEndsTheWait: a status the reference does not list ends the wait after
// MaxUnknownTaskStatus answers in a row, with an error (the task's outcome is unknown), never a poll
// until the wait's timeout.
func TestUnknownTaskStatusEndsTheWait(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		polls    int // QueryTask requests until the wait ends
		want     string
		reason   string
	}{
		{"unknown-forever", []string{"Finished"}, 5, "unknown", "five unrecognised answers in a row end the wait"},
		{"empty-status", []string{""}, 5, "unknown", "an empty status is not a status"},
		{"unknown-then-completed", []string{"Queued", "Queued", "Completed"}, 3, "ok",
			"an unrecognised value that turns into a known one is waited through"},
		{"count-resets", []string{"Queued", "Queued", "Queued", "Queued", "Running", "Queued", "Queued", "Queued", "Queued", "Completed"}, 10, "ok",
			"only answers in a row count: a Running in between starts the count again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := taskServer(t, tc.statuses...)
			c, _ := newTestClient(t, f.srv.URL, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := provider.WaitTask(ctx, c, "t1", "rid-1", provider.PollOptions{
				Timeout: 30 * time.Minute, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
			switch tc.want {
			case "ok":
				if err != nil {
					t.Fatalf("WaitTask: %v (%s)", err, tc.reason)
				}
			case "unknown":
				ae, ok := provider.AsAPIError(err)
				if !ok || errors.Is(err, provider.ErrTaskTimeout) || !strings.Contains(ae.Message, "status") {
					t.Fatalf("WaitTask: %v, want an APIError naming the unrecognised status (%s)", err, tc.reason)
				}
				var tf *provider.TaskFailedError
				if errors.As(err, &tf) {
					t.Fatalf("WaitTask: %v: an unknown status is not a failed task", err)
				}
			}
			if n := len(f.requests()); n != tc.polls {
				t.Errorf("%d polls, want %d (%s)", n, tc.polls, tc.reason)
			}
		})
	}
}

// TestQueryTaskSendsOnlyTheGivenRequestID: QueryTask's requestId names the call that made the task;
// a made-up one names nothing, so none is sent when the caller has none.
func TestQueryTaskSendsOnlyTheGivenRequestID(t *testing.T) {
	tests := []struct {
		name, given string
		wantSent    bool
		reason      string
	}{
		{"given", "rid-7", true, "the creating call's requestId is sent as given"},
		{"none", "", false, "no requestId is made up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := taskServer(t, "Running")
			c, _ := newTestClient(t, f.srv.URL, nil)
			task, err := c.QueryTask(context.Background(), provider.QueryTaskRequest{TaskID: "t1", RequestID: tc.given})
			if err != nil {
				t.Fatal(err)
			}
			q := f.requests()[0].query
			got, sent := q.Get("requestId"), q.Has("requestId")
			if sent != tc.wantSent || got != tc.given {
				t.Errorf("requestId sent=%v %q, want sent=%v %q (%s)", sent, got, tc.wantSent, tc.given, tc.reason)
			}
			if task.RequestID == "generated-rid" {
				t.Errorf("task.RequestID = %q: made up", task.RequestID)
			}
		})
	}
}

// TestUserAgent: every request, read or mutation, retries included, names deskfleet and its version.
func TestUserAgent(t *testing.T) {
	tests := []struct {
		name, set, want, reason string
	}{
		{"default", "", "deskfleet/dev", "the default until the command sets its version"},
		{"set", "deskfleet/1.4.2", "deskfleet/1.4.2", "Config.UserAgent as given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var uas []string
			f := newFake(t, func(n int, r *http.Request, w http.ResponseWriter) {
				uas = append(uas, r.Header.Get("User-Agent"))
				if n == 1 {
					reply503Plain(w)
					return
				}
				ok()(w)
			})
			c, _ := newTestClient(t, f.srv.URL, func(cfg *Config) { cfg.UserAgent = tc.set })
			if err := readCall(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if err := deleteCall(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if len(uas) != 3 {
				t.Fatalf("%d requests, want 3", len(uas))
			}
			for i, ua := range uas {
				if ua != tc.want {
					t.Errorf("request %d: User-Agent %q, want %q (%s)", i+1, ua, tc.want, tc.reason)
				}
			}
		})
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

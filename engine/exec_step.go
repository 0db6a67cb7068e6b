package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/spec"
	"github.com/deskfleet/deskfleet/state"
)

// prepared is a step ready to call: its op with every id resolved and the call itself.
type prepared struct {
	op      Op       // the step's op with the ids of desktops and accounts filled in
	targets []string // names (or emails, or the site) for the intent
	vmIDs   []string // the desktops' ids, in op.Desktops order
	want    []state.Desktop
	call    func(ctx context.Context, reqID string) (*callResult, error)
}

// callResult is what a call answered.
type callResult struct {
	taskID  string
	vmIDs   []string // CreateVm: the new desktops; others: the desktops the task works on
	failed  []string // items (desktop names, emails) that failed in a partial answer
	failMsg string
	okVmIDs []string // UpdateOrder/RenewalOrder: the desktops that succeeded
}

// exec runs one step to its end and records it. It never panics on an API answer and always returns
// a result.
func (r *run) exec(ctx context.Context, s Step) *StepResult {
	res := newStepResult(s)
	start := r.opt.Now()
	ev := func(k EventKind) Event {
		return Event{Kind: k, Step: s.ID, Op: s.Op.Kind(), Action: s.Op.Action(), Targets: res.Targets,
			TaskID: res.TaskID, Elapsed: r.opt.Now().Sub(start), Err: res.Err}
	}
	finish := func(status StepStatus, err error) *StepResult {
		res.Status, res.Err, res.Elapsed = status, err, r.opt.Now().Sub(start)
		if ae, ok := provider.AsAPIError(err); ok {
			res.Code, res.Message = ae.Code, ae.Message
		}
		var tf *provider.TaskFailedError
		if errors.As(err, &tf) {
			res.Message = tf.Task.FailReason
		}
		switch status {
		case StepDone:
		case StepPartial:
			r.markFailed(s, res.Failed)
		default:
			r.markFailed(s, nil)
		}
		kind := map[StepStatus]EventKind{StepSkipped: EventStepSkipped, StepDone: EventStepDone, StepPartial: EventStepPartial, StepFailed: EventStepFailed,
			StepUnknown: EventStepUnknown, StepInterrupted: EventStepInterrupted}[status]
		r.emit(ev(kind))
		return res
	}
	r.emit(ev(EventStepStarted))

	pr, err := r.prepare(ctx, s)
	if err != nil {
		if ctx.Err() != nil {
			return finish(StepSkipped, fmt.Errorf("not started: %w", ctx.Err()))
		}
		res.Err = err
		_ = r.update(func(rec *state.Record) error { r.journal(rec, res, StepFailed); return nil })
		return finish(StepFailed, fmt.Errorf("resolving the step's targets: %w", err))
	}
	if stop := r.stopped(); stop != nil {
		return finish(StepSkipped, fmt.Errorf("not started: %w", stop))
	}
	if ctx.Err() != nil {
		return finish(StepSkipped, fmt.Errorf("not started: %w", ctx.Err()))
	}

	// (2) intent before side effect.
	reqID := r.opt.NewRequestID()
	res.RequestID, res.IntentID, res.VmIDs = reqID, fmt.Sprintf("%s/%d", r.id, s.ID), pr.vmIDs
	resolved := s
	resolved.Op = pr.op
	intent := state.Intent{ID: res.IntentID, RunID: r.id, Step: s.ID, Op: string(s.Op.Kind()),
		Action: string(s.Op.Action()), RequestID: reqID, Targets: pr.targets, VmIDs: pr.vmIDs,
		Params: encodeParams(resolved, pr.want), Status: state.IntentPending, StartedAt: r.opt.Now()}
	if err := r.update(func(rec *state.Record) error { rec.Intents = append(rec.Intents, intent); return nil }); err != nil {
		err = fmt.Errorf("recording the intent of step %d: %w", s.ID, err)
		r.halt(err)
		return finish(StepFailed, err)
	}

	// (3) the call; it is not cancelled by Ctrl-C, so that its answer is recorded.
	cr, err := pr.call(r.recCtx, reqID)
	if err != nil {
		if provider.IsUnknownOutcome(err) {
			r.halt(fmt.Errorf("step %d %s: %w", s.ID, s.Op.Action(), err))
			res.Err = err
			_ = r.update(func(rec *state.Record) error { r.journal(rec, res, StepUnknown); return nil })
			return finish(StepUnknown, err)
		}
		res.Err = err
		if uerr := r.update(func(rec *state.Record) error {
			closeIntent(rec, res.IntentID, state.IntentFailed, err.Error(), r.opt.Now())
			r.journal(rec, res, StepFailed)
			return nil
		}); uerr != nil {
			r.halt(uerr)
		}
		return finish(StepFailed, err)
	}
	res.TaskID = cr.taskID
	if len(cr.vmIDs) > 0 {
		res.VmIDs = cr.vmIDs
	}
	res.Failed = cr.failed

	if !s.Async() || cr.taskID == "" {
		status := StepDone
		var serr error
		if len(cr.failed) > 0 {
			status = StepPartial
			serr = fmt.Errorf("failed for %s: %s", describeList(cr.failed), cr.failMsg)
			if len(cr.failed) >= len(pr.targets) {
				status = StepFailed
			}
		}
		res.Err = serr
		if err := r.update(func(rec *state.Record) error {
			ist, msg := state.IntentDone, ""
			if serr != nil {
				msg = serr.Error()
				if status == StepFailed {
					ist = state.IntentFailed
				}
			}
			closeIntent(rec, res.IntentID, ist, msg, r.opt.Now())
			if status != StepFailed {
				r.effects(rec, s, pr, cr)
			}
			r.journal(rec, res, status)
			return nil
		}); err != nil {
			r.halt(err)
			return finish(StepFailed, fmt.Errorf("the call succeeded but recording it failed: %w", err))
		}
		return finish(status, serr)
	}

	// (4) the response: task id and vmIds; new desktops are managed from now on.
	if err := r.update(func(rec *state.Record) error {
		for i := range rec.Intents {
			if rec.Intents[i].ID == res.IntentID {
				rec.Intents[i].Status, rec.Intents[i].TaskID = state.IntentSent, cr.taskID
				if len(cr.vmIDs) > 0 {
					rec.Intents[i].VmIDs = cr.vmIDs
				}
			}
		}
		if op, ok := s.Op.(CreateDesktops); ok {
			recordCreated(rec, op, pr.want, cr.vmIDs, r.opt.Now())
		}
		return nil
	}); err != nil {
		r.halt(fmt.Errorf("recording the answer of step %d: %w", s.ID, err))
		return finish(StepFailed, err)
	}
	if op, ok := s.Op.(CreateDesktops); ok {
		r.mu.Lock()
		r.created[s.ID] = cr.vmIDs
		for i, id := range cr.vmIDs {
			if i < len(op.Names) {
				r.vmIDs[op.Names[i]] = id
			}
		}
		r.mu.Unlock()
	}

	// (5) the task.
	_, terr := r.waitTask(ctx, cr.taskID, reqID, func(t *provider.Task) {
		e := ev(EventTaskPolled)
		e.TaskStatus = t.Status
		r.emit(e)
	})
	if terr != nil && ctx.Err() != nil {
		res.Err = terr
		_ = r.update(func(rec *state.Record) error { r.journal(rec, res, StepInterrupted); return nil })
		return finish(StepInterrupted, terr)
	}
	var tf *provider.TaskFailedError
	if terr != nil && !errors.As(terr, &tf) {
		// No final status (timed out, or QueryTask refused): the intent stays sent for Settle.
		res.Err = terr
		_ = r.update(func(rec *state.Record) error { r.journal(rec, res, StepFailed); return nil })
		return finish(StepFailed, terr)
	}

	// (7) let the desktops settle, and read the names of new ones back.
	live := r.settleDesktops(ctx, s, cr.vmIDs)
	status := StepDone
	if terr != nil {
		status = StepFailed
	}
	res.Err = terr
	if err := r.update(func(rec *state.Record) error {
		ist, msg := state.IntentDone, ""
		if terr != nil {
			ist, msg = state.IntentFailed, terr.Error()
		}
		closeIntent(rec, res.IntentID, ist, msg, r.opt.Now())
		if op, ok := s.Op.(CreateDesktops); ok {
			r.fixCreated(rec, s.ID, op, cr.vmIDs, live)
		}
		if status == StepDone {
			r.effects(rec, s, pr, cr)
		}
		r.journal(rec, res, status)
		return nil
	}); err != nil {
		r.halt(err)
		return finish(StepFailed, fmt.Errorf("the task ended but recording it failed: %w", err))
	}
	return finish(status, terr)
}

// journal appends the step's outcome to the run's journal entry.
func (r *run) journal(rec *state.Record, res *StepResult, status StepStatus) {
	run := findRun(rec, r.id)
	if run == nil {
		return
	}
	sr := *res
	sr.Status = status
	run.Steps = append(run.Steps, stepOutcome(sr))
}

func closeIntent(rec *state.Record, id string, status state.IntentStatus, msg string, now time.Time) {
	for i := range rec.Intents {
		if rec.Intents[i].ID == id {
			rec.Intents[i].Status, rec.Intents[i].Error, rec.Intents[i].EndedAt = status, msg, now
		}
	}
}

func describeList(items []string) string {
	if len(items) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
	}
	return strings.Join(items, ", ")
}

// recordCreated adds the desktops a CreateVm returned to the record, named after the spec in order
// (fixed once the names are read back), with what the API cannot report. A record entry of the same
// name (a desktop deleted outside deskfleet, which this one replaces) is dropped.
func recordCreated(rec *state.Record, op CreateDesktops, want []state.Desktop, vmIDs []string, now time.Time) {
	if rec.Desktops == nil {
		rec.Desktops = map[string]state.Desktop{}
	}
	for i, id := range vmIDs {
		if i >= len(op.Names) {
			break
		}
		name := op.Names[i]
		for oid, o := range rec.Desktops {
			if o.Name == name && oid != id && !slices.Contains(vmIDs, oid) {
				delete(rec.Desktops, oid)
			}
		}
		d := state.Desktop{VmID: id, Name: name, ImageID: op.Image.ID, AutoRenew: op.Billing.AutoRenew, AppliedAt: now}
		for _, w := range want {
			if w.Name == name {
				d.Protect = w.Protect
			}
		}
		rec.Desktops[id] = d
	}
}

// fixCreated maps the new desktops to the spec's names by the names CreateVm gave them (read back),
// and drops from the record the ones that do not exist (a failed creation keeps some, or none).
func (r *run) fixCreated(rec *state.Record, stepID int, op CreateDesktops, vmIDs []string, live map[string]*provider.Desktop) {
	names := assignNames(op, vmIDs, live)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range vmIDs {
		d, ok := live[id]
		if ok && d == nil { // gone
			delete(rec.Desktops, id)
			for n, v := range r.vmIDs {
				if v == id {
					delete(r.vmIDs, n)
				}
			}
			continue
		}
		if ok {
			r.liveName[id] = d.Name
		}
		if name, ok := names[id]; ok {
			if e, in := rec.Desktops[id]; in {
				e.Name = name
				rec.Desktops[id] = e
			}
			r.vmIDs[name] = id
		}
	}
}

// assignNames decides which new desktop is which spec name: the one that already has the name, else
// the one with the name CreateVm gives that place, else by position.
func assignNames(op CreateDesktops, vmIDs []string, live map[string]*provider.Desktop) map[string]string {
	out := map[string]string{}
	taken := map[string]bool{}
	api := op.APINames()
	byName := func(want string) string {
		for _, id := range vmIDs {
			if d := live[id]; d != nil && !taken[id] && d.Name == want {
				return id
			}
		}
		return ""
	}
	assigned := make([]bool, len(op.Names))
	for pass := 0; pass < 2; pass++ {
		for i, n := range op.Names {
			if assigned[i] {
				continue
			}
			want := n
			if pass == 1 {
				want = api[i]
			}
			if id := byName(want); id != "" {
				out[id], taken[id], assigned[i] = n, true, true
			}
		}
	}
	for i, n := range op.Names {
		if assigned[i] {
			continue
		}
		if i < len(vmIDs) && !taken[vmIDs[i]] {
			out[vmIDs[i]], taken[vmIDs[i]] = n, true
		}
	}
	return out
}

// effects sets, after a step succeeded (wholly or for some items), the record's fields that the step
// enforces, from the plan's Want.
func (r *run) effects(rec *state.Record, s Step, pr *prepared, cr *callResult) {
	now := r.opt.Now()
	failed := map[string]bool{}
	for _, f := range cr.failed {
		failed[f] = true
	}
	each := func(fn func(d *state.Desktop, want state.Desktop)) {
		for i, t := range pr.op.Desktops() {
			if failed[t.Name] || i >= len(pr.vmIDs) {
				continue
			}
			d, ok := rec.Desktops[pr.vmIDs[i]]
			if !ok {
				continue
			}
			fn(&d, r.wantByName[t.Name])
			d.AppliedAt = now
			rec.Desktops[pr.vmIDs[i]] = d
		}
	}
	switch o := pr.op.(type) {
	case CreateDesktops:
		// recorded when the answer came; names fixed by fixCreated.
	case DeleteDesktop:
		delete(rec.Desktops, o.Desktop.VmID)
	case RebuildDesktop:
		each(func(d *state.Desktop, _ state.Desktop) { d.ImageID = o.To.ID })
	case RenameDesktop:
		each(func(d *state.Desktop, _ state.Desktop) { d.Name = o.Desktop.Name })
	case PowerDesktops:
		each(func(d *state.Desktop, w state.Desktop) {
			if w.Power == string(o.Power) {
				d.Power = w.Power
			}
		})
	case LabelDesktops:
		each(func(d *state.Desktop, _ state.Desktop) { d.Label = ptr(o.Label) })
	case BindAccounts:
		each(func(d *state.Desktop, _ state.Desktop) { d.Account = ptr(o.Account.Email) })
	case ChangeAccount:
		each(func(d *state.Desktop, _ state.Desktop) { d.Account = ptr(o.Account.Email) })
	case UnbindAccounts:
		each(func(d *state.Desktop, _ state.Desktop) { d.Account = ptr("") })
	case UpdateOrder:
		each(func(d *state.Desktop, _ state.Desktop) { d.AutoRenew = o.Billing.AutoRenew })
	case RenewOrder:
		each(func(d *state.Desktop, _ state.Desktop) { d.AutoRenew = o.Billing.AutoRenew })
	case CreateSubAccounts:
		if rec.Accounts == nil {
			rec.Accounts = map[string]state.Account{}
		}
		r.mu.Lock()
		for _, a := range o.New {
			if failed[a.Email] {
				continue
			}
			acc := state.Account{Email: a.Email, AccountID: r.acctIDs[a.Email], Name: a.Name}
			if w, ok := r.wantAcct[a.Email]; ok {
				acc.Remark = w.Remark
			} else if a.Remark != "" {
				acc.Remark = ptr(a.Remark)
			}
			rec.Accounts[a.Email] = acc
		}
		r.mu.Unlock()
	case ChangeSubAccountName:
		if a, ok := rec.Accounts[o.Account.Email]; ok {
			a.Name = o.To
			rec.Accounts[o.Account.Email] = a
		}
	case ChangeSubAccountRemark:
		for _, t := range o.Targets {
			if a, ok := rec.Accounts[t.Email]; ok {
				a.Remark = ptr(o.Remark)
				rec.Accounts[t.Email] = a
			}
		}
	}
}

func ptr(s string) *string { return &s }

// prepare resolves the step's targets (ids of desktops and accounts created earlier in the run, the
// network chosen after a network step) and builds its call.
func (r *run) prepare(ctx context.Context, s Step) (*prepared, error) {
	pr := &prepared{}
	resolve := func(ts []Target) ([]Target, error) {
		out := make([]Target, len(ts))
		for i, t := range ts {
			if t.VmID == "" {
				r.mu.Lock()
				t.VmID = r.vmIDs[t.Name]
				r.mu.Unlock()
				if t.VmID == "" {
					return nil, fmt.Errorf("desktop %s has no id: the step that creates it did not record one", t.Name)
				}
			}
			out[i] = t
			pr.targets = append(pr.targets, t.Name)
			pr.vmIDs = append(pr.vmIDs, t.VmID)
		}
		return out, nil
	}
	one := func(t Target) (Target, error) {
		ts, err := resolve([]Target{t})
		if err != nil {
			return Target{}, err
		}
		return ts[0], nil
	}
	c := r.c
	switch o := s.Op.(type) {
	case CreateDefaultNet:
		pr.op, pr.targets = o, []string{o.Site.Name}
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			tr, err := c.CreateDefaultNet(ctx, provider.CreateDefaultNetRequest{RequestID: rid, SiteID: o.Site.ID})
			if ae, ok := provider.AsAPIError(err); ok && ae.Code == provider.CodeCreateNetFailed {
				// 13500 also answers "exists" and "being created" (e.g. by a run that crashed): the
				// step's aim is met once the network is there.
				if r.waitDefaultNet(ctx, o.Site.ID) {
					return &callResult{}, nil
				}
			}
			return taskResult(tr, err)
		}
	case SupplyDefaultNet:
		pr.op, pr.targets = o, []string{o.Site.Name}
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			tr, err := c.SupplyDefaultNet(ctx, provider.SupplyDefaultNetRequest{RequestID: rid, SiteID: o.Site.ID})
			return taskResult(tr, err)
		}
	case CreateSubAccounts:
		pr.op, pr.targets = o, o.Accounts()
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			cr := &callResult{}
			if len(o.New) == 1 {
				a := o.New[0]
				if _, err := c.CreateSubAccount(ctx, provider.CreateSubAccountRequest{RequestID: rid, Email: a.Email, Name: a.Name, Remark: a.Remark}); err != nil {
					return nil, err
				}
			} else {
				req := provider.CreateSubAccountsRequest{RequestID: rid}
				for _, a := range o.New {
					req.Accounts = append(req.Accounts, provider.NewSubAccount{Email: a.Email, Name: a.Name, Remark: a.Remark})
				}
				resp, err := c.CreateSubAccounts(ctx, req)
				if err != nil {
					return nil, err
				}
				for _, f := range resp.Failed {
					cr.failed = append(cr.failed, f.Email)
					cr.failMsg = f.Message
				}
			}
			// The new accounts' ids, for the record and the bindings after.
			r.lookupAccounts(ctx, o.Accounts())
			return cr, nil
		}
	case ChangeSubAccountName:
		pr.op, pr.targets = o, o.Accounts()
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.ChangeSubAccountName(ctx, provider.ChangeSubAccountNameRequest{RequestID: rid, Email: o.Account.Email, Name: o.To})
			return syncResult(err)
		}
	case ChangeSubAccountRemark:
		pr.op, pr.targets = o, o.Accounts()
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.ChangeSubAccountRemark(ctx, provider.ChangeSubAccountRemarkRequest{RequestID: rid, Emails: o.Accounts(), Remark: o.Remark})
			return syncResult(err)
		}
	case CreateDesktops:
		if o.Network.Fix != NetReady {
			nc, err := r.chooseNetwork(ctx, o)
			if err != nil {
				return nil, err
			}
			o.Network = nc
		}
		pr.op, pr.targets = o, o.Names
		for _, n := range o.Names {
			if w, ok := r.wantByName[n]; ok {
				pr.want = append(pr.want, w)
			}
		}
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			b := o.Billing
			req := provider.CreateVmRequest{RequestID: rid, SiteID: o.Site.ID, ProductID: o.ProductID, ImageID: o.Image.ID,
				Name: o.BaseName, Num: len(o.Names), HostNo: o.HostNo, BillCycle: b.Cycle, QosMbps: o.Bandwidth,
				VpcID: o.Network.VpcID, SubnetNetID: o.Network.SubnetID,
				VGatewayNetID: o.Network.GatewayNetID, VGatewayConfID: o.Network.GatewayConfID}
			if b.Monthly() {
				req.Duration, req.IsToMonth, req.IsAutoRenewal, req.PriceToMonth = b.Months, b.ToMonthEnd, b.AutoRenew, b.FullMonthPrice
			}
			tr, err := c.CreateVm(ctx, req)
			return taskResult(tr, err)
		}
	case DeleteDesktop:
		t, err := one(o.Desktop)
		if err != nil {
			return nil, err
		}
		o.Desktop = t
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			tr, err := c.DeleteVm(ctx, provider.DeleteVmRequest{RequestID: rid, VmID: t.VmID})
			return taskResult(tr, err)
		}
	case RebuildDesktop:
		t, err := one(o.Desktop)
		if err != nil {
			return nil, err
		}
		o.Desktop = t
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			tr, err := c.RebuildVm(ctx, provider.RebuildVmRequest{RequestID: rid, VmID: t.VmID, ImageID: o.To.ID})
			return taskResult(tr, err)
		}
	case RenameDesktop:
		if o.Desktop.VmID == "" {
			if id := r.findCreatedByName(s, o.From); id != "" {
				o.Desktop.VmID = id
			}
		}
		t, err := one(o.Desktop)
		if err != nil {
			return nil, err
		}
		o.Desktop = t
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.ChangeVmName(ctx, provider.ChangeVmNameRequest{RequestID: rid, VmID: t.VmID, Name: t.Name})
			return syncResult(err)
		}
	case PowerDesktops:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		pr.op = o
		ids := slices.Clone(pr.vmIDs)
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			tr, err := c.OperateVm(ctx, provider.OperateVmRequest{RequestID: rid, Action: o.Power, VmIDs: ids})
			res, err := taskResult(tr, err)
			if res != nil && len(res.vmIDs) == 0 {
				res.vmIDs = ids
			}
			return res, err
		}
	case LabelDesktops:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		pr.op = o
		ids := slices.Clone(pr.vmIDs)
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.UpdateVmLabels(ctx, provider.UpdateVmLabelsRequest{RequestID: rid, VmIDs: ids, Label: o.Label})
			return syncResult(err)
		}
	case BindAccounts:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		ref, err := r.readyAccount(ctx, o.Account)
		if err != nil {
			return nil, err
		}
		o.Account = ref
		pr.op = o
		ids := slices.Clone(pr.vmIDs)
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.BindAccounts(ctx, provider.BindAccountsRequest{RequestID: rid, VmIDs: ids, AccountID: ref.ID})
			return syncResult(err)
		}
	case ChangeAccount:
		t, err := one(o.Desktop)
		if err != nil {
			return nil, err
		}
		o.Desktop = t
		ref, err := r.readyAccount(ctx, o.Account)
		if err != nil {
			return nil, err
		}
		o.Account = ref
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.ChangeAccount(ctx, provider.ChangeAccountRequest{RequestID: rid, VmID: t.VmID, AccountID: ref.ID})
			return syncResult(err)
		}
	case UnbindAccounts:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		pr.op = o
		ids := slices.Clone(pr.vmIDs)
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			_, err := c.UnbindAccounts(ctx, provider.UnbindAccountsRequest{RequestID: rid, VmIDs: ids})
			return syncResult(err)
		}
	case UpdateOrder:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			resp, err := c.UpdateOrder(ctx, provider.UpdateOrderRequest{RequestID: rid, VmIDs: idsOf(ts),
				Duration: o.Billing.Months, IsToMonth: o.Billing.ToMonthEnd, IsAutoRenewal: o.Billing.AutoRenew})
			return orderResult(ts, resp, err)
		}
	case RenewOrder:
		ts, err := resolve(o.Targets)
		if err != nil {
			return nil, err
		}
		o.Targets = ts
		pr.op = o
		pr.call = func(ctx context.Context, rid string) (*callResult, error) {
			resp, err := c.RenewalOrder(ctx, provider.RenewalOrderRequest{RequestID: rid, VmIDs: idsOf(ts),
				Duration: o.Billing.Months, IsToMonth: o.Billing.ToMonthEnd, PriceToMonth: o.Billing.FullMonthPrice,
				IsAutoRenewal: o.Billing.AutoRenew})
			return orderResult(ts, resp, err)
		}
	default:
		return nil, fmt.Errorf("no executor for op %s", s.Op.Kind())
	}
	return pr, nil
}

func idsOf(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.VmID
	}
	return out
}

func taskResult(tr *provider.TaskResponse, err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	if tr.TaskID == "" {
		return nil, errors.New("the API answered without a taskId")
	}
	return &callResult{taskID: tr.TaskID, vmIDs: tr.VmIDs}, nil
}

func syncResult(err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	return &callResult{}, nil
}

// orderResult reads UpdateOrder's and RenewalOrder's per-desktop outcomes: failed items by name.
func orderResult(ts []Target, resp *provider.OrderResponse, err error) (*callResult, error) {
	if err != nil {
		return nil, err
	}
	cr := &callResult{okVmIDs: resp.SuccessVmIDs, failMsg: resp.FailedMsg}
	for _, id := range resp.FailedVmIDs {
		name := id
		for _, t := range ts {
			if t.VmID == id {
				name = t.Name
			}
		}
		cr.failed = append(cr.failed, name)
	}
	return cr, nil
}

// findCreatedByName finds, among the desktops created by the steps s depends on, the one whose name
// (read back after its creation) is from.
func (r *run) findCreatedByName(s Step, from string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range s.After {
		for _, id := range r.created[a] {
			if r.liveName[id] == from {
				return id
			}
		}
	}
	return ""
}

// chooseNetwork reads the default network after a network step and chooses the subnet (the one
// wanted, else the one with the most free addresses) and gateway (the one wanted, else the first,
// else none), as Resolve does.
func (r *run) chooseNetwork(ctx context.Context, o CreateDesktops) (NetworkChoice, error) {
	net, err := r.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: o.Site.ID})
	if err != nil {
		return NetworkChoice{}, fmt.Errorf("reading the default network of %s: %w", o.Site.Name, err)
	}
	if net == nil || len(net.Subnets) == 0 {
		return NetworkChoice{}, fmt.Errorf("the default network of %s has no subnet yet", o.Site.Name)
	}
	c := NetworkChoice{Default: true, VpcID: net.VpcID, VpcName: net.VpcName,
		WantSubnet: o.Network.WantSubnet, WantGateway: o.Network.WantGateway}
	res := &resolver{reported: map[spec.Diagnostic]bool{}}
	if !res.pickSubnet(&c, *net, c.WantSubnet, spec.Pos{}) || !res.pickGateway(&c, *net, c.WantGateway, spec.Pos{}) {
		return NetworkChoice{}, fmt.Errorf("the default network of %s: %s", o.Site.Name, res.diags[0].Message)
	}
	return c, nil
}

// waitDefaultNet waits (bounded by SettleTimeout) until the site's default network has a subnet.
func (r *run) waitDefaultNet(ctx context.Context, siteID string) bool {
	deadline := r.opt.Now().Add(r.opt.SettleTimeout)
	interval := r.opt.PollInterval
	for {
		net, err := r.c.GetDefaultNet(ctx, provider.GetDefaultNetRequest{SiteID: siteID})
		if err == nil && net != nil && len(net.Subnets) > 0 {
			return true
		}
		if r.opt.Now().After(deadline) || r.opt.Sleep(ctx, r.jitter(interval)) != nil {
			return false
		}
		interval = r.next(interval)
	}
}

// lookupAccounts reads the ids of accounts just created (one QuerySubAccounts), for the record.
func (r *run) lookupAccounts(ctx context.Context, emails []string) {
	req := provider.QuerySubAccountsRequest{}
	if len(emails) == 1 {
		req.Email = emails[0]
	}
	list, err := r.c.QuerySubAccounts(ctx, req)
	if err != nil {
		return // the bindings look them up again
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range list {
		for _, e := range emails {
			if strings.EqualFold(e, a.Email) {
				r.acctIDs[e] = a.AccountID
			}
		}
	}
}

// readyAccount returns the account's id, waiting (bounded) while it is "creating" (an account made
// by this run, or by one that crashed): binding it earlier fails (13013/13011). One read when ready.
func (r *run) readyAccount(ctx context.Context, ref AccountRef) (AccountRef, error) {
	r.mu.Lock()
	id := r.acctIDs[ref.Email]
	r.mu.Unlock()
	if id == "" {
		id = ref.ID
	}
	deadline := r.opt.Now().Add(r.opt.SettleTimeout)
	interval := r.opt.PollInterval
	for {
		list, err := r.c.QuerySubAccounts(ctx, provider.QuerySubAccountsRequest{Email: ref.Email})
		if err != nil {
			return ref, fmt.Errorf("reading sub-account %s: %w", ref.Email, err)
		}
		var found *provider.SubAccount
		for i := range list {
			if strings.EqualFold(list[i].Email, ref.Email) {
				found = &list[i]
			}
		}
		switch {
		case found == nil && id == "":
			return ref, fmt.Errorf("sub-account %s does not exist", ref.Email)
		case found != nil && found.Status == provider.AccountError:
			return ref, fmt.Errorf("sub-account %s is in status error", ref.Email)
		case found != nil && found.Status != provider.AccountCreating:
			ref.ID = found.AccountID
			return ref, nil
		}
		if r.opt.Now().After(deadline) {
			return ref, fmt.Errorf("sub-account %s still creating after %s", ref.Email, r.opt.SettleTimeout)
		}
		if err := r.opt.Sleep(ctx, r.jitter(interval)); err != nil {
			return ref, err
		}
		interval = r.next(interval)
	}
}

func (r *run) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.75 + 0.5*r.opt.Rand()))
}

func (r *run) next(d time.Duration) time.Duration {
	d = d * 3 / 2
	if d > r.opt.MaxPollInterval {
		d = r.opt.MaxPollInterval
	}
	return d
}

// waitTask polls the task until it is Completed (nil) or Failed (*provider.TaskFailedError), the
// first poll after about PollInterval, then backing off with jitter. Transient errors of QueryTask
// (transport, throttling, 5xx) are tolerated; another APIError ends the wait; so do ctx and
// TaskTimeout (wrapping provider.ErrTaskTimeout). polled sees each answer.
func (r *run) waitTask(ctx context.Context, taskID, reqID string, polled func(*provider.Task)) (*provider.Task, error) {
	return pollTask(ctx, r.c, r.opt, taskID, reqID, polled)
}

func pollTask(ctx context.Context, c provider.Client, opt ExecOptions, taskID, reqID string, polled func(*provider.Task)) (*provider.Task, error) {
	deadline := opt.Now().Add(opt.TaskTimeout)
	interval := opt.PollInterval
	var lastErr error
	for {
		d := time.Duration(float64(interval) * (0.75 + 0.5*opt.Rand()))
		if err := opt.Sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("waiting for task %s: %w", taskID, err)
		}
		t, err := c.QueryTask(ctx, provider.QueryTaskRequest{TaskID: taskID, RequestID: reqID})
		switch {
		case err == nil:
			if polled != nil {
				polled(t)
			}
			if t.Status == provider.TaskCompleted {
				return t, nil
			}
			if t.Status == provider.TaskFailed {
				return t, &provider.TaskFailedError{Task: *t}
			}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("waiting for task %s: %w", taskID, ctx.Err())
		default:
			if ae, ok := provider.AsAPIError(err); ok && ae.HTTPStatus != 429 && ae.HTTPStatus < 500 {
				return nil, fmt.Errorf("waiting for task %s: %w", taskID, err)
			}
			lastErr = err
		}
		if opt.Now().After(deadline) {
			if lastErr != nil {
				return nil, fmt.Errorf("waiting for task %s: %w after %s (last error: %w)", taskID, provider.ErrTaskTimeout, opt.TaskTimeout, lastErr)
			}
			return nil, fmt.Errorf("waiting for task %s: %w after %s", taskID, provider.ErrTaskTimeout, opt.TaskTimeout)
		}
		interval = time.Duration(float64(interval) * 1.5)
		if interval > opt.MaxPollInterval {
			interval = opt.MaxPollInterval
		}
	}
}

// settleDesktops re-reads the desktops a task worked on until none is busy (bounded by
// SettleTimeout), so the next step finds them in a stable status. It returns the last reading by id
// (nil for a desktop that is gone). Only for steps whose task changes desktops.
func (r *run) settleDesktops(ctx context.Context, s Step, ids []string) map[string]*provider.Desktop {
	switch s.Op.(type) {
	case CreateDesktops, PowerDesktops, RebuildDesktop, DeleteDesktop:
	default:
		return nil
	}
	return waitDesktops(ctx, r.c, r.opt, ids)
}

func waitDesktops(ctx context.Context, c provider.Client, opt ExecOptions, ids []string) map[string]*provider.Desktop {
	out := map[string]*provider.Desktop{}
	pending := slices.Clone(ids)
	deadline := opt.Now().Add(opt.SettleTimeout)
	interval := opt.PollInterval
	for {
		var still []string
		for i, r := range readDesktops(ctx, c, pending, opt.Parallelism) {
			id := pending[i]
			switch {
			case provider.IsNotFound(r.err):
				out[id] = nil
			case r.err != nil:
				still = append(still, id)
			case r.d.Status == provider.StatusGone:
				out[id] = nil
			default:
				r.d.ID = id
				out[id] = r.d
				if r.d.Status == provider.StatusBusy {
					still = append(still, id)
				}
			}
		}
		if len(still) == 0 || ctx.Err() != nil || opt.Now().After(deadline) {
			return out
		}
		pending = still
		if opt.Sleep(ctx, interval) != nil {
			return out
		}
		interval = interval * 3 / 2
		if interval > opt.MaxPollInterval {
			interval = opt.MaxPollInterval
		}
	}
}

// desktopReading is one QueryVm's answer.
type desktopReading struct {
	d   *provider.Desktop
	err error
}

// readDesktops reads each of ids with QueryVm, at most parallelism at once (a step's desktops are
// many: one after another, 150 reads at 20 ms are 3 s of waiting), and returns the readings in ids'
// order.
func readDesktops(ctx context.Context, c provider.Client, ids []string, parallelism int) []desktopReading {
	out := make([]desktopReading, len(ids))
	sem := make(chan struct{}, max(parallelism, 1))
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d, err := c.QueryVm(ctx, provider.QueryVmRequest{VmID: id})
			out[i] = desktopReading{d: d, err: err}
		})
	}
	wg.Wait()
	return out
}

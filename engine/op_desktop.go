package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// The ops on one desktop at a time, or on the desktops one CreateVm makes.

// CreateDesktops creates desktops that share every creation parameter in one CreateVm call (a task)
// with num = len(Names). CreateVm names them BaseName, BaseName_001, ... from HostNo; the executor reads
// the created names back and renames those that differ from Names.
type CreateDesktops struct {
	Names     []string      `json:"names"`
	BaseName  string        `json:"baseName"`
	HostNo    int           `json:"hostNo,omitempty"`
	Site      Site          `json:"site"`
	ProductID string        `json:"productId"`
	Product   string        `json:"product"` // display: "NVIDIA A5000 windows"
	GoodsID   int           `json:"goodsId"`
	Image     Image         `json:"image"`
	Bandwidth int           `json:"bandwidth"`
	Billing   Billing       `json:"billing"`
	Network   NetworkChoice `json:"network"`
}

func (CreateDesktops) Kind() OpKind            { return KindCreateDesktops }
func (CreateDesktops) Action() provider.Action { return provider.ActionCreateVm }
func (o CreateDesktops) Desktops() []Target {
	out := make([]Target, len(o.Names))
	for i, n := range o.Names {
		out[i] = Target{Name: n}
	}
	return out
}
func (CreateDesktops) Accounts() []string { return nil }
func (CreateDesktops) isOp()              {}
func (o CreateDesktops) Facts() OpFacts {
	return OpFacts{Async: true, Site: o.Site, Arg: CallArg{Kind: ArgCount, Count: len(o.Names)}}
}

// resolve chooses the network when a network step of the plan made or completed it.
func (o CreateDesktops) resolve(ctx context.Context, r *run, _ Step) (Op, error) {
	if o.Network.Fix != NetReady {
		nc, err := r.chooseNetwork(ctx, o)
		if err != nil {
			return nil, err
		}
		o.Network = nc
	}
	return o, nil
}

func (o CreateDesktops) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	b := o.Billing
	req := provider.CreateVmRequest{RequestID: rid, SiteID: o.Site.ID, ProductID: o.ProductID, ImageID: o.Image.ID,
		Name: o.BaseName, Num: len(o.Names), HostNo: o.HostNo, BillCycle: b.Cycle, QosMbps: o.Bandwidth,
		VpcID: o.Network.VpcID, SubnetNetID: o.Network.SubnetID,
		VGatewayNetID: o.Network.GatewayNetID, VGatewayConfID: o.Network.GatewayConfID}
	if b.Monthly() {
		req.Duration, req.IsToMonth, req.IsAutoRenewal, req.PriceToMonth = b.Months, b.ToMonthEnd, b.AutoRenew, b.FullMonthPrice
	}
	tr, err := env.c.CreateVm(ctx, req)
	return taskResult(tr, err)
}

// record: the new desktops are recorded as soon as CreateVm answers (recordCreated), and named once
// their task ended (nameCreated).
func (CreateDesktops) record(*state.Record, effect) {}

// createRecheck is how long after a CreateVm whose answer was lost its desktops are looked for before
// the call is taken as not made: a gateway that timed out (HTTP 504) may have passed the request on
// to a server still at work, whose desktops are listed only once it takes them up.
const createRecheck = 30 * time.Second

// settlePending adopts the desktops a CreateVm whose answer was lost may have made: live desktops
// with the intent's names (the spec's, or CreateVm's) that nobody manages. When there are none, it
// looks again createRecheck after the call (at once when that time has passed); none then, the call
// made nothing and is safe to make again (the run repeats it, as it does a setter's).
func (o CreateDesktops) settlePending(ctx context.Context, s *settler, in state.Intent, pj paramsJSON) (settlement, error) {
	cands, live, err := s.unmanagedNamed(ctx, o)
	if wait := in.StartedAt.Add(createRecheck).Sub(s.opt.Now()); err == nil && len(cands) == 0 && wait > 0 {
		if err = s.opt.Sleep(ctx, wait); err == nil {
			cands, live, err = s.unmanagedNamed(ctx, o)
		}
	}
	if err != nil || len(cands) == 0 {
		st := settled(state.IntentFailed, "no desktop with these names: not created")
		if err == nil {
			st.note += "; the call is safe to repeat"
			st.repeat = true
		}
		return st, err
	}
	// One desktop per wanted name at most; extra ones are left unmanaged.
	assigned := assignNames(o, cands, live)
	var adopt []string
	for _, id := range cands {
		if _, ok := assigned[id]; ok {
			adopt = append(adopt, id)
		}
	}
	settledNow := waitDesktops(ctx, s.c, s.opt, adopt)
	st := settled(state.IntentDone, fmt.Sprintf("found %d of %d desktops by name: adopted", len(adopt), len(o.Names)))
	var ids []string
	for _, id := range adopt {
		st.adopted = append(st.adopted, assigned[id])
		if d, ok := settledNow[id]; !ok || d != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(st.adopted)
	now := s.opt.Now()
	st.also = func(rec *state.Record) {
		created := o
		created.Names = nil
		for _, id := range ids {
			created.Names = append(created.Names, assigned[id])
		}
		recordCreated(rec, created, pj.Want, ids, now)
		if cur, ok := rec.Intent(in.ID); ok {
			cur.VmIDs = adopt
			rec.SetIntent(cur)
		}
	}
	return st, nil
}

// DeleteDesktop deletes one desktop (DeleteVm, a task).
type DeleteDesktop struct {
	Desktop Target `json:"desktop"`
}

func (DeleteDesktop) Kind() OpKind            { return KindDeleteDesktop }
func (DeleteDesktop) Action() provider.Action { return provider.ActionDeleteVm }
func (o DeleteDesktop) Desktops() []Target    { return []Target{o.Desktop} }
func (DeleteDesktop) Accounts() []string      { return nil }
func (DeleteDesktop) isOp()                   {}
func (DeleteDesktop) Facts() OpFacts          { return OpFacts{Async: true} }

func (o DeleteDesktop) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	t, err := r.resolveTarget(o.Desktop)
	o.Desktop = t
	return o, err
}

func (o DeleteDesktop) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	tr, err := env.c.DeleteVm(ctx, provider.DeleteVmRequest{RequestID: rid, VmID: o.Desktop.VmID})
	return taskResult(tr, err)
}

// record: the desktop leaves the record.
func (o DeleteDesktop) record(rec *state.Record, _ effect) { rec.DeleteDesktop(o.Desktop.VmID) }

// settlePending: the desktop is gone, or it was not deleted.
func (o DeleteDesktop) settlePending(ctx context.Context, s *settler, _ state.Intent, _ paramsJSON) (settlement, error) {
	live := waitDesktops(ctx, s.c, s.opt, []string{o.Desktop.VmID})
	if d := live[o.Desktop.VmID]; d == nil {
		st := settled(state.IntentDone, "the desktop is gone")
		st.record = true
		return st, nil
	}
	// Deleting the same vmId again is safe: the desktop is the one the plan (and its guard) chose.
	st := settled(state.IntentFailed, "the desktop still exists: not deleted; the call is safe to repeat")
	st.repeat = true
	return st, nil
}

// RebuildDesktop reinstalls one stopped desktop from an image (RebuildVm, a task): it wipes the system disk.
type RebuildDesktop struct {
	Desktop Target `json:"desktop"`
	From    Image  `json:"from"` // the image last applied
	To      Image  `json:"to"`
}

func (RebuildDesktop) Kind() OpKind            { return KindRebuildDesktop }
func (RebuildDesktop) Action() provider.Action { return provider.ActionRebuildVm }
func (o RebuildDesktop) Desktops() []Target    { return []Target{o.Desktop} }
func (RebuildDesktop) Accounts() []string      { return nil }
func (RebuildDesktop) isOp()                   {}
func (o RebuildDesktop) Facts() OpFacts {
	return OpFacts{Async: true, Arg: CallArg{Kind: ArgWord, Text: o.To.Name}}
}

func (o RebuildDesktop) resolve(_ context.Context, r *run, _ Step) (Op, error) {
	t, err := r.resolveTarget(o.Desktop)
	o.Desktop = t
	return o, err
}

func (o RebuildDesktop) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	tr, err := env.c.RebuildVm(ctx, provider.RebuildVmRequest{RequestID: rid, VmID: o.Desktop.VmID, ImageID: o.To.ID})
	return taskResult(tr, err)
}

// record: the desktop's image is the new one (QueryVm does not report it).
func (o RebuildDesktop) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Desktops(), func(d *state.Desktop, _ state.Desktop) { d.ImageID = o.To.ID })
}

// settlePending: a desktop's image cannot be read: a person must check.
func (o RebuildDesktop) settlePending(_ context.Context, _ *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settlement{ask: fmt.Sprintf("RebuildVm of desktop %s (vmId %s), requestId %s, sent %s (intent %s): the API does not report a desktop's image. "+
		"Check in the Capital Online console whether %s was reinstalled from image %s (%s) at that time (its task list, or log in and look); %s.",
		o.Desktop.Name, o.Desktop.VmID, in.RequestID, sentAt(in), in.ID, o.Desktop.Name, o.To.Name, o.To.ID, howToAnswer(in))}, nil
}

// RenameDesktop renames one desktop (ChangeVmName).
type RenameDesktop struct {
	Desktop Target `json:"desktop"` // Name is the new name
	From    string `json:"from"`
}

func (RenameDesktop) Kind() OpKind            { return KindRenameDesktop }
func (RenameDesktop) Action() provider.Action { return provider.ActionChangeVmName }
func (o RenameDesktop) Desktops() []Target    { return []Target{o.Desktop} }
func (RenameDesktop) Accounts() []string      { return nil }
func (RenameDesktop) isOp()                   {}
func (o RenameDesktop) Facts() OpFacts {
	return OpFacts{Arg: CallArg{Kind: ArgFrom, Text: o.From}}
}

// resolve finds a desktop created by this run by the name CreateVm gave it.
func (o RenameDesktop) resolve(_ context.Context, r *run, s Step) (Op, error) {
	if o.Desktop.VmID == "" {
		if id := r.findCreatedByName(s, o.From); id != "" {
			o.Desktop.VmID = id
		}
	}
	t, err := r.resolveTarget(o.Desktop)
	o.Desktop = t
	return o, err
}

func (o RenameDesktop) call(ctx context.Context, env callEnv, rid string) (*callResult, error) {
	_, err := env.c.ChangeVmName(ctx, provider.ChangeVmNameRequest{RequestID: rid, VmID: o.Desktop.VmID, Name: o.Desktop.Name})
	return syncResult(err)
}

func (o RenameDesktop) record(rec *state.Record, fx effect) {
	fx.desktops(rec, o.Desktops(), func(d *state.Desktop, _ state.Desktop) { d.Name = o.Desktop.Name })
}

// settlePending: safe to repeat.
func (RenameDesktop) settlePending(ctx context.Context, s *settler, in state.Intent, _ paramsJSON) (settlement, error) {
	return settleRepeatable(ctx, s, in), nil
}

// leftUndone: the desktop, when a failed DeleteVm task left it in place and settled (running,
// stopped, in error or expired): deleting the same vmId again is safe (taskRepeater).
func (o DeleteDesktop) leftUndone(live map[string]*provider.Desktop) Op {
	d, read := live[o.Desktop.VmID]
	if !read || d == nil {
		return nil
	}
	switch d.Status {
	case provider.StatusRunning, provider.StatusStopped, provider.StatusFailed, provider.StatusExpired:
		return o
	}
	return nil
}

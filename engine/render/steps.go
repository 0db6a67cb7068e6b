package render

import (
	"fmt"
	"strings"

	"github.com/deskfleet/deskfleet/engine"
	"github.com/deskfleet/deskfleet/provider"
)

// stepCall is the API action a step calls with its key parameters, as the steps list shows it:
// `CreateVm num=3`, `OperateVm off`, `UpdateVmLabels "team-b"`, `BindAccounts alice@…`,
// `UpdateOrder month x3`.
func stepCall(op engine.Op) string {
	if op == nil {
		return "(no op)"
	}
	name := string(op.Action())
	arg := op.Facts().Arg
	switch arg.Kind {
	case engine.ArgCount:
		return fmt.Sprintf("%s num=%d", name, arg.Count)
	case engine.ArgWord:
		return name + " " + safe(arg.Text)
	case engine.ArgText:
		return name + " " + quote(arg.Text)
	case engine.ArgFrom:
		return name + " from " + quote(arg.Text)
	case engine.ArgEmail:
		return name + " " + safe(shortEmail(arg.Text))
	case engine.ArgBilling:
		return name + " " + billingShort(arg.Billing)
	}
	return name
}

// stepTargets names what a step touches: desktop names, else account emails (shortened), else the
// site; long lists are shortened to their first names and "and N more".
func stepTargets(op engine.Op) string {
	if op == nil {
		return ""
	}
	if f := op.Facts(); f.DefaultNet {
		return "site " + safe(f.Site.Name)
	}
	if ds := op.Desktops(); len(ds) > 0 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = safe(d.Name)
		}
		return shortList(names)
	}
	as := op.Accounts()
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = safe(shortEmail(a))
	}
	return shortList(names)
}

// billingShort is a billing plan in a few characters: "per-minute", "month x3".
func billingShort(b engine.Billing) string {
	if b.Cycle != provider.BillCycleMonthly {
		return "per-minute"
	}
	s := fmt.Sprintf("month x%d", b.Months)
	var extra []string
	if b.ToMonthEnd {
		extra = append(extra, "to month end")
	}
	if b.AutoRenew {
		extra = append(extra, "auto-renew")
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

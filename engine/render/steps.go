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
	switch o := op.(type) {
	case engine.CreateDesktops:
		return fmt.Sprintf("%s num=%d", name, len(o.Names))
	case engine.PowerDesktops:
		return name + " " + string(o.Power)
	case engine.LabelDesktops:
		return name + " " + quote(o.Label)
	case engine.BindAccounts:
		return name + " " + shortEmail(o.Account.Email)
	case engine.ChangeAccount:
		return name + " " + shortEmail(o.Account.Email)
	case engine.UpdateOrder:
		return name + " " + billingShort(o.Billing)
	case engine.RenewOrder:
		return name + " " + billingShort(o.Billing)
	case engine.RebuildDesktop:
		return name + " " + o.To.Name
	case engine.RenameDesktop:
		return name + " from " + quote(o.From)
	case engine.ChangeSubAccountName:
		return name + " " + quote(o.To)
	case engine.ChangeSubAccountRemark:
		return name + " " + quote(o.Remark)
	}
	return name
}

// stepTargets names what a step touches: desktop names, else account emails (shortened), else the
// site; long lists are shortened to their first names and "and N more".
func stepTargets(op engine.Op) string {
	if op == nil {
		return ""
	}
	switch o := op.(type) {
	case engine.CreateDefaultNet:
		return "site " + o.Site.Name
	case engine.SupplyDefaultNet:
		return "site " + o.Site.Name
	}
	if ds := op.Desktops(); len(ds) > 0 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = d.Name
		}
		return shortList(names)
	}
	as := op.Accounts()
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = shortEmail(a)
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

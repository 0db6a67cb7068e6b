package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/state"
)

// TestSettleRecordsWhatApplyRecords checks that, for every op, Settle records the effect of a call it
// finds done exactly as Apply records the same call's success: the same fields of the same desktops
// and accounts (power, label, binding, name, image, auto-renewal, remark, deletion), with the Want the
// intent's params keep. Both go through Op.record; this checks the intent carries what it needs.
func TestSettleRecordsWhatApplyRecords(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := Target{Name: "a", VmID: "vm-a"}, Target{Name: "b", VmID: "vm-b"}
	alice := AccountRef{Email: "alice@example.com", ID: "acc-1"}
	bill := Billing{Cycle: provider.BillCycleMonthly, Months: 1, AutoRenew: true}
	ops := []Op{
		CreateDefaultNet{Site: Site{ID: "s1", Name: "site"}},
		SupplyDefaultNet{Site: Site{ID: "s1", Name: "site"}},
		CreateSubAccounts{New: []NewAccount{{Email: "alice@example.com", Name: "Alice", Remark: "sent"}, {Email: "bob@example.com", Name: "Bob"}}},
		ChangeSubAccountName{Account: alice, From: "Al", To: "Alice"},
		ChangeSubAccountRemark{Targets: []AccountRef{alice}, Remark: "design"},
		CreateDesktops{Names: []string{"c"}, BaseName: "c", Site: Site{ID: "s1"}},
		DeleteDesktop{Desktop: a},
		RebuildDesktop{Desktop: a, From: Image{ID: "img-0"}, To: Image{ID: "img-1"}},
		RenameDesktop{Desktop: Target{Name: "a2", VmID: "vm-a"}, From: "a"},
		PowerDesktops{Power: provider.PowerOff, Targets: []Target{a, b}},
		PowerDesktops{Power: provider.PowerOn, Targets: []Target{a, b}},
		LabelDesktops{Label: "team", Targets: []Target{a, b}},
		BindAccounts{Account: alice, Targets: []Target{a, b}},
		ChangeAccount{Desktop: a, From: "bob@example.com", Account: alice},
		UnbindAccounts{Targets: []Target{a, b}},
		UpdateOrder{Billing: bill, Targets: []Target{a, b}},
		RenewOrder{Billing: bill, Targets: []Target{a, b}},
	}
	plan := &Plan{
		Want: []state.Desktop{
			{Name: "a", VmID: "vm-a", Power: "off", Label: ptr("team"), Account: ptr("alice@example.com"), ImageID: "img-1"},
			{Name: "b", VmID: "vm-b", Power: "on"},
		},
		WantAccounts: []state.Account{{Email: "alice@example.com", Name: "Alice", Remark: ptr("design")}},
	}
	record := func() *state.Record {
		return &state.Record{
			Desktops: map[string]state.Desktop{
				"vm-a": {VmID: "vm-a", Name: "a", ImageID: "img-0", Power: "on"},
				"vm-b": {VmID: "vm-b", Name: "b", Power: "off"},
			},
			Accounts: map[string]state.Account{"alice@example.com": {Email: "alice@example.com", AccountID: "acc-1", Name: "Al"}},
		}
	}
	for _, failed := range [][]string{nil, {"b", "bob@example.com"}} {
		for _, op := range ops {
			r := newRun(nil, nil, &state.Lock{Fleet: "f"}, plan, ExecOptions{Now: func() time.Time { return now }}.withDefaults())
			ids := map[string]string{"alice@example.com": "acc-1", "bob@example.com": "acc-2"}
			r.acctIDs = ids
			pr := r.prepared(op)
			applied := record()
			r.effects(applied, pr, &callResult{failed: failed})

			step := Step{ID: 1, Op: op}
			params, err := encodeParams(step, pr.want, pr.wantAccounts)
			if err != nil {
				t.Fatalf("%s: encodeParams: %v", op.Kind(), err)
			}
			pj, err := decodeParams(params)
			if err != nil {
				t.Fatalf("%s: decodeParams: %v", op.Kind(), err)
			}
			s := &settler{opt: ExecOptions{Now: func() time.Time { return now }}.withDefaults()}
			settled := record()
			s.recordDone(settled, pj, failed, ids)

			if !reflect.DeepEqual(applied, settled) {
				t.Errorf("%s (failed %v): Apply records\n%+v\nSettle records\n%+v", op.Kind(), failed, applied, settled)
			}
			if reflect.DeepEqual(applied, record()) && len(op.Desktops())+len(op.Accounts()) > 0 && failed == nil {
				if _, create := op.(CreateDesktops); !create { // a creation is recorded when CreateVm answers
					t.Errorf("%s: records nothing", op.Kind())
				}
			}
		}
	}
}

package engine

import (
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

// TestRecommend: a per-minute desktop whose projected hours cost more than the product's month is
// recommended monthly, with the saving; others are not.
func TestRecommend(t *testing.T) {
	products := []provider.Product{{SiteID: "s", ProductID: "a5000", PricePerMonth: 3364}}
	desk := func(name, billing string, hours float64) DesktopCost {
		return DesktopCost{Name: name, Projected: &DesktopPrice{Site: "s", Product: "a5000", Billing: billing,
			PerHour: 11.21, Hours: hours}}
	}
	fc := &FleetCost{Desktops: []DesktopCost{
		desk("farm", CostPerMinute, 730),   // 8,183.30 a month per-minute
		desk("office", CostPerMinute, 228), // 2,555.88: cheaper per-minute
		desk("monthly", CostMonthly, 730),  // already monthly
		desk("off", CostPerMinute, 0),      // off all month
		{Name: "gone"},                     // deleted by the plan
	}}
	got := recommend(fc, products)
	if len(got) != 1 || got[0].Desktop != "farm" || got[0].Monthly != 3364 || got[0].Saving < 4819 || got[0].Saving > 4820 {
		t.Errorf("recommendations %+v, want farm alone (730 h per-minute cost 8,183.30 > 3,364 monthly): office runs too few hours, monthly is monthly, off and gone cost nothing", got)
	}
}

package engine

import (
	"sort"

	"github.com/deskfleet/deskfleet/provider"
)

// Recommendation is a per-minute desktop that would cost less monthly: the hours it is projected to
// run this month (its schedule's, or all month when always on) cost more at the per-minute rate
// than the product's monthly price (QueryProducts' monthPrice, read with the catalog). The API does
// not report the hours a desktop ran last month, so the projection stands for them.
type Recommendation struct {
	Desktop   string  `json:"desktop"`
	Hours     float64 `json:"hours"`
	PerMinute float64 `json:"per_minute_month"`
	Monthly   float64 `json:"monthly_price"`
	Saving    float64 `json:"saving"`
}

// recommend lists the desktops whose projected per-minute compute costs more than a month of the
// same product, the largest saving first.
func recommend(fc *FleetCost, products []provider.Product) []Recommendation {
	monthly := map[[2]string]float64{}
	for _, p := range products {
		monthly[[2]string{p.SiteID, p.ProductID}] = p.PricePerMonth
	}
	out := []Recommendation{}
	for _, d := range fc.Desktops {
		p := d.Projected
		if p == nil || p.Billing != CostPerMinute || p.Hours <= 0 {
			continue
		}
		price := monthly[[2]string{p.Site, p.Product}]
		if compute := p.PerHour * p.Hours; price > 0 && compute > price {
			out = append(out, Recommendation{Desktop: d.Name, Hours: p.Hours, PerMinute: compute, Monthly: price,
				Saving: compute - price})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Saving > out[j].Saving })
	return out
}

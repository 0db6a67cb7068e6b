package engine

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/gcw"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
)

// readEnv is an emulator behind a loopback HTTP server and a real gcw client pointed at it, as
// provider/contract runs them. Every test using it ends by checking that nothing was mutated.
type readEnv struct {
	sim    *sim.Sim
	client *gcw.Client
}

// newReadEnv starts an emulator with DefaultCatalog (adjusted by simOpt) and a signed client without a
// rate limit or concurrency bound of its own, whose retries do not sleep.
func newReadEnv(t testing.TB, simOpt func(*sim.Options)) *readEnv {
	t.Helper()
	const ak, secret = "engineAK", "engine-secret"
	opt := sim.Options{Keys: map[string]string{ak: secret}, Seed: 1}
	if simOpt != nil {
		simOpt(&opt)
	}
	s, err := sim.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := gcw.New(gcw.Config{
		Endpoint: srv.URL + "/gcw", AccessKeyID: ak, Secret: secret,
		Rate: -1, MaxConcurrent: -1, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := s.MutatingCalls(); n != 0 {
			t.Errorf("reads only: want no mutating call, got %d (%v)", n, s.Calls())
		}
	})
	return &readEnv{sim: s, client: c}
}

// parseFleet parses a spec that must be valid offline.
func parseFleet(t testing.TB, src string) *spec.Fleet {
	t.Helper()
	fl, ds := spec.Parse("f.yaml", []byte(src))
	if ds.HasErrors() {
		t.Fatalf("spec is invalid offline: %v", ds)
	}
	return fl
}

const catalogSpec = `version: 1
fleet: t
desktops:
  - {name: a, site: 宿迁A, product: {gpu: NVIDIA T4}, image: x}
  - {name: b, site: ` + sim.SiteSuqianA + `, product: {gpu: NVIDIA T4}, image: x}
  - {name: c, site: 襄阳A, product: {gpu: NVIDIA T4}, image: x}
  - {name: d, site: 宿迁C, product: {gpu: NVIDIA T4}, image: x}
`

func TestReadCatalogCalls(t *testing.T) {
	tests := []struct {
		reason  string
		spec    string
		nilSpec bool
		want    map[provider.Action]int
	}{
		{
			reason: "a fleet with desktops: each catalog listing is read once, whatever the number of sites",
			spec:   catalogSpec,
			want:   map[provider.Action]int{provider.ActionQuerySites: 1, provider.ActionQueryProducts: 1, provider.ActionQueryImages: 1},
		},
		{
			reason: "a fleet without desktops names no image: QueryImages is not read",
			spec:   "version: 1\nfleet: t\naccounts: [{email: a@example.com, name: a}]\n",
			want:   map[provider.Action]int{provider.ActionQuerySites: 1, provider.ActionQueryProducts: 1},
		},
		{
			reason:  "no fleet: everything is read",
			nilSpec: true,
			want:    map[provider.Action]int{provider.ActionQuerySites: 1, provider.ActionQueryProducts: 1, provider.ActionQueryImages: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newReadEnv(t, nil)
			var fl *spec.Fleet
			if !tt.nilSpec {
				fl = parseFleet(t, tt.spec)
			}
			cat, err := ReadCatalog(t.Context(), e.client, fl)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.sim.Calls(); !mapsEqual(got, tt.want) {
				t.Errorf("%s: calls %v, want %v", tt.reason, got, tt.want)
			}
			if len(cat.Sites) != 3 || len(cat.Products) != 7 {
				t.Errorf("want 3 sites and 7 products, got %d and %d", len(cat.Sites), len(cat.Products))
			}
		})
	}
}

func mapsEqual(a, b map[provider.Action]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReadCatalogError(t *testing.T) {
	e := newReadEnv(t, nil)
	e.sim.FailNext(provider.ActionQueryProducts, sim.Fault5xx, 10) // more than the client's retries
	_, err := ReadCatalog(t.Context(), e.client, parseFleet(t, catalogSpec))
	if err == nil || !strings.Contains(err.Error(), "reading QueryProducts") {
		t.Fatalf("a failed read must be returned naming the action, got %v", err)
	}
	if _, ok := provider.AsAPIError(err); !ok {
		t.Errorf("the API error must stay in the chain, got %T", err)
	}
}

func TestCatalogLookups(t *testing.T) {
	e := newReadEnv(t, nil)
	fl := parseFleet(t, catalogSpec)
	cat, err := ReadCatalog(t.Context(), e.client, fl)
	if err != nil {
		t.Fatal(err)
	}
	sites := []struct {
		reason, in, want string
	}{
		{"a site by name", "宿迁B", sim.SiteSuqianB},
		{"a site by id", sim.SiteXiangyang, sim.SiteXiangyang},
		{"a name differing only in case", "宿迁a", sim.SiteSuqianA},
		{"an unknown name", "宿迁C", ""},
		{"a truncated name is not a match", "宿迁", ""},
	}
	for _, tt := range sites {
		s, ok := cat.SiteByNameOrID(tt.in)
		if ok != (tt.want != "") || s.SiteID != tt.want {
			t.Errorf("%s: SiteByNameOrID(%q) = %q, %v; want %q", tt.reason, tt.in, s.SiteID, ok, tt.want)
		}
	}
	if got, want := cat.SiteIDs(fl), []string{sim.SiteXiangyang, sim.SiteSuqianA}; !slices.Equal(got, want) {
		t.Errorf("SiteIDs: the sites in play, by name or id, sorted, once each, the unknown one skipped: got %v, want %v", got, want)
	}
	if got := cat.SiteNames(); !slices.Equal(got, []string{"宿迁A", "宿迁B", "襄阳A"}) {
		t.Errorf("SiteNames: got %v", got)
	}

	products := []struct {
		reason string
		site   string
		want   []string
	}{
		{"宿迁A offers all three products", sim.SiteSuqianA, []string{sim.ProductA5000Win, sim.ProductA5000Linux, sim.ProductT4Win}},
		{"宿迁B has no linux product", sim.SiteSuqianB, []string{sim.ProductA5000Win, sim.ProductT4Win}},
		{"an unknown site offers nothing", "nowhere", nil},
	}
	for _, tt := range products {
		var got []string
		for _, p := range cat.ProductsAt(tt.site) {
			if p.SiteID != tt.site {
				t.Errorf("%s: product %s of site %s listed at %s", tt.reason, p.ProductID, p.SiteID, tt.site)
			}
			got = append(got, p.ProductID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ProductsAt = %v, want %v", tt.reason, got, tt.want)
		}
	}
	if got, want := cat.ProductSites(sim.ProductA5000Linux), []string{sim.SiteSuqianA, sim.SiteXiangyang}; !slices.Equal(got, want) {
		t.Errorf("ProductSites: got %v, want %v", got, want)
	}

	images := []struct {
		reason string
		site   string
		want   []string
	}{
		{"宿迁A: all three images are Available", sim.SiteSuqianA, []string{sim.ImageWin10, sim.ImageCustom, sim.ImageUbuntu}},
		{"宿迁B: the private image is still Synchronizing, so not usable", sim.SiteSuqianB, []string{sim.ImageWin10}},
		{"襄阳A: an image in status Using is usable; the private one is absent", sim.SiteXiangyang, []string{sim.ImageWin10, sim.ImageUbuntu}},
	}
	for _, tt := range images {
		var got []string
		for _, im := range cat.ImagesAt(tt.site) {
			got = append(got, im.ImageID)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: ImagesAt = %v, want %v", tt.reason, got, want)
		}
	}
	named := []struct {
		reason, in string
		want       []string
	}{
		{"by id", sim.ImageUbuntu, []string{sim.ImageUbuntu}},
		{"by name", "定制模板", []string{sim.ImageCustom}},
		{"by a name differing only in case", "windows10-公共镜像-图像处理型", []string{sim.ImageWin10}},
		{"unknown", "Windows11", nil},
	}
	for _, tt := range named {
		var got []string
		for _, im := range cat.ImagesNamed(tt.in) {
			got = append(got, im.ImageID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ImagesNamed(%q) = %v, want %v", tt.reason, tt.in, got, tt.want)
		}
	}
	fits := []struct {
		reason         string
		image, product string
		want           bool
	}{
		{"a windows image fits a windows product", sim.ImageWin10, sim.ProductA5000Win, true},
		{"a linux image does not fit a windows product", sim.ImageUbuntu, sim.ProductA5000Win, false},
		{"a product QueryImages did not describe: the catalog cannot tell", sim.ImageUbuntu, "unknown-product", true},
	}
	for _, tt := range fits {
		if got := cat.ImageFits(tt.image, tt.product); got != tt.want {
			t.Errorf("%s: ImageFits = %v, want %v", tt.reason, got, tt.want)
		}
	}
}

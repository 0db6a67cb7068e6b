package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskfleet/deskfleet/provider"
	"github.com/deskfleet/deskfleet/provider/sim"
	"github.com/deskfleet/deskfleet/spec"
)

const win10 = "Windows10-公共镜像-图像处理型"

// Default-catalog network ids (sim.DefaultCatalog) that sim does not name.
const (
	subnetA    = "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d" // 子网1 of 宿迁A's default VPC
	gwTelecomA = "8054ab84-cdcb-11ec-a318-ee97882ecf7d" // 电信, conf 10289
	gwMobileA  = "80587138-cdcb-11ec-a318-ee97882ecf7d" // 移动, conf 10298
	subnetB    = "b36b43a8-e706-11ec-8171-32f9a7e748fc" // 子网1 of 宿迁B's default VPC
	subnetRndr = "2c93fcac-d749-11ec-9fb4-ca91557d24a6" // 渲染子网 of 宿迁A's custom VPC
	gwRndr     = "c0505a90-e706-11ec-8171-32f9a7e748fc" // 移动 of 宿迁A's custom VPC
)

// resolveOnSim reads the catalog and the networks and accounts from the emulator, then resolves.
func resolveOnSim(t *testing.T, e *readEnv, src string) (*Desired, spec.Diagnostics) {
	t.Helper()
	fl := parseFleet(t, src)
	cat, err := ReadCatalog(t.Context(), e.client, fl)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Observe(t.Context(), e.client, ObserveOptions{SiteIDs: cat.SiteIDs(fl), SkipDesktops: true})
	if err != nil {
		t.Fatal(err)
	}
	return Resolve(fl, cat, snap)
}

func diagStrings(ds spec.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

// oneDesktop is a spec of one desktop "a" at site with the A5000 windows product and image, plus the
// extra lines of the group (indented by four spaces).
func oneDesktop(site, product, image, extra string) string {
	return fmt.Sprintf(`version: 1
fleet: t
desktops:
  - name: a
    site: %s
    product: %s
    image: %s
%s`, site, product, image, extra)
}

const a5000win = "{gpu: NVIDIA A5000, os: windows}"

func TestResolveDesktop(t *testing.T) {
	e := newReadEnv(t, nil)
	src := `version: 1
fleet: studio
defaults: {site: 宿迁A, billing: monthly, profile: win, bandwidth: 10}
billing:
  monthly: {cycle: month, autoRenew: true, toMonthEnd: true, fullMonthPrice: true, renewWithin: 7d}
  minute: {cycle: minute}
profiles:
  win: {product: {gpu: nvidia a5000, os: WINDOWS}, image: windows10-公共镜像-图像处理型}
accounts:
  - {email: alice@example.com, name: alice, remark: 设计部}
  - {email: bob@example.com, name: bob}
desktops:
  - {name: design, count: 2, label: "", power: on, protect: true}
  - name: edit
    site: ` + sim.SiteXiangyang + `
    product: ` + sim.ProductA5000Linux + `
    image: ` + sim.ImageUbuntu + `
    billing: minute
    power: off
    label: cut
    renamedFrom: edit-old
bindings:
  design: alice@example.com
  design_001: alice@example.com
`
	d, ds := resolveOnSim(t, e, src)
	if len(ds) != 0 {
		t.Fatalf("want no diagnostics, got %v", diagStrings(ds))
	}
	on, off := provider.PowerOn, provider.PowerOff
	empty, cut := "", "cut"
	wantDesign := DesiredDesktop{
		Name: "design_001", Group: "design",
		Site:    Site{ID: sim.SiteSuqianA, Name: "宿迁A"},
		Product: productAt(t, e, sim.ProductA5000Win, sim.SiteSuqianA),
		Image:   Image{ID: sim.ImageWin10, Name: win10},
		Network: NetworkChoice{Default: true, VpcID: sim.VPCDefaultSuqianA, VpcName: "宿迁-云桌面默认VPC",
			SubnetID: subnetA, SubnetName: "子网1", GatewayNetID: gwTelecomA, GatewayConfID: "10289", GatewayName: "电信"},
		Bandwidth: 10,
		Billing: Billing{Plan: "monthly", Cycle: provider.BillCycleMonthly, Months: 1, ToMonthEnd: true,
			FullMonthPrice: true, AutoRenew: true, RenewWithin: 7 * 24 * time.Hour},
		Label: &empty, Power: &on, Protect: true,
		Pos: spec.Pos{File: "f.yaml", Line: 13, Col: 5},
	}
	wantEdit := DesiredDesktop{
		Name: "edit", Group: "edit",
		Site:      Site{ID: sim.SiteXiangyang, Name: "襄阳A"},
		Product:   productAt(t, e, sim.ProductA5000Linux, sim.SiteXiangyang),
		Image:     Image{ID: sim.ImageUbuntu, Name: "Ubuntu20.04-公共镜像-图像处理型"},
		Network:   NetworkChoice{Default: true, Fix: NetCreate},
		Bandwidth: 10,
		Billing:   Billing{Plan: "minute", Cycle: provider.BillCyclePerMinute},
		Label:     &cut, Power: &off, RenamedFrom: "edit-old",
		Pos: spec.Pos{File: "f.yaml", Line: 14, Col: 5},
	}
	checks := []struct {
		reason    string
		got, want any
	}{
		{"the fleet's name; the digest is the caller's", d.Fleet + "|" + d.SpecDigest, "studio|"},
		{"every desktop, in spec order", names(d), []string{"design", "design_001", "edit"}},
		{"a desktop from defaults and a profile: selector and image name matched case-insensitively, " +
			"the default net's only subnet and first gateway, the monthly plan with months defaulted to 1",
			d.Desktops[1], wantDesign},
		{"a desktop by ids at a site with no default net: NetCreate; per-minute plan; label, power, renamedFrom",
			d.Desktops[2], wantEdit},
		{"accounts in spec order, an omitted remark unmanaged", d.Accounts, []DesiredAccount{
			{Email: "alice@example.com", Name: "alice", Remark: new("设计部"), Pos: spec.Pos{File: "f.yaml", Line: 10, Col: 5}},
			{Email: "bob@example.com", Name: "bob", Pos: spec.Pos{File: "f.yaml", Line: 11, Col: 5}},
		}},
		{"bindings are authoritative when the key is there", d.BindingsSet, true},
		{"bindings", d.Bindings, map[string]string{"design": "alice@example.com", "design_001": "alice@example.com"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c.reason, c.got, c.want)
		}
	}
}

func names(d *Desired) []string {
	var out []string
	for _, x := range d.Desktops {
		out = append(out, x.Name)
	}
	return out
}

// productAt returns the product as the client reads it (the expected value of Desired's Product).
func productAt(t *testing.T, e *readEnv, id, site string) provider.Product {
	t.Helper()
	ps, err := e.client.QueryProducts(t.Context(), provider.QueryProductsRequest{SiteID: site})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ProductID == id {
			return p
		}
	}
	t.Fatalf("no product %s at %s", id, site)
	return provider.Product{}
}

func TestResolveNetwork(t *testing.T) {
	// moreSubnets gives 宿迁A's default VPC a second subnet with more free addresses than 子网1.
	moreSubnets := func(s *sim.Sim) error {
		v := sim.DefaultCatalog().VPCs[0]
		v.Subnets[0].Used = 500
		v.Subnets = append(v.Subnets, sim.Net{ID: "subnet-2", Name: "子网2", IPAddress: "10.4.0.0", Gateway: "10.4.0.1", Mask: 16, Used: 3})
		return s.AddVPC(v)
	}
	// bareDefault gives 襄阳A a default VPC without subnet or gateway.
	bareDefault := func(s *sim.Sim) error {
		return s.AddVPC(sim.VPC{ID: "vpc-bare", SiteID: sim.SiteXiangyang, Default: true, Name: "襄阳-云桌面默认VPC", Segment: "10.0.0.0/8"})
	}
	defA := NetworkChoice{Default: true, VpcID: sim.VPCDefaultSuqianA, VpcName: "宿迁-云桌面默认VPC",
		SubnetID: subnetA, SubnetName: "子网1", GatewayNetID: gwTelecomA, GatewayConfID: "10289", GatewayName: "电信"}
	with := func(n NetworkChoice, f func(*NetworkChoice)) NetworkChoice { f(&n); return n }
	mobile := func(n *NetworkChoice) { n.GatewayNetID, n.GatewayConfID, n.GatewayName = gwMobileA, "10298", "移动" }
	tests := []struct {
		reason  string
		setup   func(*sim.Sim) error
		site    string
		network string
		want    NetworkChoice
	}{
		{
			reason: "network omitted: the default net, its subnet, its first gateway",
			site:   "宿迁A", want: defA,
		},
		{
			reason: "vpc: DEFAULT in any case is the default net", site: "宿迁A", network: "{vpc: DEFAULT}", want: defA,
		},
		{
			reason: "subnet omitted: the one with the most free addresses", setup: moreSubnets, site: "宿迁A",
			want: with(defA, func(n *NetworkChoice) { n.SubnetID, n.SubnetName = "subnet-2", "子网2" }),
		},
		{
			reason: "a subnet named wins over the most free", setup: moreSubnets, site: "宿迁A", network: "{subnet: 子网1}",
			want: with(defA, func(n *NetworkChoice) { n.WantSubnet = "子网1" }),
		},
		{
			reason: "a subnet by id", setup: moreSubnets, site: "宿迁A", network: "{subnet: " + subnetA + "}",
			want: with(defA, func(n *NetworkChoice) { n.WantSubnet = subnetA }),
		},
		{
			reason: "a gateway by conf_name", site: "宿迁A", network: "{gateway: 移动}",
			want: with(defA, func(n *NetworkChoice) { mobile(n); n.WantGateway = "移动" }),
		},
		{
			reason: "a gateway by conf_id", site: "宿迁A", network: "{gateway: \"10298\"}",
			want: with(defA, func(n *NetworkChoice) { mobile(n); n.WantGateway = "10298" }),
		},
		{
			reason: "a gateway by its net id", site: "宿迁A", network: "{gateway: " + gwMobileA + "}",
			want: with(defA, func(n *NetworkChoice) { mobile(n); n.WantGateway = gwMobileA }),
		},
		{
			reason: "a default net without gateway and none named: no gateway, ready",
			site:   "宿迁B",
			want: NetworkChoice{Default: true, VpcID: sim.VPCDefaultSuqianB, VpcName: "宿迁B-云桌面默认VPC",
				SubnetID: subnetB, SubnetName: "子网1"},
		},
		{
			reason: "a gateway named where the default net has none: SupplyDefaultNet adds it",
			site:   "宿迁B", network: "{gateway: 移动}",
			want: NetworkChoice{Default: true, Fix: NetSupply, VpcID: sim.VPCDefaultSuqianB, VpcName: "宿迁B-云桌面默认VPC",
				SubnetID: subnetB, SubnetName: "子网1", WantGateway: "移动"},
		},
		{
			reason: "no default net: CreateDefaultNet, keeping the names wanted for after",
			site:   "襄阳A", network: "{subnet: 子网1, gateway: 移动}",
			want: NetworkChoice{Default: true, Fix: NetCreate, WantSubnet: "子网1", WantGateway: "移动"},
		},
		{
			reason: "a default net without subnet: SupplyDefaultNet",
			setup:  bareDefault, site: "襄阳A",
			want: NetworkChoice{Default: true, Fix: NetSupply, VpcID: "vpc-bare", VpcName: "襄阳-云桌面默认VPC"},
		},
		{
			reason: "a custom VPC by name: its subnet and first gateway",
			site:   "宿迁A", network: "{vpc: 宿迁-渲染VPC}",
			want: NetworkChoice{VpcID: sim.VPCCustomSuqianA, VpcName: "宿迁-渲染VPC", SubnetID: subnetRndr, SubnetName: "渲染子网",
				GatewayNetID: gwRndr, GatewayConfID: "10298", GatewayName: "移动"},
		},
		{
			reason: "a custom VPC by id, subnet and gateway named",
			site:   "宿迁A", network: "{vpc: " + sim.VPCCustomSuqianA + ", subnet: 渲染子网, gateway: 移动}",
			want: NetworkChoice{VpcID: sim.VPCCustomSuqianA, VpcName: "宿迁-渲染VPC", SubnetID: subnetRndr, SubnetName: "渲染子网",
				GatewayNetID: gwRndr, GatewayConfID: "10298", GatewayName: "移动", WantSubnet: "渲染子网", WantGateway: "移动"},
		},
		{
			reason: "a custom VPC by a name differing only in case",
			site:   "宿迁A", network: "{vpc: 宿迁-渲染vpc}",
			want: NetworkChoice{VpcID: sim.VPCCustomSuqianA, VpcName: "宿迁-渲染VPC", SubnetID: subnetRndr, SubnetName: "渲染子网",
				GatewayNetID: gwRndr, GatewayConfID: "10298", GatewayName: "移动"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newReadEnv(t, nil)
			if tt.setup != nil {
				if err := tt.setup(e.sim); err != nil {
					t.Fatal(err)
				}
			}
			extra := ""
			if tt.network != "" {
				extra = "    network: " + tt.network + "\n"
			}
			d, ds := resolveOnSim(t, e, oneDesktop(tt.site, a5000win, win10, extra))
			if len(ds) != 0 {
				t.Fatalf("want no diagnostics, got %v", diagStrings(ds))
			}
			if len(d.Desktops) != 1 {
				t.Fatalf("want 1 desktop, got %d", len(d.Desktops))
			}
			if got := d.Desktops[0].Network; got != tt.want {
				t.Errorf("%s:\ngot  %+v\nwant %+v", tt.reason, got, tt.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	addVPC := func(v sim.VPC) func(*sim.Sim) error { return func(s *sim.Sim) error { return s.AddVPC(v) } }
	productsA := "products at 宿迁A: " +
		sim.ProductA5000Win + " (NVIDIA A5000 24GB, 14 cpu, 25GB memory, 150GB disk, windows), " +
		sim.ProductA5000Linux + " (NVIDIA A5000 24GB, 14 cpu, 25GB memory, 150GB disk, linux), " +
		sim.ProductT4Win + " (NVIDIA T4 16GB, 8 cpu, 16GB memory, 100GB disk, windows)"
	productsB := "products at 宿迁B: " +
		sim.ProductA5000Win + " (NVIDIA A5000 24GB, 14 cpu, 25GB memory, 150GB disk, windows), " +
		sim.ProductT4Win + " (NVIDIA T4 16GB, 8 cpu, 16GB memory, 100GB disk, windows)"
	tests := []struct {
		reason string
		setup  func(*sim.Sim) error
		src    string
		want   []string
		// wantDesktops are the desktops that did resolve.
		wantDesktops []string
	}{
		{
			reason: "an unknown site lists the sites; no close match when two are equally close",
			src:    oneDesktop("宿迁C", a5000win, win10, ""),
			want:   []string{"f.yaml:5:11: no site 宿迁C · hint: sites: 宿迁A, 宿迁B, 襄阳A"},
		},
		{
			reason: "a truncated site name suggests the one it begins",
			src:    oneDesktop("襄阳", a5000win, win10, ""),
			want:   []string{"f.yaml:5:11: no site 襄阳; did you mean 襄阳A? · hint: sites: 宿迁A, 宿迁B, 襄阳A"},
		},
		{
			reason: "a problem shared by 1000 desktops of one group and another group (through defaults) is reported once; " +
				"the desktops of the group that resolves are kept",
			src: `version: 1
fleet: t
defaults: {site: 宿迁C, profile: win}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: ` + win10 + `}
desktops:
  - {name: a, count: 1000}
  - {name: b}
  - {name: c, site: 宿迁B, count: 3}
`,
			want:         []string{"f.yaml:3:18: no site 宿迁C · hint: sites: 宿迁A, 宿迁B, 襄阳A"},
			wantDesktops: []string{"c", "c_001", "c_002"},
		},
		{
			reason: "a selector matching no product lists the site's products",
			src:    oneDesktop("宿迁B", "{gpu: NVIDIA A6000}", win10, ""),
			want:   []string{"f.yaml:6:14: no product at 宿迁B matches gpu=NVIDIA A6000 · hint: " + productsB},
		},
		{
			reason: "a selector matching several products lists them with what tells them apart",
			src:    oneDesktop("宿迁A", "{gpu: nvidia a5000}", win10, ""),
			want: []string{"f.yaml:6:14: product gpu=nvidia a5000 matches 2 products at 宿迁A · hint: " +
				"add gpuRam, cpu, memory, disk or os to tell them apart, or give a productId: " +
				sim.ProductA5000Win + " (NVIDIA A5000 24GB, 14 cpu, 25GB memory, 150GB disk, windows), " +
				sim.ProductA5000Linux + " (NVIDIA A5000 24GB, 14 cpu, 25GB memory, 150GB disk, linux)"},
		},
		{
			reason: "every selector field must match: cpu, memory, disk and gpuRam too",
			src:    oneDesktop("宿迁A", "{gpu: NVIDIA T4, gpuRam: 16, cpu: 8, memory: 16, disk: 200}", win10, ""),
			want:   []string{"f.yaml:6:14: no product at 宿迁A matches gpu=NVIDIA T4 gpuRam=16 cpu=8 memory=16 disk=200 · hint: " + productsA},
		},
		{
			reason: "a product id offered at other sites says where",
			src:    oneDesktop("宿迁B", sim.ProductA5000Linux, win10, ""),
			want: []string{"f.yaml:6:14: product " + sim.ProductA5000Linux + " is not offered at 宿迁B · hint: it is offered at 宿迁A, 襄阳A; " +
				productsB},
		},
		{
			reason: "an unknown product id lists the site's products",
			src:    oneDesktop("宿迁A", "p-0000", win10, ""),
			want:   []string{"f.yaml:6:14: no product p-0000 at 宿迁A · hint: " + productsA},
		},
		{
			reason: "an unknown image suggests a close name and lists the images usable at the site for the product",
			src:    oneDesktop("宿迁A", a5000win, "Windows10-公共镜像", ""),
			want: []string{"f.yaml:7:12: no image Windows10-公共镜像; did you mean " + win10 + "? · hint: images usable at 宿迁A: " +
				win10 + ", 定制模板"},
		},
		{
			reason: "an image present but not usable at the site gives its status there and where it is usable",
			src:    oneDesktop("宿迁B", a5000win, "定制模板", ""),
			want:   []string{"f.yaml:7:12: image 定制模板 is not usable at 宿迁B (Synchronizing) · hint: it is usable at 宿迁A"},
		},
		{
			reason: "an image absent from the site",
			src:    oneDesktop("襄阳A", a5000win, "定制模板", ""),
			want:   []string{"f.yaml:7:12: image 定制模板 is not usable at 襄阳A (not there) · hint: it is usable at 宿迁A"},
		},
		{
			reason: "an image usable at the site but not listed for the product (a linux image, a windows product)",
			src:    oneDesktop("宿迁A", a5000win, "Ubuntu20.04-公共镜像-图像处理型", ""),
			want: []string{"f.yaml:7:12: image Ubuntu20.04-公共镜像-图像处理型 (linux) is not offered for product " + sim.ProductA5000Win +
				" (windows) · hint: images usable at 宿迁A: " + win10 + ", 定制模板"},
		},
		{
			reason: "an image name shared by two usable images asks for the id",
			setup: func(s *sim.Sim) error {
				return s.AddImage(sim.Image{ID: "img-dup", Name: "定制模板", Type: "Private", OSType: "windows",
					Sites: []sim.ImageSite{{ImageSiteID: "is-dup", SiteID: sim.SiteSuqianA, Status: sim.ImageAvailable}}})
			},
			src: oneDesktop("宿迁A", a5000win, "定制模板", ""),
			want: []string{"f.yaml:7:12: image name 定制模板 matches 2 images usable at 宿迁A · hint: give its id: " +
				sim.ImageCustom + " (private), img-dup (private)"},
		},
		{
			reason: "two problems of one desktop are both reported, in file order",
			src:    oneDesktop("宿迁B", "{gpu: NVIDIA A6000}", "定制模板", ""),
			want: []string{
				"f.yaml:6:14: no product at 宿迁B matches gpu=NVIDIA A6000 · hint: " + productsB,
				"f.yaml:7:12: image 定制模板 is not usable at 宿迁B (Synchronizing) · hint: it is usable at 宿迁A",
			},
		},
		{
			reason: "an unknown custom VPC lists the site's VPCs",
			src:    oneDesktop("宿迁A", a5000win, win10, "    network: {vpc: office}\n"),
			want:   []string{"f.yaml:8:14: no VPC office at 宿迁A · hint: VPCs at 宿迁A: default, 宿迁-渲染VPC"},
		},
		{
			reason: "a VPC name shared by two custom VPCs asks for the id",
			setup: func(s *sim.Sim) error {
				for _, id := range []string{"vpc-x1", "vpc-x2"} {
					err := s.AddVPC(sim.VPC{ID: id, SiteID: sim.SiteSuqianA, Name: "office", Subnets: []sim.Net{{ID: id + "-s", Name: "s", Mask: 24}}})
					if err != nil {
						return err
					}
				}
				return nil
			},
			src:  oneDesktop("宿迁A", a5000win, win10, "    network: {vpc: office}\n"),
			want: []string{"f.yaml:8:14: VPC name office matches 2 VPCs at 宿迁A · hint: give its vpcId: vpc-x1, vpc-x2"},
		},
		{
			reason: "an unknown subnet suggests a close one and lists the subnets",
			src:    oneDesktop("宿迁A", a5000win, win10, "    network: {subnet: 子网9}\n"),
			want:   []string{"f.yaml:8:14: no subnet 子网9 in VPC 宿迁-云桌面默认VPC; did you mean 子网1? · hint: subnets: 子网1"},
		},
		{
			reason: "an unknown gateway of a net that has gateways lists them",
			src:    oneDesktop("宿迁A", a5000win, win10, "    network: {gateway: 联通}\n"),
			want:   []string{"f.yaml:8:14: no gateway 联通 in VPC 宿迁-云桌面默认VPC · hint: gateways: 电信 (conf 10289), 移动 (conf 10298)"},
		},
		{
			reason: "a gateway named in a custom VPC without any",
			setup:  addVPC(sim.VPC{ID: "vpc-b", SiteID: sim.SiteSuqianB, Name: "B-office", Subnets: []sim.Net{{ID: "sn-b", Name: "s", Mask: 24}}}),
			src:    oneDesktop("宿迁B", a5000win, win10, "    network: {vpc: B-office, gateway: 移动}\n"),
			want: []string{"f.yaml:8:14: no gateway 移动: VPC B-office has no virtual gateway · hint: " +
				"remove gateway: desktops on it go out without a virtual gateway"},
		},
		{
			reason: "a custom VPC without a subnet",
			setup:  addVPC(sim.VPC{ID: "vpc-e", SiteID: sim.SiteSuqianA, Name: "empty"}),
			src:    oneDesktop("宿迁A", a5000win, win10, "    network: {vpc: empty}\n"),
			want:   []string{"f.yaml:8:14: VPC empty at 宿迁A has no subnet · hint: add a subnet to it in the console, or use vpc: default"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			e := newReadEnv(t, nil)
			if tt.setup != nil {
				if err := tt.setup(e.sim); err != nil {
					t.Fatal(err)
				}
			}
			d, ds := resolveOnSim(t, e, tt.src)
			if got := diagStrings(ds); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", tt.reason, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for _, dg := range ds {
				if dg.Severity != spec.Error {
					t.Errorf("want errors only, got %v", dg)
				}
			}
			if got := names(d); !reflect.DeepEqual(got, tt.wantDesktops) {
				t.Errorf("desktops that failed must be left out: got %v, want %v", got, tt.wantDesktops)
			}
		})
	}
}

func TestResolveBindings(t *testing.T) {
	e := newReadEnv(t, nil)
	fl := parseFleet(t, `version: 1
fleet: t
accounts: [{email: alice@example.com, name: alice}]
desktops:
  - {name: a, count: 3, site: 宿迁A, product: {gpu: NVIDIA T4}, image: `+win10+`}
bindings:
  a: Alice@Example.com
`)
	// Bindings the offline checks refuse, as a hand-built fleet may have them.
	fl.Bindings.ByDesktop["a_001"] = "17716313367@163.com" // a live sub-account the spec does not declare
	fl.Bindings.ByDesktop["a_002"] = "ghost@example.com"
	fl.Bindings.At["a_002"] = spec.Pos{File: "f.yaml", Line: 9, Col: 3}
	cat, err := ReadCatalog(t.Context(), e.client, fl)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Observe(t.Context(), e.client, ObserveOptions{SiteIDs: cat.SiteIDs(fl), SkipDesktops: true})
	if err != nil {
		t.Fatal(err)
	}
	d, ds := Resolve(fl, cat, snap)
	want := []string{"f.yaml:9:3: desktop a_002 is bound to ghost@example.com, which is neither an account of the spec nor a live sub-account" +
		" · hint: declare it under accounts, or create the sub-account first"}
	if got := diagStrings(ds); !reflect.DeepEqual(got, want) {
		t.Errorf("an email of the spec (in any case) or of a live account is fine; another is an error:\ngot  %v\nwant %v", got, want)
	}
	if !d.BindingsSet || len(d.Bindings) != 3 || d.Bindings["a"] != "Alice@Example.com" {
		t.Errorf("bindings are passed on as written: %v", d.Bindings)
	}

	unmanaged := parseFleet(t, "version: 1\nfleet: t\ndesktops: [{name: a, site: 宿迁A, product: {gpu: NVIDIA T4}, image: "+win10+"}]\n")
	d, ds = Resolve(unmanaged, cat, snap)
	if len(ds) != 0 || d.BindingsSet || d.Bindings != nil {
		t.Errorf("no bindings key: bindings unmanaged (BindingsSet false, no map), got %v %v %v", ds, d.BindingsSet, d.Bindings)
	}
}

func TestResolveUnobservedNetworks(t *testing.T) {
	e := newReadEnv(t, nil)
	fl := parseFleet(t, oneDesktop("宿迁A", a5000win, win10, ""))
	cat, err := ReadCatalog(t.Context(), e.client, fl)
	if err != nil {
		t.Fatal(err)
	}
	_, ds := Resolve(fl, cat, &provider.Snapshot{})
	want := []string{"f.yaml:4:5: the networks of site 宿迁A were not read · hint: observe the site's networks before resolving (ObserveOptions.SiteIDs)"}
	if got := diagStrings(ds); !reflect.DeepEqual(got, want) {
		t.Errorf("a snapshot without the site's networks must not be taken for a site without networks:\ngot  %v\nwant %v", got, want)
	}
}

func TestPowerAction(t *testing.T) {
	tests := []struct {
		reason string
		in     spec.Power
		want   provider.PowerAction
		ok     bool
	}{
		{"on powers on", spec.PowerOn, provider.PowerOn, true},
		{"off powers off", spec.PowerOff, provider.PowerOff, true},
		{"reboot is not a state a spec can want", "reboot", "", false},
		{"nor anything else", "maybe", "", false},
	}
	for _, tt := range tests {
		got, ok := powerAction(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: powerAction(%q) = %q, %v; want %q, %v", tt.reason, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBillingOf(t *testing.T) {
	three := 3
	tests := []struct {
		reason string
		in     spec.BillingPlan
		want   Billing
		ok     bool
	}{
		{"the built-in plan is per-minute", spec.BillingPlan{}, Billing{Cycle: provider.BillCyclePerMinute}, true},
		{"a per-minute plan drops the month-only fields", spec.BillingPlan{Name: "m", Cycle: spec.CycleMinute, Months: &three, AutoRenew: true},
			Billing{Plan: "m", Cycle: provider.BillCyclePerMinute}, true},
		{"a monthly plan: months default to 1", spec.BillingPlan{Name: "mo", Cycle: spec.CycleMonth},
			Billing{Plan: "mo", Cycle: provider.BillCycleMonthly, Months: 1}, true},
		{"a monthly plan keeps every term", spec.BillingPlan{Name: "mo", Cycle: spec.CycleMonth, Months: &three, ToMonthEnd: true,
			FullMonthPrice: true, AutoRenew: true, RenewWithinDuration: 48 * time.Hour},
			Billing{Plan: "mo", Cycle: provider.BillCycleMonthly, Months: 3, ToMonthEnd: true, FullMonthPrice: true,
				AutoRenew: true, RenewWithin: 48 * time.Hour}, true},
		{"an unknown cycle", spec.BillingPlan{Name: "y", Cycle: "year"}, Billing{}, false},
	}
	for _, tt := range tests {
		got, ok := billingOf(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: billingOf = %+v, %v; want %+v, %v", tt.reason, got, ok, tt.want, tt.ok)
		}
	}
}

func TestListHint(t *testing.T) {
	var items []string
	for i := range 12 {
		items = append(items, fmt.Sprint(i))
	}
	if got, want := listHint("n", items), "n: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"; got != want {
		t.Errorf("a long list is cut at %d: got %q, want %q", maxListed, got, want)
	}
}

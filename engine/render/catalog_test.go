package render

import (
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/provider"
)

func TestCatalog(t *testing.T) {
	site := provider.Site{SiteID: "s1", SiteName: "宿迁A", CityName: "Suqian", RegionName: "East"}
	images := []provider.ProductImages{{
		PublicImages: []provider.Image{{ImageName: "win10", ImageType: "Public", Sites: []provider.ImageSite{
			{SiteID: "s1", Status: "available"}, {SiteID: "s2", Status: "available"}}}},
		PrivateImages: []provider.Image{
			{ImageName: "studio", ImageType: "Private", Sites: []provider.ImageSite{{SiteID: "s1", Status: "creating"}}},
			{ImageName: "elsewhere", ImageType: "Private", Sites: []provider.ImageSite{{SiteID: "s2", Status: "available"}}},
		},
	}}
	products := []provider.Product{
		{SiteID: "s1", ProductID: "p1", GPUModel: "T4", GPURAMGB: 16, CPUCores: 8, MemoryGB: 32, SystemDiskGB: 100,
			OS: "win", PricePerMinute: 0.05, PricePerMonth: 1500},
		{SiteID: "s2", ProductID: "p2", GPUModel: "A10", GPURAMGB: 24},
	}
	for _, tc := range []struct {
		name string
		site CatalogSite
		want string
	}{
		{"no network yet", CatalogSite{Site: site}, `
宿迁A  (Suqian, East · id s1)
  products  gpu      cpu/mem/disk  os   per hour  per month  id
            T4 16GB  8/32GB/100GB  win  ¥3.00     ¥1500.00   p1
  images
    creating      studio (private)
    available     win10 (public)
  networks
    default: none yet (a plan creates it with CreateDefaultNet)
`},
		{"networks", CatalogSite{Site: provider.Site{SiteID: "s3", SiteName: "宿迁A", CityName: "Suqian", RegionName: "East"},
			Default: &provider.Network{VpcName: "default", Subnets: []provider.NetSegment{{Name: "sub-a", NotUsed: 200}}},
			Custom:  []provider.Network{{VpcName: "lab", VGateways: []provider.NetSegment{{ConfName: "100M"}, {ConfName: "1G"}}}}}, `
宿迁A  (Suqian, East · id s3)
  products  gpu  cpu/mem/disk  os  per hour  per month  id
  images
  networks
    default: default · subnets sub-a (200 free) · gateways none
    custom:  lab · subnets none · gateways 100M, 1G
`},
	} {
		var b strings.Builder
		if err := Catalog(&b, tc.site, products, images); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, b.String(), tc.want)
		}
	}
}

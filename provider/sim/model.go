package sim

import (
	"sync"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// Clock is the emulator's source of time. Task deadlines, account readiness, billing expiry and the
// signature timestamp window are all measured on it.
type Clock interface {
	Now() time.Time
}

// WallClock is the real clock (time.Now).
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that moves only when told to (Advance, Set). Safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current reading.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t (backwards too).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Site is an availability zone (QuerySites).
type Site struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PodName    string `json:"podName"`
	RegionID   string `json:"regionId"`
	RegionName string `json:"regionName"`
	CityID     string `json:"cityId"`
	CityName   string `json:"cityName"`
}

// Product is one product (desktop size) offered at one site (QueryProducts lists one row per site).
// Capacity is how many live desktops of this product the site can hold; 0 means unlimited. CreateVm
// beyond it fails with 13000.
type Product struct {
	ID             string  `json:"id"`
	SiteID         string  `json:"siteId"`
	Name           string  `json:"name"`
	GoodsID        int     `json:"goodsId"`
	CPUCores       int     `json:"cpuCores"`
	MemorySize     int     `json:"memorySize"`
	GPUModel       string  `json:"gpuModel"`
	GPURam         int     `json:"gpuRam"`
	SystemDiskSize int     `json:"systemDiskSize"`
	OS             string  `json:"os"`
	RequirePrice   float64 `json:"requirePrice"` // CNY per minute
	MonthPrice     float64 `json:"monthPrice"`   // CNY per month
	Capacity       int     `json:"capacity"`
}

// Image status values at a site (QueryImages imageSites[].status).
const (
	ImageCreating      = "Creating"
	ImageAvailable     = "Available"
	ImageSynchronizing = "Synchronizing"
	ImageError         = "Error"
	ImageDeleting      = "Deleting"
	ImageUsing         = "Using"
	ImageDeleted       = "Deleted"
)

// Image is a public or private image. It fits the products whose OS equals OSType.
type Image struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	DetailName string      `json:"detailName"`
	Type       string      `json:"type"` // "Public" or "Private"
	OSType     string      `json:"osType"`
	Size       float64     `json:"size"`
	Sites      []ImageSite `json:"sites"`
}

// ImageSite is an image's presence at one site. Only Available and Using may create or rebuild.
type ImageSite struct {
	ImageSiteID string `json:"imageSiteId"`
	SiteID      string `json:"siteId"`
	Status      string `json:"status"`
}

// Net is a subnet or a virtual gateway of a VPC. ConfID/ConfName are set on gateways only.
type Net struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	IPAddress string   `json:"ipAddress"`
	Gateway   string   `json:"gateway"`
	Mask      int      `json:"mask"`
	VlanID    string   `json:"vlanId"`
	DNS       []string `json:"dns"`
	ConfID    string   `json:"confId,omitempty"`
	ConfName  string   `json:"confName,omitempty"`
	Used      int      `json:"used"`
}

// VPC is a site's network: the default one (GetDefaultNet; at most one per site) or a custom one
// (GetCustomNet).
type VPC struct {
	ID         string    `json:"id"`
	RecordID   string    `json:"recordId"`
	Num        int       `json:"num"`
	SiteID     string    `json:"siteId"`
	Default    bool      `json:"default"`
	Name       string    `json:"name"`
	Segment    string    `json:"segment"`
	Subnets    []Net     `json:"subnets"`
	Gateways   []Net     `json:"gateways"`
	CreateTime time.Time `json:"createTime"`
	UpdateTime time.Time `json:"updateTime"`
}

// Line is a bandwidth line (电信, 移动, 联通) with its billing scheme and EIP prices; the same lines
// are offered at every site.
type Line struct {
	ConfID          int     `json:"confId"`
	ConfName        string  `json:"confName"`
	GoodsID         string  `json:"goodsId"`
	SchemeID        string  `json:"schemeId"`
	ItemID          string  `json:"itemId"`
	MbpsPricePerDay float64 `json:"mbpsPricePerDay"`
	IPPricePerDay   float64 `json:"ipPricePerDay"`
}

// Sub-account status values (QuerySubAccounts).
const (
	AccountCreating = "creating"
	AccountCreated  = "create"
	AccountError    = "error"
)

// Account is a sub-account. A new one is "creating" until ReadyAt, then "create" (or "error" when Fail).
type Account struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Remark  string    `json:"remark"`
	Status  string    `json:"status"`
	ReadyAt time.Time `json:"readyAt"`
	Fail    bool      `json:"fail,omitempty"`
}

// Desktop status raw values, as the API spells them (docs/api-readings.md, "Desktop statuses").
const (
	StatusConfiguring  = "configuring"
	StatusRebooting    = "rebooting"
	StatusStarting     = "starting"
	StatusRunning      = "using"
	StatusStopping     = "stoping"
	StatusStopped      = "stop"
	StatusDeleting     = "deleteing"
	StatusDeleted      = "deleted"
	StatusError        = "error"
	StatusMonthExpired = "asMonthExpired"
)

// busyStatus holds the transitional statuses: a desktop in one of them refuses other work (13002).
var busyStatus = map[string]bool{
	StatusConfiguring: true, StatusRebooting: true, StatusStarting: true,
	StatusStopping: true, StatusDeleting: true, "dataMoving": true,
}

// Desktop is one cloud desktop. ImageID and AutoRenew are internal: QueryVm does not return them.
// For a per-minute desktop ExpireTime is zero (QueryVm then shows the far-future date the
// reference's example shows).
type Desktop struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	SiteID     string    `json:"siteId"`
	ProductID  string    `json:"productId"`
	ImageID    string    `json:"imageId"`
	VPCID      string    `json:"vpcId"`
	SubnetID   string    `json:"subnetId"`
	GatewayID  string    `json:"gatewayId,omitempty"`
	Qos        int       `json:"qos"`
	Label      string    `json:"label"`
	AccountID  string    `json:"accountId,omitempty"`
	Status     string    `json:"status"`
	Monthly    bool      `json:"monthly"`
	ExpireTime time.Time `json:"expireTime"`
	AutoRenew  bool      `json:"autoRenew"`
	PrivateIP  string    `json:"privateIp"`
	EIP        string    `json:"eip"`
	PublicIP   string    `json:"publicIp"`
	// TaskID is the running task that holds the desktop in a transitional status; PrevStatus is the
	// status it returns to when that task fails.
	TaskID     string `json:"taskId,omitempty"`
	PrevStatus string `json:"prevStatus,omitempty"`
}

// Task status values (QueryTask).
const (
	TaskRunning   = "Running"
	TaskCompleted = "Completed"
	TaskFailed    = "Failed"
)

// Task is an asynchronous mutation. It is Running until Deadline on the emulator clock, then it is
// applied (Completed) or rolled back in whole or in part (Failed, when Fail is set).
type Task struct {
	ID         string          `json:"id"`
	RequestID  string          `json:"requestId"`
	Action     provider.Action `json:"action"`
	Op         string          `json:"op,omitempty"` // OperateVm: on, off, reboot
	VMIDs      []string        `json:"vmIds,omitempty"`
	SiteID     string          `json:"siteId,omitempty"`
	ImageID    string          `json:"imageId,omitempty"`
	Deadline   time.Time       `json:"deadline"`
	Status     string          `json:"status"`
	FailReason string          `json:"failReason"`
	Fail       bool            `json:"fail,omitempty"`
	// FailError: a failed CreateVm leaves its desktops in status "error" (else: half kept).
	FailError bool `json:"failError,omitempty"`
}

// Catalog is the seed world a Sim starts from when it has no data file (or an empty one).
type Catalog struct {
	Sites    []Site    `json:"sites"`
	Products []Product `json:"products"`
	Images   []Image   `json:"images"`
	VPCs     []VPC     `json:"vpcs"`
	Lines    []Line    `json:"lines"`
	Accounts []Account `json:"accounts"`
	Desktops []Desktop `json:"desktops"`
}

// Site ids of DefaultCatalog.
const (
	SiteSuqianA   = "f7c3c7a6-8d5f-11ec-9311-5293695d0ddd" // 宿迁A: full default net, a custom VPC
	SiteSuqianB   = "09a38804-c1ee-11ec-bd22-4641dfd57315" // 宿迁B: default net without gateways
	SiteXiangyang = "32e6fd62-9bac-11ec-875a-2a8d1f4e167e" // 襄阳A: no default net
)

// Product and image ids of DefaultCatalog.
const (
	ProductA5000Win   = "e0997510-1b69-4de8-85a8-cc44b2dd28f8"
	ProductA5000Linux = "745f6546-dc5f-492f-82d1-9eb47cd9fa2d"
	ProductT4Win      = "5b1c7e2a-4f0d-4c55-9d6e-2f3b7a9c1e01"
	ImageWin10        = "0e0f9143-35c5-4368-8c62-4bab440a9b9d" // Available at all three sites
	ImageCustom       = "e363df6f-2916-4efd-a243-50de5fb8928d" // private: Synchronizing at 宿迁B, absent at 襄阳A
	ImageUbuntu       = "4b1f5a3c-7d2e-4e8f-9a6b-1c2d3e4f5a6b" // linux: 宿迁A and 襄阳A
	VPCDefaultSuqianA = "73cbf764-cdcb-11ec-a318-ee97882ecf7d"
	VPCDefaultSuqianB = "b35e43a6-e706-11ec-8171-32f9a7e748fc"
	VPCCustomSuqianA  = "2c869a08-d749-11ec-9fb4-ca91557d24a6"
)

// DefaultCatalog returns a small, realistic world built from the reference's examples: three sites
// (宿迁A, 宿迁B, 襄阳A), an A5000 windows and linux product and a cheaper T4, three images (one not
// usable at one site), a complete default net at 宿迁A, a gateway-less one at 宿迁B, none at 襄阳A,
// a custom VPC with a 移动 gateway at 宿迁A, the three bandwidth lines, one ready sub-account and no
// desktops. Every id is fixed.
func DefaultCatalog() Catalog {
	region, regionName := "408fd19e-fa78-11e6-bd9a-30b49e091019", "中国大陆"
	sites := []Site{
		{SiteSuqianA, "宿迁A", "POD203", region, regionName, "39c6ed64-8d5f-11ec-9247-5293695d0ddd", "宿迁"},
		{SiteSuqianB, "宿迁B", "POD204", region, regionName, "39c6ed64-8d5f-11ec-9247-5293695d0ddd", "宿迁"},
		{SiteXiangyang, "襄阳A", "POD210", region, regionName, "d318e1a2-9bab-11ec-875a-2a8d1f4e167e", "襄阳"},
	}
	a5000w := Product{ID: ProductA5000Win, Name: "图形处理型", GoodsID: 15264, CPUCores: 14, MemorySize: 25,
		GPUModel: "NVIDIA A5000", GPURam: 24, SystemDiskSize: 150, OS: "windows", RequirePrice: 0.1868333333, MonthPrice: 3364}
	a5000l := a5000w
	a5000l.ID, a5000l.Name, a5000l.GoodsID, a5000l.OS = ProductA5000Linux, "图形处理型-Linux", 15273, "linux"
	t4 := Product{ID: ProductT4Win, Name: "入门图形型", GoodsID: 15282, CPUCores: 8, MemorySize: 16,
		GPUModel: "NVIDIA T4", GPURam: 16, SystemDiskSize: 100, OS: "windows", RequirePrice: 0.0583333333, MonthPrice: 1050}
	var products []Product
	for _, s := range []string{SiteSuqianA, SiteSuqianB, SiteXiangyang} {
		p := a5000w
		p.SiteID = s
		products = append(products, p)
	}
	for _, s := range []string{SiteSuqianA, SiteXiangyang} {
		p := a5000l
		p.SiteID = s
		products = append(products, p)
	}
	for _, s := range []string{SiteSuqianA, SiteSuqianB} {
		p := t4
		p.SiteID = s
		products = append(products, p)
	}
	images := []Image{
		{ID: ImageWin10, Name: "Windows10-公共镜像-图像处理型", Type: "Public", OSType: "windows", Size: 72, Sites: []ImageSite{
			{"c37f559f-f1c0-47f4-9c5a-0df4af0b0e1b", SiteSuqianA, ImageAvailable},
			{"0c380796-ecd5-4e16-b829-328710f68ddb", SiteSuqianB, ImageAvailable},
			{"nd206602-7f44-1343-a36f-32tyf61c1", SiteXiangyang, ImageUsing},
		}},
		{ID: ImageCustom, Name: "定制模板", DetailName: "dass-E2129298-windows10-Geforce-1655190089526", Type: "Private",
			OSType: "windows", Size: 32, Sites: []ImageSite{
				{"4f2e0e22-9d8d-4aa7-9226-b5961ea5aa2d", SiteSuqianA, ImageAvailable},
				{"3797fe64-4a5f-4791-8a10-65838134c898", SiteSuqianB, ImageSynchronizing},
			}},
		{ID: ImageUbuntu, Name: "Ubuntu20.04-公共镜像-图像处理型", Type: "Public", OSType: "linux", Size: 40, Sites: []ImageSite{
			{"a2714dec-471e-426c-82e7-4f63f976ec2d", SiteSuqianA, ImageAvailable},
			{"bc205502-7y54-1893-a36f-325af61c1", SiteXiangyang, ImageAvailable},
		}},
	}
	dns := []string{"119.29.29.29", "114.114.114.114"}
	t0 := time.Date(2022, 5, 7, 6, 3, 44, 0, time.UTC)
	vpcs := []VPC{
		{ID: VPCDefaultSuqianA, RecordID: "201bda0c-7cea-420b-b812-91a76aacfbd1", Num: 476, SiteID: SiteSuqianA, Default: true,
			Name: "宿迁-云桌面默认VPC", Segment: "10.0.0.0/8", CreateTime: t0, UpdateTime: t0,
			Subnets: []Net{{ID: "73d2c7ec-cdcb-11ec-a318-ee97882ecf7d", Name: "子网1", IPAddress: "10.1.0.0", Gateway: "10.1.0.1", Mask: 16, VlanID: "1704", DNS: dns}},
			Gateways: []Net{
				{ID: "8054ab84-cdcb-11ec-a318-ee97882ecf7d", Name: "电信默认网关", IPAddress: "10.2.0.0", Gateway: "10.2.0.1", Mask: 16, VlanID: "1431", DNS: dns, ConfID: "10289", ConfName: "电信"},
				{ID: "80587138-cdcb-11ec-a318-ee97882ecf7d", Name: "移动默认网关", IPAddress: "10.3.0.0", Gateway: "10.3.0.1", Mask: 16, VlanID: "1767", DNS: dns, ConfID: "10298", ConfName: "移动"},
			}},
		{ID: VPCDefaultSuqianB, RecordID: "5d3c1b2a-0f9e-4d8c-b7a6-958473625140", Num: 477, SiteID: SiteSuqianB, Default: true,
			Name: "宿迁B-云桌面默认VPC", Segment: "10.0.0.0/8", CreateTime: t0, UpdateTime: t0,
			Subnets: []Net{{ID: "b36b43a8-e706-11ec-8171-32f9a7e748fc", Name: "子网1", IPAddress: "10.1.0.0", Gateway: "10.1.0.1", Mask: 16, VlanID: "1810", DNS: dns}}},
		{ID: VPCCustomSuqianA, SiteID: SiteSuqianA, Name: "宿迁-渲染VPC", Segment: "172.16.0.0/12", CreateTime: t0, UpdateTime: t0,
			Subnets:  []Net{{ID: "2c93fcac-d749-11ec-9fb4-ca91557d24a6", Name: "渲染子网", IPAddress: "172.16.0.0", Gateway: "172.16.0.1", Mask: 16, VlanID: "1768", DNS: dns}},
			Gateways: []Net{{ID: "c0505a90-e706-11ec-8171-32f9a7e748fc", Name: "移动出网网关", IPAddress: "172.17.0.0", Gateway: "172.17.0.1", Mask: 16, VlanID: "1769", DNS: dns, ConfID: "10298", ConfName: "移动"}}},
	}
	lines := []Line{
		{10289, "电信", "16319", "10dc1fe0-8a22-11ec-9537-02f6ca8ca3d2", "bd9c7b0a-8a20-11ec-a9e9-dee2642e3814", 0.3, 0.5},
		{10298, "移动", "16328", "fd81a33e-8a21-11ec-ab1f-dee2642e3814", "9fb925ac-8a20-11ec-a829-dee2642e3814", 0.25, 0.5},
		{10307, "联通", "16337", "ec0aacae-8a21-11ec-befd-02f6ca8ca3d2", "8a7cdaf8-8a20-11ec-98fd-dee2642e3814", 0.3, 0.5},
	}
	accounts := []Account{{ID: "7e7ba91e-4357-470a-9609-ce60d9d7e38f", Name: "miao123", Email: "17716313367@163.com",
		Remark: "miao123", Status: AccountCreated}}
	return Catalog{Sites: sites, Products: products, Images: images, VPCs: vpcs, Lines: lines, Accounts: accounts}
}

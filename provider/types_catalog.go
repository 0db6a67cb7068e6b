package provider

// QueryTaskRequest asks for the status of an asynchronous task.
type QueryTaskRequest struct {
	TaskID string
	// RequestID is the requestId of the call that created the task (QueryTask's requestId,
	// docs/api-readings.md); none is sent when empty.
	RequestID string
}

// Task is an asynchronous task's state (QueryTask).
type Task struct {
	TaskID     string
	RequestID  string
	Status     TaskStatus
	FailReason string
}

// QuerySitesRequest filters QuerySites; an empty SiteID lists every site.
type QuerySitesRequest struct {
	SiteID string
}

// Site is one availability zone (QuerySites).
type Site struct {
	SiteID     string
	SiteName   string
	PodName    string
	RegionID   string
	RegionName string
	CityID     string
	CityName   string
}

// QueryProductsRequest filters QueryProducts; an empty SiteID lists every site's products.
type QueryProductsRequest struct {
	SiteID string
}

// Product is a desktop specification offered at a site (QueryProducts).
type Product struct {
	SiteID         string
	ProductID      string
	GoodsID        int
	CPUCores       int
	MemoryGB       int // memorySize
	GPUModel       string
	GPURAMGB       int // gpuRam
	SystemDiskGB   int // systemDiskSize
	OS             string
	PricePerMinute float64 // requirePrice, CNY per minute
	PricePerMonth  float64 // monthPrice, CNY per month
}

// QueryImagesRequest filters QueryImages by site and product; both optional.
type QueryImagesRequest struct {
	SiteID    string
	ProductID string
}

// ProductImages is the set of images usable with one product (QueryImages returns a list of these).
type ProductImages struct {
	ProductID     string
	ProductName   string
	PublicImages  []Image
	PrivateImages []Image
}

// Image is a desktop image and where it is present.
type Image struct {
	ImageID    string
	ImageName  string
	DetailName string
	ImageType  string // "Public" or "Private"
	OSType     string
	SizeGB     float64
	Message    string
	Sites      []ImageSite
}

// ImageSite is an image's presence at one site.
type ImageSite struct {
	ImageSiteID string
	SiteID      string
	SiteName    string
	Status      ImageStatus
}

// UsableAt reports whether the image may create or rebuild desktops at siteID.
func (im Image) UsableAt(siteID string) bool {
	for _, s := range im.Sites {
		if s.SiteID == siteID && s.Status.Usable() {
			return true
		}
	}
	return false
}

// QueryVmPriceRequest asks the price of desktops (QueryVmPrice; a POST with no side effect).
type QueryVmPriceRequest struct {
	RequestID string
	SiteID    string
	GoodsID   int
	BillCycle BillCycle // empty: server default (per-minute)
	Num       int       // 0: server default (1)
	Duration  int       // months; 0: server default (1)
	IsToMonth bool      // bill up to the end of the calendar month
}

// QueryVmPriceResponse is the price: per hour for per-minute billing, the total for monthly billing.
type QueryVmPriceResponse struct {
	RequestID      string
	TradeAmount    float64
	Currency       string // areaId, e.g. "CN"
	RequestContent string
}

// QueryExpireVmsRequest has no parameters; it exists for symmetry.
type QueryExpireVmsRequest struct{}

// ExpiringDesktop is a desktop that expires within seven days or has expired (QueryExpireVms).
// The API returns names, not ids.
type ExpiringDesktop struct {
	Name       string
	BillMethod BillMethod
	ExpireTime TimeValue
	Status     Status
	RawStatus  string
}

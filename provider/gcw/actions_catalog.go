package gcw

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/deskfleet/deskfleet/provider"
)

type taskWire struct {
	TaskID     fString `json:"taskId"`
	Status     fString `json:"status"`
	FailReason fString `json:"failReason"`
	RequestID  fString `json:"requestId"`
}

// QueryTask implements provider.Client. The requestId sent is the caller's, the one of the call that
// made the task; none is made up when it is empty. The status is matched case-insensitively (blanks
// around it ignored) and returned as provider.TaskRunning, TaskCompleted or TaskFailed. Any other
// value is returned as it came, until c.maxUnknown answers in a row for the same task carried one:
// that answer is an *provider.APIError instead, which ends a wait on the task (its outcome is unknown).
func (c *Client) QueryTask(ctx context.Context, req provider.QueryTaskRequest) (*provider.Task, error) {
	p := map[string]any{"taskId": req.TaskID}
	setIf(p, "requestId", req.RequestID)
	var w taskWire
	scrub, err := c.callScrub(ctx, provider.ActionQueryTask, p, req.RequestID, &w)
	if err != nil {
		return nil, err
	}
	status, known := taskStatus(string(w.Status))
	t := &provider.Task{TaskID: string(w.TaskID), RequestID: string(w.RequestID), Status: status,
		FailReason: string(w.FailReason)}
	if t.TaskID == "" {
		t.TaskID = req.TaskID
	}
	if t.RequestID == "" {
		t.RequestID = req.RequestID
	}
	if n := c.countUnknownStatus(req.TaskID, known); n >= c.maxUnknown {
		return nil, &provider.APIError{Action: provider.ActionQueryTask, RequestID: req.RequestID, HTTPStatus: http.StatusOK,
			Message: scrub(fmt.Sprintf("task %s: status %q is none of Running, Completed, Failed (%d answers in a row): the task's outcome is unknown",
				req.TaskID, truncate(string(w.Status), 64), n))}
	}
	return t, nil
}

// taskStatus maps QueryTask's status to Running, Completed or Failed in any case; known is false for
// anything else, returned unchanged.
func taskStatus(raw string) (s provider.TaskStatus, known bool) {
	v := strings.TrimSpace(raw)
	for _, s := range []provider.TaskStatus{provider.TaskRunning, provider.TaskCompleted, provider.TaskFailed} {
		if strings.EqualFold(v, string(s)) {
			return s, true
		}
	}
	return provider.TaskStatus(raw), false
}

// maxTrackedTasks bounds the tasks whose unrecognised answers are counted (a wait abandoned midway
// leaves its count behind).
const maxTrackedTasks = 1024

// countUnknownStatus records one QueryTask answer for taskID and returns how many in a row carried an
// unrecognised status (0 after a recognised one). The count restarts once it reaches c.maxUnknown.
func (c *Client) countUnknownStatus(taskID string, known bool) int {
	c.taskMu.Lock()
	defer c.taskMu.Unlock()
	if known {
		delete(c.unknownTasks, taskID)
		return 0
	}
	if _, ok := c.unknownTasks[taskID]; !ok && len(c.unknownTasks) >= maxTrackedTasks {
		clear(c.unknownTasks)
	}
	c.unknownTasks[taskID]++
	n := c.unknownTasks[taskID]
	if n >= c.maxUnknown {
		delete(c.unknownTasks, taskID)
	}
	return n
}

type siteWire struct {
	SiteID     fString `json:"siteId"`
	PodName    fString `json:"podName"`
	SiteName   fString `json:"siteName"`
	RegionName fString `json:"regionName"`
	RegionID   fString `json:"regionId"`
	CityName   fString `json:"cityName"`
	CityID     fString `json:"cityId"`
}

// QuerySites implements provider.Client.
func (c *Client) QuerySites(ctx context.Context, req provider.QuerySitesRequest) ([]provider.Site, error) {
	p := map[string]any{}
	setIf(p, "siteId", req.SiteID)
	var ws []siteWire
	if err := c.call(ctx, provider.ActionQuerySites, p, "", &ws); err != nil {
		return nil, err
	}
	out := make([]provider.Site, len(ws))
	for i, w := range ws {
		out[i] = provider.Site{SiteID: string(w.SiteID), SiteName: string(w.SiteName), PodName: string(w.PodName),
			RegionID: string(w.RegionID), RegionName: string(w.RegionName), CityID: string(w.CityID), CityName: string(w.CityName)}
	}
	return out, nil
}

type productWire struct {
	SiteID         fString `json:"siteId"`
	ProductID      fString `json:"productId"`
	CPUCores       fInt    `json:"cpuCores"`
	MemorySize     fInt    `json:"memorySize"`
	GPUModel       fString `json:"gpuModel"`
	GPURam         fInt    `json:"gpuRam"`
	SystemDiskSize fInt    `json:"systemDiskSize"`
	OS             fString `json:"os"`
	GoodsID        fInt    `json:"goodsId"`
	RequirePrice   fFloat  `json:"requirePrice"`
	MonthPrice     fFloat  `json:"monthPrice"`
}

// QueryProducts implements provider.Client.
func (c *Client) QueryProducts(ctx context.Context, req provider.QueryProductsRequest) ([]provider.Product, error) {
	p := map[string]any{}
	setIf(p, "siteId", req.SiteID)
	var ws []productWire
	if err := c.call(ctx, provider.ActionQueryProducts, p, "", &ws); err != nil {
		return nil, err
	}
	out := make([]provider.Product, len(ws))
	for i, w := range ws {
		out[i] = provider.Product{SiteID: string(w.SiteID), ProductID: string(w.ProductID), GoodsID: int(w.GoodsID),
			CPUCores: int(w.CPUCores), MemoryGB: int(w.MemorySize), GPUModel: string(w.GPUModel), GPURAMGB: int(w.GPURam),
			SystemDiskGB: int(w.SystemDiskSize), OS: string(w.OS), PricePerMinute: float64(w.RequirePrice),
			PricePerMonth: float64(w.MonthPrice)}
	}
	return out, nil
}

type imageSiteWire struct {
	ImageSiteID fString `json:"imageSiteId"`
	SiteID      fString `json:"siteId"`
	SiteName    fString `json:"siteName"`
	Status      fString `json:"status"`
}

type imageWire struct {
	ImageID    fString         `json:"imageId"`
	ImageName  fString         `json:"imageName"`
	DetailName fString         `json:"detailName"`
	ImageType  fString         `json:"imageType"`
	OSType     fString         `json:"osType"`
	ImageSize  fFloat          `json:"imageSize"`
	Message    fString         `json:"message"`
	ImageSites []imageSiteWire `json:"imageSites"`
}

type productImagesWire struct {
	ProductID     fString     `json:"productId"`
	ProductName   fString     `json:"productName"`
	PublicImages  []imageWire `json:"publicImages"`
	PrivateImages []imageWire `json:"privateImages"`
}

func imagesOf(ws []imageWire) []provider.Image {
	out := make([]provider.Image, len(ws))
	for i, w := range ws {
		im := provider.Image{ImageID: string(w.ImageID), ImageName: string(w.ImageName), DetailName: string(w.DetailName),
			ImageType: string(w.ImageType), OSType: string(w.OSType), SizeGB: float64(w.ImageSize), Message: string(w.Message)}
		for _, s := range w.ImageSites {
			im.Sites = append(im.Sites, provider.ImageSite{ImageSiteID: string(s.ImageSiteID), SiteID: string(s.SiteID),
				SiteName: string(s.SiteName), Status: provider.ImageStatus(s.Status)})
		}
		out[i] = im
	}
	return out
}

// QueryImages implements provider.Client.
func (c *Client) QueryImages(ctx context.Context, req provider.QueryImagesRequest) ([]provider.ProductImages, error) {
	p := map[string]any{}
	setIf(p, "siteId", req.SiteID)
	setIf(p, "productId", req.ProductID)
	var ws []productImagesWire
	if err := c.call(ctx, provider.ActionQueryImages, p, "", &ws); err != nil {
		return nil, err
	}
	out := make([]provider.ProductImages, len(ws))
	for i, w := range ws {
		out[i] = provider.ProductImages{ProductID: string(w.ProductID), ProductName: string(w.ProductName),
			PublicImages: imagesOf(w.PublicImages), PrivateImages: imagesOf(w.PrivateImages)}
	}
	return out, nil
}

type priceWire struct {
	TradeAmount    fFloat  `json:"tradeAmount"`
	AreaID         fString `json:"areaId"`
	RequestID      fString `json:"requestId"`
	RequestContent fString `json:"requestContent"`
}

// QueryVmPrice implements provider.Client. It is a POST without side effects, retried like a read.
func (c *Client) QueryVmPrice(ctx context.Context, req provider.QueryVmPriceRequest) (*provider.QueryVmPriceResponse, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "siteId": req.SiteID, "goodsId": itoa(req.GoodsID),
		"isToMonth": flag(req.IsToMonth)}
	setIf(p, "billCycle", string(req.BillCycle))
	setInt(p, "num", req.Num)
	setInt(p, "duration", req.Duration)
	var w priceWire
	if err := c.call(ctx, provider.ActionQueryVmPrice, p, rid, &w); err != nil {
		return nil, err
	}
	return &provider.QueryVmPriceResponse{RequestID: orDefault(string(w.RequestID), rid), TradeAmount: float64(w.TradeAmount),
		Currency: string(w.AreaID), RequestContent: string(w.RequestContent)}, nil
}

type expireWire struct {
	VmName     fString `json:"vmName"`
	BillMethod fInt    `json:"billMethod"`
	ExpireTime fString `json:"expireTime"`
	Status     fString `json:"status"`
}

// QueryExpireVms implements provider.Client.
func (c *Client) QueryExpireVms(ctx context.Context, _ provider.QueryExpireVmsRequest) ([]provider.ExpiringDesktop, error) {
	var ws []expireWire
	if err := c.call(ctx, provider.ActionQueryExpireVms, nil, "", &ws); err != nil {
		return nil, err
	}
	out := make([]provider.ExpiringDesktop, len(ws))
	for i, w := range ws {
		out[i] = provider.ExpiringDesktop{Name: string(w.VmName), BillMethod: provider.BillMethod(w.BillMethod),
			ExpireTime: parseTime(w.ExpireTime), Status: provider.NormalizeStatus(string(w.Status)), RawStatus: string(w.Status)}
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package gcw

import (
	"context"

	"github.com/deskfleet/deskfleet/provider"
)

type taskRespWire struct {
	TaskID         fString   `json:"taskId"`
	RequestID      fString   `json:"requestId"`
	RequestContent fString   `json:"requestContent"`
	VmID           fString   `json:"vmId"`
	VmIDs          []fString `json:"vmIds"`
}

// task calls an asynchronous action and returns its task. The desktops it covers are the response's
// vmIds, else its vmId, else one (the id the request named, for the one-desktop actions).
func (c *Client) task(ctx context.Context, action provider.Action, rid string, p map[string]any, one string) (*provider.TaskResponse, error) {
	var w taskRespWire
	if err := c.call(ctx, action, p, rid, &w); err != nil {
		return nil, err
	}
	resp := &provider.TaskResponse{RequestID: orDefault(string(w.RequestID), rid), TaskID: string(w.TaskID),
		VmIDs: stringsOf(w.VmIDs), RequestContent: string(w.RequestContent)}
	if len(resp.VmIDs) == 0 {
		if vm := orDefault(string(w.VmID), one); vm != "" {
			resp.VmIDs = []string{vm}
		}
	}
	return resp, nil
}

func (c *Client) netTask(ctx context.Context, action provider.Action, reqID, siteID string) (*provider.TaskResponse, error) {
	rid := c.requestID(reqID)
	return c.task(ctx, action, rid, map[string]any{"requestId": rid, "siteId": siteID}, "")
}

// CreateDefaultNet implements provider.Client.
func (c *Client) CreateDefaultNet(ctx context.Context, req provider.CreateDefaultNetRequest) (*provider.TaskResponse, error) {
	return c.netTask(ctx, provider.ActionCreateDefaultNet, req.RequestID, req.SiteID)
}

// SupplyDefaultNet implements provider.Client.
func (c *Client) SupplyDefaultNet(ctx context.Context, req provider.SupplyDefaultNetRequest) (*provider.TaskResponse, error) {
	return c.netTask(ctx, provider.ActionSupplyDefaultNet, req.RequestID, req.SiteID)
}

type segmentWire struct {
	ID        fString  `json:"id"`
	Name      fString  `json:"name"`
	IPType    fString  `json:"ip_type"`
	Status    fString  `json:"status"`
	StatusStr fString  `json:"status_str"`
	IPAddress fString  `json:"ip_address"`
	Mask      fInt     `json:"mask"`
	Gateway   fString  `json:"gateway"`
	DNS       fStrings `json:"dns"` // a JSON array inside a string
	VlanID    fString  `json:"vlan_id"`
	NotUsed   fInt     `json:"not_used"`
	UsedNum   fInt     `json:"used_num"`
	ConfID    fString  `json:"conf_id"`
	ConfName  fString  `json:"conf_name"`
}

// networkWire decodes GetDefaultNet/GetCustomNet. The reference's table says vGateways, its examples
// vgateways: both are declared so that either spelling matches exactly.
type networkWire struct {
	ID          fInt          `json:"id"`
	VpcRecordID fString       `json:"vpcRecordId"`
	CityID      fString       `json:"cityId"`
	VpcID       fString       `json:"vpcId"`
	VpcName     fString       `json:"vpcName"`
	VpcSegment  fString       `json:"vpcSegment"`
	CustomerID  fString       `json:"customerId"`
	UserID      fString       `json:"userId"`
	CreateTime  fString       `json:"createTime"`
	UpdateTime  fString       `json:"updateTime"`
	DeleteFlag  fBool         `json:"deleteFlag"`
	Subnets     []segmentWire `json:"subnets"`
	VGateways   []segmentWire `json:"vGateways"`
	Vgateways   []segmentWire `json:"vgateways"`
}

func segmentsOf(ws []segmentWire) []provider.NetSegment {
	if len(ws) == 0 {
		return nil
	}
	out := make([]provider.NetSegment, len(ws))
	for i, w := range ws {
		out[i] = provider.NetSegment{ID: string(w.ID), Name: string(w.Name), Type: provider.NetType(w.IPType),
			Status: string(w.Status), StatusStr: string(w.StatusStr), IPAddress: string(w.IPAddress), Mask: int(w.Mask),
			Gateway: string(w.Gateway), DNS: []string(w.DNS), VlanID: string(w.VlanID), NotUsed: int(w.NotUsed),
			UsedNum: int(w.UsedNum), ConfID: string(w.ConfID), ConfName: string(w.ConfName)}
	}
	return out
}

func (w networkWire) network() provider.Network {
	gws := w.VGateways
	if len(gws) == 0 {
		gws = w.Vgateways
	}
	return provider.Network{ID: int(w.ID), VpcRecordID: string(w.VpcRecordID), CityID: string(w.CityID),
		VpcID: string(w.VpcID), VpcName: string(w.VpcName), VpcSegment: string(w.VpcSegment),
		CustomerID: string(w.CustomerID), UserID: string(w.UserID), CreateTime: parseTime(w.CreateTime),
		UpdateTime: parseTime(w.UpdateTime), DeleteFlag: bool(w.DeleteFlag), Subnets: segmentsOf(w.Subnets),
		VGateways: segmentsOf(gws)}
}

// GetDefaultNet implements provider.Client. A Data of null (no default network) is (nil, nil).
func (c *Client) GetDefaultNet(ctx context.Context, req provider.GetDefaultNetRequest) (*provider.Network, error) {
	rid := c.requestID(req.RequestID)
	var w *networkWire // stays nil when Data is null
	if err := c.call(ctx, provider.ActionGetDefaultNet, map[string]any{"requestId": rid, "siteId": req.SiteID}, rid, &w); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, nil
	}
	n := w.network()
	return &n, nil
}

// GetCustomNet implements provider.Client.
func (c *Client) GetCustomNet(ctx context.Context, req provider.GetCustomNetRequest) ([]provider.Network, error) {
	rid := c.requestID(req.RequestID)
	var ws []networkWire
	if err := c.call(ctx, provider.ActionGetCustomNet, map[string]any{"requestId": rid, "siteId": req.SiteID}, rid, &ws); err != nil {
		return nil, err
	}
	out := make([]provider.Network, len(ws))
	for i, w := range ws {
		out[i] = w.network()
	}
	return out, nil
}

type billingItemWire struct {
	ID   fString `json:"id"`
	Key  fString `json:"key"`
	Name fString `json:"name"`
}

type billingSchemeWire struct {
	GoodsID           fString           `json:"goods_id"`
	BillingMethod     fInt              `json:"billing_method"`
	BillingType       fString           `json:"billing_type"`
	BillingSchemeID   fString           `json:"billing_scheme_id"`
	BillingSchemeName fString           `json:"billing_scheme_name"`
	BillingCycleID    fString           `json:"billing_cycle_id"`
	BillingItems      []billingItemWire `json:"billing_items"`
}

type lineWire struct {
	ConfID        fString             `json:"conf_id"`
	ConfName      fString             `json:"conf_name"`
	BillingScheme []billingSchemeWire `json:"billing_scheme"`
}

// GetLineBillingScheme implements provider.Client.
func (c *Client) GetLineBillingScheme(ctx context.Context, req provider.GetLineBillingSchemeRequest) ([]provider.Line, error) {
	rid := c.requestID(req.RequestID)
	var ws []lineWire
	if err := c.call(ctx, provider.ActionGetLineBillingScheme, map[string]any{"requestId": rid, "siteId": req.SiteID}, rid, &ws); err != nil {
		return nil, err
	}
	out := make([]provider.Line, len(ws))
	for i, w := range ws {
		l := provider.Line{ConfID: string(w.ConfID), ConfName: string(w.ConfName)}
		for _, s := range w.BillingScheme {
			bs := provider.BillingScheme{SchemeID: string(s.BillingSchemeID), SchemeName: string(s.BillingSchemeName),
				GoodsID: string(s.GoodsID), BillingMethod: provider.BillMethod(s.BillingMethod),
				BillingType: string(s.BillingType), BillingCycle: string(s.BillingCycleID)}
			for _, it := range s.BillingItems {
				bs.Items = append(bs.Items, provider.BillingItem{ID: string(it.ID), Key: string(it.Key), Name: string(it.Name)})
			}
			l.BillingSchemes = append(l.BillingSchemes, bs)
		}
		out[i] = l
	}
	return out, nil
}

type priceItemWire struct {
	Price    fFloat  `json:"price"`
	PriceStr fString `json:"price_str"`
	Sign     fString `json:"sign"`
	Cycle    fString `json:"cycle"`
	EndTime  fString `json:"end_time"`
}

func (w priceItemWire) price() provider.Price {
	return provider.Price{Price: float64(w.Price), PriceStr: string(w.PriceStr), Sign: string(w.Sign),
		Cycle: string(w.Cycle), EndTime: string(w.EndTime)}
}

type eipPriceWire struct {
	Bandwidth priceItemWire `json:"bandwidth_price"`
	EIP       priceItemWire `json:"eip_price"`
	Total     priceItemWire `json:"total_price"`
}

// GetEipPrice implements provider.Client.
func (c *Client) GetEipPrice(ctx context.Context, req provider.GetEipPriceRequest) (*provider.EipPrice, error) {
	rid := c.requestID(req.RequestID)
	p := map[string]any{"requestId": rid, "siteId": req.SiteID, "size": itoa(req.Size),
		"bandwidthConfId": req.BandwidthConfID, "qos": itoa(req.QosMbps)}
	var w eipPriceWire
	if err := c.call(ctx, provider.ActionGetEipPrice, p, rid, &w); err != nil {
		return nil, err
	}
	return &provider.EipPrice{Bandwidth: w.Bandwidth.price(), EIP: w.EIP.price(), Total: w.Total.price()}, nil
}

package sim

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// cst is Beijing time, in which the billing periods are counted.
var cst = time.FixedZone("CST", 8*3600)

// farExpire is what QueryVm shows as expireTime for a per-minute desktop (the reference's example),
// formatted once: every per-minute desktop's read shows it.
var farExpire = time.Date(2099, 1, 1, 0, 0, 0, 0, cst).UTC().Format(expireLayout)

const (
	expireLayout = "2006-01-02T15:04:05.000-0700"
	dateLayout   = "2006-01-02 15:04:05"
	customerID   = "E2129298"
	userID       = "713367"
)

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func (s *Sim) queryTask(p *params) (any, error) {
	id, req := p.need("taskId"), p.need("requestId")
	if p.err != nil {
		return nil, p.err
	}
	t, ok := s.w.tasks[id]
	if !ok || t.RequestID != req {
		return nil, fail("10006", "任务不存在")
	}
	return map[string]any{"taskId": t.ID, "status": t.Status, "failReason": t.FailReason, "requestId": t.RequestID}, nil
}

func siteView(v *Site) map[string]any {
	return map[string]any{"siteId": v.ID, "podName": v.PodName, "siteName": v.Name, "regionName": v.RegionName,
		"regionId": v.RegionID, "cityName": v.CityName, "cityId": v.CityID}
}

func (s *Sim) querySites(p *params) (any, error) {
	filter, _ := p.str("siteId")
	if p.err != nil {
		return nil, p.err
	}
	out := []any{}
	for _, v := range s.w.sites {
		if filter == "" || v.ID == filter {
			out = append(out, siteView(v))
		}
	}
	return out, nil
}

func (s *Sim) queryProducts(p *params) (any, error) {
	filter, _ := p.str("siteId")
	if p.err != nil {
		return nil, p.err
	}
	out := []any{}
	for _, v := range s.w.products {
		if filter != "" && v.SiteID != filter {
			continue
		}
		out = append(out, map[string]any{"siteId": v.SiteID, "productId": v.ID, "cpuCores": v.CPUCores,
			"memorySize": v.MemorySize, "gpuModel": v.GPUModel, "gpuRam": v.GPURam, "systemDiskSize": v.SystemDiskSize,
			"os": v.OS, "goodsId": v.GoodsID, "requirePrice": v.RequirePrice, "monthPrice": v.MonthPrice})
	}
	return out, nil
}

func (s *Sim) queryImages(p *params) (any, error) {
	site, _ := p.str("siteId")
	prod, _ := p.str("productId")
	if p.err != nil {
		return nil, p.err
	}
	if site != "" && s.w.siteByID[site] == nil {
		return nil, fail("10006", "无对应站点信息")
	}
	seen := map[string]bool{}
	out := []any{}
	for _, pr := range s.w.products {
		if seen[pr.ID] || (prod != "" && pr.ID != prod) || (site != "" && pr.SiteID != site) {
			continue
		}
		seen[pr.ID] = true
		pub, priv := []any{}, []any{}
		for _, im := range s.w.images {
			if im.OSType != pr.OS {
				continue
			}
			var sites []any
			for _, is := range im.Sites {
				if site != "" && is.SiteID != site {
					continue
				}
				name := ""
				if st := s.w.siteByID[is.SiteID]; st != nil {
					name = st.Name
				}
				sites = append(sites, map[string]any{"imageSiteId": is.ImageSiteID, "siteId": is.SiteID, "siteName": name, "status": is.Status})
			}
			if sites == nil {
				continue
			}
			v := map[string]any{"imageId": im.ID, "imageName": im.Name, "detailName": im.DetailName, "imageType": im.Type,
				"osType": im.OSType, "imageSize": im.Size, "message": "", "imageSites": sites}
			if strings.EqualFold(im.Type, "Private") {
				priv = append(priv, v)
			} else {
				pub = append(pub, v)
			}
		}
		out = append(out, map[string]any{"productId": pr.ID, "productName": pr.Name, "publicImages": pub, "privateImages": priv})
	}
	if prod != "" && len(out) == 0 {
		return nil, fail("10006", "无对应商品规格信息")
	}
	return out, nil
}

func (s *Sim) productByGoods(site string, goods int) *Product {
	for _, pr := range s.w.products {
		if pr.SiteID == site && pr.GoodsID == goods {
			return pr
		}
	}
	return nil
}

// queryVmPrice: per-minute answers the price per hour; month and year the total for the period.
func (s *Sim) queryVmPrice(p *params) (any, error) {
	req, site, goods := p.need("requestId"), p.need("siteId"), p.need("goodsId")
	duration := p.intOpt("duration", 1, 1)
	toMonth := p.flag("isToMonth", false)
	cycle := p.opt("billCycle", "minute")
	num := p.intOpt("num", 1, 1)
	if p.err != nil {
		return nil, p.err
	}
	if cycle != "minute" && cycle != "month" && cycle != "year" {
		return nil, fail("10003", "计费周期可选值为minute、month或year")
	}
	if s.w.siteByID[site] == nil {
		return nil, fail("10006", "无对应站点信息")
	}
	var gid int
	if err := json.Unmarshal([]byte(goods), &gid); err != nil {
		return nil, fail("10003", "goodsId无效")
	}
	pr := s.productByGoods(site, gid)
	if pr == nil {
		return nil, fail("12505", "")
	}
	var amount float64
	switch cycle {
	case "minute":
		amount = pr.RequirePrice * 60 * float64(num)
	case "month":
		months := float64(duration)
		if toMonth {
			start := p.now.In(cst)
			end := monthEnd(p.now, duration, true)
			first := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, cst)
			days := float64(time.Date(start.Year(), start.Month()+1, 0, 0, 0, 0, 0, cst).Day())
			months = first.Sub(start).Hours()/24/days + float64(monthsBetween(first, end))
		}
		amount = pr.MonthPrice * months * float64(num)
	case "year":
		amount = pr.MonthPrice * 12 * float64(duration) * float64(num)
	}
	return map[string]any{"tradeAmount": round2(amount), "areaId": "CN", "requestId": req, "requestContent": p.requestContent()}, nil
}

func monthsBetween(a, b time.Time) int {
	a, b = a.In(cst), b.In(cst)
	return (b.Year()-a.Year())*12 + int(b.Month()-a.Month())
}

// monthEnd is the end of a monthly period of duration months from start: with toMonth, the first
// day of the month duration months later at 00:00 (Beijing time); otherwise the same time duration
// months later (the reference's isToMonth examples).
func monthEnd(start time.Time, duration int, toMonth bool) time.Time {
	t := start.In(cst)
	if toMonth {
		return time.Date(t.Year(), t.Month()+time.Month(duration), 1, 0, 0, 0, 0, cst)
	}
	return t.AddDate(0, duration, 0)
}

// querySubAccounts filters by email (exact, case-insensitive), name and remark (substring).
func (s *Sim) querySubAccounts(p *params) (any, error) {
	email, _ := p.str("email")
	name, _ := p.str("name")
	remark, _ := p.str("remark")
	if p.err != nil {
		return nil, p.err
	}
	bind := map[string]int{}
	s.w.liveDesktops(func(d *Desktop) {
		if d.AccountID != "" {
			bind[d.AccountID]++
		}
	})
	out := []any{}
	for _, a := range s.w.accounts {
		if (email != "" && !strings.EqualFold(email, a.Email)) || !strings.Contains(a.Name, name) || !strings.Contains(a.Remark, remark) {
			continue
		}
		out = append(out, map[string]any{"accountId": a.ID, "name": a.Name, "email": a.Email, "remark": a.Remark,
			"bindNum": bind[a.ID], "status": a.Status})
	}
	return out, nil
}

func netView(n Net, gateway bool) map[string]any {
	dns, _ := json.Marshal(n.DNS)
	total := 1 << (32 - n.Mask)
	m := map[string]any{"dns": string(dns), "gateway": n.Gateway, "id": n.ID, "ip_address": n.IPAddress, "ip_type": "subnet",
		"mask": n.Mask, "name": n.Name, "not_used": total - 16 - n.Used, "used_num": 16 + n.Used, "status": "ok",
		"status_str": "正常", "vlan_id": n.VlanID}
	if gateway {
		m["ip_type"] = "virtual_gateway"
		m["conf_id"] = n.ConfID
		m["conf_name"] = n.ConfName
	}
	return m
}

// vpcView renders a VPC as GetDefaultNet/GetCustomNet do; gateways under "vgateways", the spelling
// of the reference's examples (its tables say vGateways).
func (s *Sim) vpcView(v *VPC, full bool) map[string]any {
	subnets, gws := []any{}, []any{}
	for _, n := range v.Subnets {
		subnets = append(subnets, netView(n, false))
	}
	for _, n := range v.Gateways {
		gws = append(gws, netView(n, true))
	}
	m := map[string]any{"vpcId": v.ID, "vpcName": v.Name, "vpcSegment": v.Segment, "customerId": customerID,
		"userId": userID, "subnets": subnets, "vgateways": gws}
	if full {
		city := ""
		if st := s.w.siteByID[v.SiteID]; st != nil {
			city = st.CityID
		}
		m["id"], m["vpcRecordId"], m["cityId"], m["deleteFlag"] = v.Num, v.RecordID, city, false
		m["createTime"], m["updateTime"] = v.CreateTime.In(cst).Format(dateLayout), v.UpdateTime.In(cst).Format(dateLayout)
	}
	return m
}

func (s *Sim) siteParam(p *params) (string, error) {
	p.need("requestId")
	site := p.need("siteId")
	if p.err != nil {
		return "", p.err
	}
	if s.w.siteByID[site] == nil {
		return "", fail("10006", "无对应站点信息")
	}
	return site, nil
}

// getDefaultNet answers Data null (Success) for a site without a default net.
func (s *Sim) getDefaultNet(p *params) (any, error) {
	site, err := s.siteParam(p)
	if err != nil {
		return nil, err
	}
	v := s.w.defaultVPC(site)
	if v == nil {
		return nil, nil
	}
	return s.vpcView(v, true), nil
}

func (s *Sim) getCustomNet(p *params) (any, error) {
	site, err := s.siteParam(p)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range s.w.vpcs {
		if v.SiteID == site && !v.Default {
			out = append(out, s.vpcView(v, false))
		}
	}
	return out, nil
}

func (s *Sim) getLineBillingScheme(p *params) (any, error) {
	if _, err := s.siteParam(p); err != nil {
		return nil, err
	}
	out := []any{}
	for _, l := range s.w.lines {
		out = append(out, map[string]any{"conf_id": l.ConfID, "conf_name": l.ConfName, "billing_scheme": []any{map[string]any{
			"billing_cycle_id": "minute", "billing_method": "0", "billing_scheme_id": l.SchemeID,
			"billing_scheme_name": "固定带宽EIP" + l.ConfName, "billing_type": "number", "goods_id": l.GoodsID,
			"billing_items": []any{map[string]any{"id": l.ItemID, "key": "Bandwidth", "name": "固定带宽-" + l.ConfName}},
		}}})
	}
	return out, nil
}

func priceView(f float64) map[string]any {
	f = round2(f)
	return map[string]any{"cycle": "/天", "end_time": "2099-01-01 00:00:00", "price": f,
		"price_str": strings.TrimSpace(jsonFloat2(f)), "sign": "￥"}
}

func jsonFloat2(f float64) string {
	b, _ := json.Marshal(math.Round(f*100) / 100)
	s := string(b)
	if !strings.Contains(s, ".") {
		return s + ".00"
	}
	if len(s)-strings.Index(s, ".") == 2 {
		return s + "0"
	}
	return s
}

func (s *Sim) getEipPrice(p *params) (any, error) {
	p.need("size")
	conf := p.need("bandwidthConfId")
	p.need("qos")
	if _, err := s.siteParam(p); err != nil {
		return nil, err
	}
	n, q := p.intOpt("size", 1, 1), p.intOpt("qos", 1, 1)
	if p.err != nil {
		return nil, p.err
	}
	for _, l := range s.w.lines {
		if strconv.Itoa(l.ConfID) == conf {
			bw, ip := l.MbpsPricePerDay*float64(q), l.IPPricePerDay*float64(n)
			return map[string]any{"bandwidth_price": priceView(bw), "eip_price": priceView(ip), "total_price": priceView(bw + ip)}, nil
		}
	}
	// 13503 (获取eip价格失败): the price service has no price for that line. The reference's 10003
	// is for parameters missing or malformed, 10006 for an unknown site.
	return nil, fail("13503", "无对应带宽conf_id的价格")
}

// vmView renders QueryVm's Data: no image, no account id, no auto-renewal (docs/api-readings.md).
func (s *Sim) vmView(d *Desktop, now time.Time) map[string]any {
	vpcName := ""
	if v := s.w.vpcByID[d.VPCID]; v != nil {
		vpcName = v.Name
	}
	accName, accEmail := "", ""
	if a := s.w.accByID[d.AccountID]; a != nil {
		accName, accEmail = a.Name, a.Email
	}
	bill, exp, status := billingView(d, now)
	return map[string]any{"vmName": d.Name, "siteId": d.SiteID, "billMethod": bill, "productId": d.ProductID, "vpcId": d.VPCID,
		"vpcName": vpcName, "eip": d.EIP, "privateIp": d.PrivateIP, "publicIp": d.PublicIP, "bw": d.Qos, "accountName": accName,
		"accountEmail": accEmail, "expireTime": exp, "status": status, "label": d.Label}
}

// billingView returns billMethod, the expireTime text and the status as seen at now: an auto-renewed
// monthly desktop's expiry rolls forward a month at a time; a monthly desktop past its expiry
// without auto-renewal shows asMonthExpired.
func billingView(d *Desktop, now time.Time) (int, string, string) {
	if !d.Monthly {
		return 0, farExpire, d.Status
	}
	exp, status := d.ExpireTime, d.Status
	if !now.Before(exp) {
		if d.AutoRenew {
			for i := 0; !now.Before(exp) && i < 1200; i++ {
				exp = exp.In(cst).AddDate(0, 1, 0)
			}
		} else if status == StatusRunning || status == StatusStopped {
			status = StatusMonthExpired
		}
	}
	return 1, exp.UTC().Format(expireLayout), status
}

func (s *Sim) queryVm(p *params) (any, error) {
	id := p.need("vmId")
	if p.err != nil {
		return nil, fail("10003", "云桌面id为空")
	}
	d, ok := s.w.desktops[id]
	if !ok {
		return nil, fail("10006", "对应云桌面不存在")
	}
	return s.vmView(d, p.now), nil
}

// queryVms filters by siteId, productId, billMethod ("1" monthly, "0" per-minute), email (the bound
// account's, case-insensitive), vpcId and vpcName; the reference documents no paging.
func (s *Sim) queryVms(p *params) (any, error) {
	site, _ := p.str("siteId")
	prod, _ := p.str("productId")
	bill, _ := p.str("billMethod")
	email, _ := p.str("email")
	vpcID, _ := p.str("vpcId")
	vpcName, _ := p.str("vpcName")
	if p.err != nil {
		return nil, p.err
	}
	if bill != "" && bill != "0" && bill != "1" {
		return nil, fail("10003", "计费模式可选值为1或0,1为包年包月,2为按需")
	}
	accID := ""
	if email != "" {
		a := s.w.accByEmail[strings.ToLower(email)]
		if a == nil {
			return map[string]any{"vmIds": []string{}}, nil
		}
		accID = a.ID
	}
	ids := make([]string, 0, len(s.w.desktops))
	s.w.liveDesktops(func(d *Desktop) {
		if (site != "" && d.SiteID != site) || (prod != "" && d.ProductID != prod) || (vpcID != "" && d.VPCID != vpcID) ||
			(bill == "1" && !d.Monthly) || (bill == "0" && d.Monthly) || (accID != "" && d.AccountID != accID) {
			return
		}
		if vpcName != "" {
			if v := s.w.vpcByID[d.VPCID]; v == nil || v.Name != vpcName {
				return
			}
		}
		ids = append(ids, d.ID)
	})
	return map[string]any{"vmIds": ids}, nil
}

// queryExpireVms lists monthly desktops that expire within seven days or have expired.
func (s *Sim) queryExpireVms(p *params) (any, error) {
	out := []any{}
	limit := p.now.Add(7 * 24 * time.Hour)
	s.w.liveDesktops(func(d *Desktop) {
		if !d.Monthly || d.AutoRenew || d.ExpireTime.After(limit) {
			return
		}
		bill, exp, status := billingView(d, p.now)
		out = append(out, map[string]any{"vmName": d.Name, "billMethod": bill, "expireTime": exp, "status": status})
	})
	return out, nil
}

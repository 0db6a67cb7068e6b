package sim

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskfleet/deskfleet/provider"
)

// maxRemark is the longest sub-account remark, in characters.
const maxRemark = 30

func (s *Sim) newTask(p *params, action provider.Action, req string) *Task {
	t := &Task{ID: s.newID(), RequestID: req, Action: action, Deadline: p.now.Add(s.taskDuration(action)),
		Status: TaskRunning, Fail: p.taskFail, FailError: p.taskFail && p.failError && action == provider.ActionCreateVm}
	s.w.tasks[t.ID] = t
	s.w.pending = append(s.w.pending, t.ID)
	return t
}

// hold puts a desktop in a transitional status for task t.
func hold(d *Desktop, t *Task, status string) {
	if d.TaskID == "" {
		d.PrevStatus = d.Status
	}
	d.TaskID, d.Status = t.ID, status
}

// finish applies a task whose deadline has passed. A failed CreateVm leaves all its desktops in
// status "error" (FailError), or keeps the first half (rounded down) running and removes the rest; a
// failed OperateVm keeps the first half of its desktops; other failed tasks change nothing.
// Desktops changed by the console meanwhile (TaskID no longer this task) are left alone.
func (s *Sim) finish(t *Task) {
	w := s.w
	keep := len(t.VMIDs)
	if t.Fail {
		keep = len(t.VMIDs) / 2
		t.Status = TaskFailed
		t.FailReason = fmt.Sprintf("失败子任务名称：%s,失败子任务id:%s,失败原因:平台执行失败(模拟故障)", t.Action, t.ID)
	} else {
		t.Status = TaskCompleted
	}
	for i, id := range t.VMIDs {
		d := w.desktops[id]
		if d == nil || d.TaskID != t.ID {
			continue
		}
		ok := i < keep
		d.TaskID = ""
		switch t.Action {
		case provider.ActionCreateVm:
			if t.FailError {
				d.Status, d.PrevStatus = StatusError, ""
				continue
			}
			if !ok {
				w.removeDesktop(id)
				continue
			}
			d.Status = StatusRunning
		case provider.ActionOperateVm:
			switch {
			case !ok:
				d.Status = d.PrevStatus
			case t.Op == "off":
				d.Status = StatusStopped
			default:
				d.Status = StatusRunning
			}
		case provider.ActionRebuildVm:
			d.Status = StatusStopped
			if !t.Fail {
				d.ImageID = t.ImageID
			}
		case provider.ActionDeleteVm:
			if t.Fail {
				d.Status = d.PrevStatus
				continue
			}
			w.removeDesktop(id)
			continue
		}
		d.PrevStatus = ""
	}
	if t.Fail {
		return
	}
	switch t.Action {
	case provider.ActionCreateDefaultNet:
		if w.defaultVPC(t.SiteID) == nil {
			s.makeDefaultNet(t.SiteID, t)
		}
	case provider.ActionSupplyDefaultNet:
		if v := w.defaultVPC(t.SiteID); v != nil {
			s.supplyNet(v)
		}
	}
}

var defaultDNS = []string{"119.29.29.29", "114.114.114.114"}

func (s *Sim) makeDefaultNet(site string, t *Task) {
	name := "云桌面默认VPC"
	if st := s.w.siteByID[site]; st != nil {
		name = st.CityName + "-" + name
	}
	s.w.seq++
	v := VPC{ID: s.newID(), RecordID: s.newID(), Num: 500 + s.w.seq, SiteID: site, Default: true, Name: name,
		Segment: "10.0.0.0/8", CreateTime: t.Deadline, UpdateTime: t.Deadline}
	s.w.addVPC(v)
	s.supplyNet(s.w.vpcByID[v.ID])
}

// supplyNet adds what a default net lacks: a subnet, and (unless Options.NetsWithoutGateways) a 电信
// and a 移动 gateway.
func (s *Sim) supplyNet(v *VPC) {
	if len(v.Subnets) == 0 {
		v.Subnets = append(v.Subnets, Net{ID: s.newID(), Name: "子网1", IPAddress: "10.1.0.0", Gateway: "10.1.0.1", Mask: 16,
			VlanID: strconv.Itoa(1700 + s.w.seq%300), DNS: defaultDNS})
	}
	if s.opt.NetsWithoutGateways {
		return
	}
	have := map[string]bool{}
	for _, g := range v.Gateways {
		have[g.ConfID] = true
	}
	for i, l := range s.w.lines {
		if i >= 2 {
			break
		}
		conf := strconv.Itoa(l.ConfID)
		if have[conf] {
			continue
		}
		o := 2 + len(v.Gateways)
		v.Gateways = append(v.Gateways, Net{ID: s.newID(), Name: l.ConfName + "默认网关", IPAddress: fmt.Sprintf("10.%d.0.0", o),
			Gateway: fmt.Sprintf("10.%d.0.1", o), Mask: 16, VlanID: strconv.Itoa(1400 + o), DNS: defaultDNS, ConfID: conf, ConfName: l.ConfName})
	}
}

func (s *Sim) createDefaultNet(p *params) (any, error) {
	req := p.need("requestId")
	site, err := s.siteParam(p)
	if err != nil {
		return nil, err
	}
	if s.w.defaultVPC(site) != nil {
		return nil, fail("13500", "默认网络已存在")
	}
	for _, id := range s.w.pending {
		if t := s.w.tasks[id]; t.Action == provider.ActionCreateDefaultNet && t.SiteID == site {
			return nil, fail("13500", "默认网络创建中")
		}
	}
	t := s.newTask(p, provider.ActionCreateDefaultNet, req)
	t.SiteID = site
	return map[string]any{"requestId": req, "taskId": t.ID, "requestContent": p.requestContent()}, nil
}

func (s *Sim) supplyDefaultNet(p *params) (any, error) {
	req := p.need("requestId")
	site, err := s.siteParam(p)
	if err != nil {
		return nil, err
	}
	if s.w.defaultVPC(site) == nil {
		return nil, fail("13506", "该站点无默认网络")
	}
	t := s.newTask(p, provider.ActionSupplyDefaultNet, req)
	t.SiteID = site
	return map[string]any{"requestId": req, "taskId": t.ID, "requestContent": p.requestContent()}, nil
}

// usableImage checks that image may create or rebuild a desktop of product pr at site.
func (s *Sim) usableImage(imageID string, pr *Product, site string) error {
	im := s.w.imgByID[imageID]
	if im == nil {
		// The reference's 10006 names what is missing (CreateVm: the product, RebuildVm: the
		// desktop); an image it does not know is a parameter that does not meet its requirements.
		return fail("10003", "镜像不存在")
	}
	if pr != nil && im.OSType != pr.OS {
		return fail("10003", "镜像与商品规格的操作系统不符")
	}
	for _, is := range im.Sites {
		if is.SiteID == site {
			if is.Status == ImageAvailable || is.Status == ImageUsing {
				return nil
			}
			return fail("10003", "镜像在该站点状态为"+is.Status+"，不可用")
		}
	}
	return fail("10003", "镜像在该站点不存在")
}

// countLive counts desktops matching f.
func (s *Sim) countLive(f func(*Desktop) bool) int {
	n := 0
	s.w.liveDesktops(func(d *Desktop) {
		if f(d) {
			n++
		}
	})
	return n
}

// createVm names the first desktop name and the k-th further one name_%03d(hostNo+k-1): with the
// default hostNo 1, "测试", "测试_001", "测试_002" (the reference's own example). hostNo thus numbers
// the second desktop. Both vGatewayNetId/vGatewayConfId and vgatewayNetId/vgatewayConfId are
// accepted. The reference requires them; on a VPC without any gateway (the API's later versions)
// none is accepted and the desktop has no EIP and no publicIp, but on a VPC that has gateways both
// are required (10003). num has no limit but the quotas and the product's capacity.
func (s *Sim) createVm(p *params) (any, error) {
	req, site, prodID := p.need("requestId"), p.need("siteId"), p.need("productId")
	name, imageID, vpcID, subnetID := p.need("name"), p.need("imageId"), p.need("vpcId"), p.need("subnetNetId")
	qos := p.intOpt("qos", 0, 1)
	p.need("qos")
	gwID := p.opt("vGatewayNetId", p.opt("vgatewayNetId", ""))
	gwConf := p.opt("vGatewayConfId", p.opt("vgatewayConfId", ""))
	num := p.intOpt("num", 1, 1)
	hostNo := p.intOpt("hostNo", 1, 1)
	cycle := p.opt("billCycle", "minute")
	duration := p.intOpt("duration", 1, 1)
	toMonth := p.flag("isToMonth", false)
	autoRenew := p.flag("isAutoRenewal", false)
	p.flag("priceToMonth", false)
	p.str("moneyType")
	p.str("subAccountId")
	if p.err != nil {
		return nil, p.err
	}
	if cycle != "minute" && cycle != "month" {
		return nil, fail("10003", "计费周期可选值为minute或month")
	}
	if s.w.siteByID[site] == nil {
		return nil, fail("10006", "无对应站点信息")
	}
	pr := s.w.prodKey[prodID+"|"+site]
	if pr == nil {
		return nil, fail("10006", "无对应商品信息")
	}
	if err := s.usableImage(imageID, pr, site); err != nil {
		return nil, err
	}
	vpc := s.w.vpcByID[vpcID]
	if vpc == nil || vpc.SiteID != site {
		return nil, fail("13505", "vpc不存在")
	}
	var subnet *Net
	for i := range vpc.Subnets {
		if vpc.Subnets[i].ID == subnetID {
			subnet = &vpc.Subnets[i]
		}
	}
	if subnet == nil {
		return nil, fail("13505", "子网不存在")
	}
	var gw *Net
	if len(vpc.Gateways) > 0 && (gwID == "" || gwConf == "") {
		return nil, fail("10003", "缺少参数vGatewayNetId或vGatewayConfId")
	}
	if gwID != "" || gwConf != "" {
		for i := range vpc.Gateways {
			if vpc.Gateways[i].ID == gwID {
				gw = &vpc.Gateways[i]
			}
		}
		if gw == nil || (gwConf != "" && gwConf != gw.ConfID) {
			return nil, fail("13505", "虚拟出网网关不存在或conf_id不符")
		}
	}
	monthly := cycle == "month"
	if q := s.monthlyQuota(); monthly && q > 0 && s.countLive(func(d *Desktop) bool { return d.Monthly })+num > q {
		return nil, fail("12501", "")
	}
	if q := s.onDemandQuota(); !monthly && q > 0 && s.countLive(func(d *Desktop) bool { return !d.Monthly })+num > q {
		return nil, fail("12502", "")
	}
	if pr.Capacity > 0 && s.countLive(func(d *Desktop) bool { return d.SiteID == site && d.ProductID == prodID })+num > pr.Capacity {
		return nil, fail("13000", "")
	}
	t := s.newTask(p, provider.ActionCreateVm, req)
	for k := range num {
		n := name
		if k > 0 {
			n = fmt.Sprintf("%s_%03d", name, hostNo+k-1)
		}
		d := Desktop{ID: s.newID(), Name: n, SiteID: site, ProductID: prodID, ImageID: imageID, VPCID: vpcID, SubnetID: subnetID,
			Qos: qos, Status: StatusConfiguring, TaskID: t.ID, PrevStatus: StatusConfiguring, Monthly: monthly, AutoRenew: monthly && autoRenew}
		if monthly {
			d.ExpireTime = monthEnd(p.now, duration, toMonth)
		}
		s.address(&d, subnet, gw)
		s.w.addDesktop(d)
		t.VMIDs = append(t.VMIDs, d.ID)
	}
	return map[string]any{"requestId": req, "taskId": t.ID, "vmIds": t.VMIDs, "requestContent": p.requestContent()}, nil
}

// address gives a new desktop its private IP, and with a gateway its EIP and gateway-side IP.
func (s *Sim) address(d *Desktop, subnet *Net, gw *Net) {
	s.w.seq++
	subnet.Used++
	d.PrivateIP = fmt.Sprintf("vlan%s:%s", subnet.VlanID, hostIP(subnet.IPAddress, subnet.Used+1))
	if gw != nil {
		gw.Used++
		d.GatewayID = gw.ID
		d.PublicIP = hostIP(gw.IPAddress, gw.Used+1)
		d.EIP = fmt.Sprintf("%s:120.226.%d.%d", gw.ConfName, (s.w.seq/250)%250, s.w.seq%250+2)
	}
}

// hostIP returns the n-th address after a /16 network address such as 10.1.0.0.
func hostIP(network string, n int) string {
	parts := strings.Split(network, ".")
	if len(parts) != 4 {
		return network
	}
	return fmt.Sprintf("%s.%s.%d.%d", parts[0], parts[1], (n/256)%256, n%256)
}

func (s *Sim) vms(ids []string, missing string) ([]*Desktop, error) {
	out := make([]*Desktop, 0, len(ids))
	for _, id := range ids {
		d := s.w.desktops[id]
		if d == nil {
			return nil, fail(missing, "对应云桌面不存在: "+id)
		}
		out = append(out, d)
	}
	return out, nil
}

// operateVm is all-or-nothing at request time: an unknown desktop is 10006, a desktop in a
// transitional status (or not running for reboot, or in an error/expired status) is 13002.
// "on" for a running desktop and "off" for a stopped one are accepted and pass through
// starting/stoping as well.
func (s *Sim) operateVm(p *params) (any, error) {
	req, op, ids := p.need("requestId"), p.need("action"), p.list("vmIds")
	if p.err != nil {
		return nil, p.err
	}
	trans := map[string]string{"on": StatusStarting, "off": StatusStopping, "reboot": StatusRebooting}[op]
	if trans == "" {
		return nil, fail("10006", "暂不支持该操作")
	}
	ds, err := s.vms(ids, "10006")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		st := s.status(d, p.now)
		if st != StatusRunning && st != StatusStopped || (op == "reboot" && st != StatusRunning) {
			return nil, fail("13002", "云桌面"+d.ID+"当前状态"+st+"不可操作")
		}
	}
	t := s.newTask(p, provider.ActionOperateVm, req)
	t.Op = op
	for _, d := range ds {
		hold(d, t, trans)
		t.VMIDs = append(t.VMIDs, d.ID)
	}
	return map[string]any{"requestId": req, "taskId": t.ID, "vmIds": ids, "requestContent": p.requestContent()}, nil
}

func (s *Sim) rebuildVm(p *params) (any, error) {
	req, id, imageID := p.need("requestId"), p.need("vmId"), p.need("imageId")
	if p.err != nil {
		return nil, p.err
	}
	d := s.w.desktops[id]
	if d == nil {
		return nil, fail("10006", "无对应云桌面信息")
	}
	// Busy, expired or in error: not stopped, so 13004 (the reference's code for any state but
	// stopped), not OperateVm's 13002.
	if st := s.status(d, p.now); st != StatusStopped {
		return nil, fail("13004", "当前状态为"+st)
	}
	if err := s.usableImage(imageID, s.w.prodKey[d.ProductID+"|"+d.SiteID], d.SiteID); err != nil {
		return nil, err
	}
	t := s.newTask(p, provider.ActionRebuildVm, req)
	t.ImageID = imageID
	t.VMIDs = []string{id}
	hold(d, t, StatusConfiguring)
	return map[string]any{"requestId": req, "taskId": t.ID, "vmId": id, "requestContent": "vmId=" + id}, nil
}

func (s *Sim) deleteVm(p *params) (any, error) {
	req, id := p.need("requestId"), p.need("vmId")
	if p.err != nil {
		return nil, p.err
	}
	d := s.w.desktops[id]
	if d == nil {
		return nil, fail("10006", "云桌面不存在")
	}
	if busyStatus[d.Status] {
		return nil, fail("13002", "云桌面操作中")
	}
	t := s.newTask(p, provider.ActionDeleteVm, req)
	t.VMIDs = []string{id}
	hold(d, t, StatusDeleting)
	return map[string]any{"requestId": req, "taskId": t.ID, "vmId": id, "requestContent": p.requestContent()}, nil
}

func (s *Sim) changeVmName(p *params) (any, error) {
	p.need("requestId")
	id, name := p.need("vmId"), p.need("name")
	if p.err != nil {
		return nil, p.err
	}
	d := s.w.desktops[id]
	if d == nil {
		return nil, fail("10006", "云桌面不存在")
	}
	d.Name = name
	return nil, nil
}

func (s *Sim) updateVmLabels(p *params) (any, error) {
	p.need("requestId")
	ids, label := p.list("vmIds"), p.present("label")
	if p.err != nil {
		return nil, p.err
	}
	ds, err := s.vms(ids, "13015")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		d.Label = label
	}
	return nil, nil
}

// readyAccount returns the account if it exists and has finished creating; code is the error for
// one that has not.
func (s *Sim) readyAccount(id, code string) (*Account, error) {
	a := s.w.accByID[id]
	if a == nil {
		return nil, fail("10003", "账户不存在")
	}
	if a.Status != AccountCreated {
		return nil, fail(code, "账户状态为"+a.Status)
	}
	return a, nil
}

// bindable applies the binding rule: an unbound desktop may be bound running or stopped; a bound
// one may be re-bound only when stopped.
func bindable(d *Desktop, status, accountID string) bool {
	if status != StatusRunning && status != StatusStopped {
		return false
	}
	return d.AccountID == "" || d.AccountID == accountID || status == StatusStopped
}

func (s *Sim) changeAccount(p *params) (any, error) {
	p.need("requestId")
	id, accID := p.need("vmId"), p.need("accountId")
	if p.err != nil {
		return nil, p.err
	}
	d := s.w.desktops[id]
	if d == nil {
		return nil, fail("10003", "云桌面不存在")
	}
	if _, err := s.readyAccount(accID, "13011"); err != nil {
		return nil, err
	}
	if !bindable(d, s.status(d, p.now), accID) {
		return nil, fail("13011", "对于已经绑定用户的云桌面仅在已关机的状态下可以换绑用户")
	}
	d.AccountID = accID
	return nil, nil
}

func (s *Sim) bindAccounts(p *params) (any, error) {
	p.need("requestId")
	ids, accID := p.list("vmIds"), p.need("accountId")
	if p.err != nil {
		return nil, p.err
	}
	if _, err := s.readyAccount(accID, "13013"); err != nil {
		return nil, err
	}
	ds, err := s.vms(ids, "10003")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if !bindable(d, s.status(d, p.now), accID) {
			return nil, fail("13013", "云桌面"+d.ID+"当前状态"+s.status(d, p.now)+"，已绑定其他用户的云桌面仅在已关机状态下可换绑")
		}
	}
	for _, d := range ds {
		d.AccountID = accID
	}
	return nil, nil
}

func (s *Sim) unbindAccounts(p *params) (any, error) {
	p.need("requestId")
	ids := p.list("vmIds")
	if p.err != nil {
		return nil, p.err
	}
	ds, err := s.vms(ids, "10003")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if s.status(d, p.now) != StatusStopped {
			return nil, fail("13012", "仅支持已关机状态的云桌面执行解绑用户操作")
		}
	}
	for _, d := range ds {
		d.AccountID = ""
	}
	return nil, nil
}

// orderResult is the Data of UpdateOrder and RenewalOrder.
func orderResult(p *params, req string, ok, failed []string, msg string) map[string]any {
	return map[string]any{"successVmIds": ok, "failedVmIds": failed, "failedMsg": msg, "requestId": req, "requestContent": p.requestContent()}
}

// updateOrder converts per-minute desktops to monthly. Request-level errors (nothing done): unknown
// desktop 10006, a desktop already monthly 12503, monthly quota already full 12501. Per item
// (failedVmIds): desktops not running or stopped (in a transition or in error: the reference is
// silent, the worst case is a partial success the caller must read), desktops beyond the remaining
// quota, and the second half under an injected task failure.
func (s *Sim) updateOrder(p *params) (any, error) {
	req, ids := p.need("requestId"), p.list("vmIds")
	toMonth := p.flag("isToMonth", false)
	duration := p.intOpt("duration", 1, 1)
	autoRenew := p.flag("isAutoRenewal", false)
	if p.err != nil {
		return nil, p.err
	}
	ds, err := s.vms(ids, "10006")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Monthly {
			return nil, fail("12503", "")
		}
	}
	room := len(ds)
	if q := s.monthlyQuota(); q > 0 {
		room = q - s.countLive(func(d *Desktop) bool { return d.Monthly })
		if room <= 0 {
			return nil, fail("12501", "")
		}
	}
	okIDs, failed, msg := []string{}, []string{}, ""
	for i, d := range ds {
		switch {
		case !settledStatus(d.Status):
			failed, msg = append(failed, d.ID), "云桌面"+d.ID+"当前状态"+d.Status+"不可转包月"
		case i >= room:
			failed, msg = append(failed, d.ID), errText["12501"]
		case p.taskFail && i >= len(ds)/2:
			failed, msg = append(failed, d.ID), "云桌面订按需转包年包月失败"
		default:
			d.Monthly, d.AutoRenew, d.ExpireTime = true, autoRenew, monthEnd(p.now, duration, toMonth)
			okIDs = append(okIDs, d.ID)
		}
	}
	return orderResult(p, req, okIDs, failed, msg), nil
}

// renewalOrder extends monthly desktops from their expiry (or from now, when already expired).
// A per-minute desktop in the list is 12504 for the whole request. Per item (failedVmIds): desktops
// in a transition or in error (an expired one may be renewed: that is how it comes back), and the
// second half under an injected task failure.
func (s *Sim) renewalOrder(p *params) (any, error) {
	req, ids := p.need("requestId"), p.list("vmIds")
	duration := p.intOpt("duration", 1, 1)
	p.flag("priceToMonth", false)
	toMonth := p.flag("isToMonth", false)
	autoRenew := p.flag("isAutoRenewal", true)
	if p.err != nil {
		return nil, p.err
	}
	ds, err := s.vms(ids, "10006")
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if !d.Monthly {
			return nil, fail("12504", "")
		}
	}
	okIDs, failed, msg := []string{}, []string{}, ""
	for i, d := range ds {
		if busyStatus[d.Status] || d.Status == StatusError || (p.taskFail && i >= len(ds)/2) {
			failed, msg = append(failed, d.ID), "订单更新续约失败"
			continue
		}
		base := d.ExpireTime
		if base.Before(p.now) {
			base = p.now
		}
		d.ExpireTime, d.AutoRenew = monthEnd(base, duration, toMonth), autoRenew
		okIDs = append(okIDs, d.ID)
	}
	return orderResult(p, req, okIDs, failed, msg), nil
}

// checkAccount validates one new sub-account; it returns the problem's text or "".
func (s *Sim) checkAccount(name, email, remark string, batch map[string]bool) string {
	switch {
	case strings.TrimSpace(name) == "" || strings.TrimSpace(email) == "":
		return "用户名称与邮箱不能为空"
	case utf8.RuneCountInString(remark) > maxRemark:
		return "子账户备注长度应长度不大于30位，支持汉字、英文、数字、符号"
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return "邮箱格式不正确"
	}
	if s.w.accByEmail[strings.ToLower(email)] != nil || batch[strings.ToLower(email)] {
		return "邮箱已存在"
	}
	return ""
}

func (s *Sim) addNewAccount(p *params, name, email, remark string) {
	s.w.addAccount(Account{ID: s.newID(), Name: name, Email: email, Remark: remark, Status: AccountCreating,
		ReadyAt: p.now.Add(s.taskDuration(provider.ActionCreateSubAccount)), Fail: p.taskFail})
}

// createSubAccount: remark over 30 characters or a bad email is 10003, a taken email 11000. The
// account starts "creating".
func (s *Sim) createSubAccount(p *params) (any, error) {
	p.need("requestId")
	email, name := p.need("email"), p.need("name")
	remark, _ := p.str("remark")
	if p.err != nil {
		return nil, p.err
	}
	if msg := s.checkAccount(name, email, remark, nil); msg != "" {
		code := "10003"
		if msg == "邮箱已存在" {
			code = "11000"
		}
		return nil, fail(code, msg)
	}
	s.addNewAccount(p, name, email, remark)
	return nil, nil
}

// createSubAccounts reports each rejected item in failedMsgs with the reference's key "messsage".
func (s *Sim) createSubAccounts(p *params) (any, error) {
	p.need("requestId")
	items := p.objects("createAccountParams")
	if p.err != nil {
		return nil, p.err
	}
	str := func(m map[string]any, k string) (string, bool) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", true
		}
		s, isStr := v.(string)
		return s, isStr
	}
	type item struct{ name, email, remark string }
	var list []item
	for _, m := range items {
		for k := range m {
			if k != "name" && k != "email" && k != "remark" {
				return nil, fail("10003", "createAccountParams中不支持的参数"+k)
			}
		}
		n, ok1 := str(m, "name")
		e, ok2 := str(m, "email")
		r, ok3 := str(m, "remark")
		if !ok1 || !ok2 || !ok3 {
			return nil, fail("10003", "createAccountParams的值须为字符串")
		}
		list = append(list, item{n, e, r})
	}
	batch := map[string]bool{}
	failed := []any{}
	okN := 0
	for _, it := range list {
		if msg := s.checkAccount(it.name, it.email, it.remark, batch); msg != "" {
			failed = append(failed, map[string]any{"name": it.name, "email": it.email, "remark": it.remark, "messsage": msg})
			continue
		}
		batch[strings.ToLower(it.email)] = true
		s.addNewAccount(p, it.name, it.email, it.remark)
		okN++
	}
	return map[string]any{"failedNum": len(failed), "successNum": okN, "failedMsgs": failed}, nil
}

func (s *Sim) changeSubAccountName(p *params) (any, error) {
	p.need("requestId")
	email, name := p.need("email"), p.need("name")
	if p.err != nil {
		return nil, p.err
	}
	a := s.w.accByEmail[strings.ToLower(email)]
	if a == nil {
		return nil, fail("10006", "无对应账户")
	}
	a.Name = name
	return nil, nil
}

func (s *Sim) changeSubAccountRemark(p *params) (any, error) {
	p.need("requestId")
	emails, remark := p.list("emails"), p.present("remark")
	if p.err != nil {
		return nil, p.err
	}
	if utf8.RuneCountInString(remark) > maxRemark {
		return nil, fail("10003", "子账户备注长度应长度不大于30位，支持汉字、英文、数字、符号")
	}
	var as []*Account
	for _, e := range emails {
		a := s.w.accByEmail[strings.ToLower(e)]
		if a == nil {
			return nil, fail("10006", "无对应账户: "+e)
		}
		as = append(as, a)
	}
	for _, a := range as {
		a.Remark = remark
	}
	return nil, nil
}

// status is a desktop's status as the API shows it at now: its own, or asMonthExpired for a monthly
// desktop past its term without auto-renewal (see billingView). The rules judge this one: an expired
// desktop is neither running nor stopped, whatever it was before.
func (s *Sim) status(d *Desktop, now time.Time) string {
	_, _, st := billingView(d, now)
	return st
}

// settledStatus reports a status in which billing may change: running or stopped.
func settledStatus(st string) bool { return st == StatusRunning || st == StatusStopped }

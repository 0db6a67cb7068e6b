package sim

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskfleet/deskfleet/provider"
)

// errText holds the reference's error messages by code.
var errText = map[string]string{
	"10003": "传入参数不符合要求",
	"10005": "账户数据异常",
	"10006": "参数错误",
	"10007": "当前账户权限不足",
	"11000": "创建用户错误",
	"11003": "批量创建用户失败",
	"12000": "查询商品规格信息失败",
	"12501": "当前用户包月购买已达配额上限，请修改计费方式或联系销售人员增加包月配额",
	"12502": "当前用户按需购买已达配额上限，请修改计费方式或联系销售人员增加按需配额",
	"12503": "该接口只能修改按需计费为包年包月，不可修改包年包月状态，修改包年包月请调用续约接口",
	"12504": "该接口只用于续约包年包月，按需转包年包月请调用修改计费方案接口",
	"12500": "订单更新续约失败",
	"12505": "查询云桌面价格失败",
	"12506": "云桌面订按需转包年包月失败",
	"13000": "当前资源不足",
	"13001": "GPU云桌面实例创建失败",
	"13002": "GPU云桌面执行操作失败",
	"13004": "当前状态无法重装，仅支持关机状态的云桌面进行重装",
	"13011": "换绑GPU云桌面实例失败",
	"13012": "解绑GPU云桌面实例失败",
	"13013": "绑定GPU云桌面实例失败",
	"13015": "更新云桌面备注失败",
	"13500": "一键创建失败",
	"13503": "获取eip价格失败",
	"13505": "校验网络信息失败",
	"13506": "补全vpc网络失败",
}

// apiError is an API-level error: HTTP 200 with Code/Message in the envelope.
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + " " + e.Message }

// fail returns the error for code, its message followed by detail (as the reference's
// descriptions read: "参数错误，对应云桌面不存在").
func fail(code, detail string) *apiError {
	m := errText[code]
	if detail != "" {
		m += "，" + detail
	}
	return &apiError{Code: code, Message: m}
}

// params reads an action's parameters: from the query for GET, from the JSON body for POST. The
// first problem is kept in err (always a 10003) and later reads return zero values.
type params struct {
	get       bool
	q         url.Values
	body      map[string]any
	err       error
	now       time.Time
	taskFail  bool
	failError bool // a failed CreateVm leaves its desktops in "error"
}

// isCommon reports a parameter every request may carry in its query string: Action and the
// signature's common parameters.
func isCommon(k string) bool { return k == "Action" || slices.Contains(commonParams, k) }

// newParams checks where the parameters are and reads them. Always enforced, whatever the keys
// (each a 10003, the reference's code for a request that does not meet its requirements):
//   - GET: the action's parameters in the query string, no request body;
//   - POST: Content-Type application/json, the action's parameters in a JSON object body, only the
//     common parameters in the query string;
//   - a parameter the reference does not list for the action, or one given twice in the query.
func newParams(r *http.Request, spec actionSpec, q url.Values, body []byte) (*params, error) {
	p := &params{get: r.Method == http.MethodGet, q: q}
	listed := func(k string) bool { return slices.Contains(spec.params, k) }
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case len(q[k]) > 1:
			return nil, fail("10003", "参数"+k+"重复")
		case isCommon(k):
		case !p.get && listed(k):
			return nil, fail("10003", "参数"+k+"须在JSON请求体中，URL只带公共参数")
		case !p.get || !listed(k):
			return nil, fail("10003", "不支持的参数"+k)
		}
	}
	if p.get {
		if len(body) > 0 {
			return nil, fail("10003", "GET请求不可带请求体，参数须在URL中")
		}
		return p, nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, fail("10003", "Content-Type须为application/json")
	}
	p.body = map[string]any{}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p.body); err != nil || p.body == nil {
		return nil, fail("10003", "请求体不是JSON对象")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("10003", "请求体在JSON对象之后还有内容")
	}
	for _, k := range slices.Sorted(maps.Keys(p.body)) {
		if !listed(k) {
			return nil, fail("10003", "不支持的参数"+k)
		}
	}
	return p, nil
}

func (p *params) setErr(format string, a ...any) {
	if p.err == nil {
		p.err = fail("10003", fmt.Sprintf(format, a...))
	}
}

// str returns a string parameter and whether it was present. A non-string JSON value is a 10003.
func (p *params) str(k string) (string, bool) {
	if p.get {
		if _, ok := p.q[k]; !ok {
			return "", false
		}
		return p.q.Get(k), true
	}
	v, ok := p.body[k]
	if !ok || v == nil {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		p.setErr("参数%s须为字符串", k)
		return "", false
	}
	return s, true
}

// need returns a required, non-empty string parameter.
func (p *params) need(k string) string {
	v, ok := p.str(k)
	if !ok || strings.TrimSpace(v) == "" {
		p.setErr("缺少参数%s", k)
	}
	return v
}

// present returns a required string parameter that may be empty (label, remark).
func (p *params) present(k string) string {
	v, ok := p.str(k)
	if !ok {
		p.setErr("缺少参数%s", k)
	}
	return v
}

func (p *params) opt(k, def string) string {
	if v, ok := p.str(k); ok && v != "" {
		return v
	}
	return def
}

// intOpt returns an optional integer-in-a-string parameter, at least lo.
func (p *params) intOpt(k string, def, lo int) int {
	v, ok := p.str(k)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		p.setErr("参数%s取值无效", k)
		return def
	}
	return n
}

// flag returns an optional "0"/"1" parameter.
func (p *params) flag(k string, def bool) bool {
	v, ok := p.str(k)
	if !ok || v == "" {
		return def
	}
	switch v {
	case "1":
		return true
	case "0":
		return false
	}
	p.setErr("参数%s可选值为0或1", k)
	return def
}

// list returns a required, non-empty array of strings.
func (p *params) list(k string) []string {
	if p.get {
		p.setErr("参数%s须在请求体中", k)
		return nil
	}
	raw, ok := p.body[k].([]any)
	if !ok || len(raw) == 0 {
		p.setErr("参数%s须为非空数组", k)
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, ok := v.(string)
		if !ok || s == "" {
			p.setErr("参数%s的元素须为字符串", k)
			return nil
		}
		out = append(out, s)
	}
	return out
}

// objects returns a required, non-empty array of JSON objects.
func (p *params) objects(k string) []map[string]any {
	raw, ok := p.body[k].([]any)
	if p.get || !ok || len(raw) == 0 {
		p.setErr("参数%s须为非空数组", k)
		return nil
	}
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			p.setErr("参数%s的元素须为对象", k)
			return nil
		}
		out = append(out, m)
	}
	return out
}

// requestContent echoes the request's parameters as the reference's requestContent string.
func (p *params) requestContent() string {
	var m any = p.body
	if p.get {
		return p.q.Encode()
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// commonParams are the parameters every signed request must carry.
var commonParams = []string{"AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Version", "Signature"}

// verify checks the signature when keys are configured. Failures are HTTP 403 with a
// {"Code","Message","Data":null} body (see the package comment). A nonce is remembered only once
// the signature is good, for TimestampWindow; with a DataFile it is also appended to the nonce
// journal and the nonces other Sims journaled are taken in first. Caller holds s.mu and has
// acquired.
func (s *Sim) verify(method string, q url.Values, now time.Time) (reply, bool) {
	if len(s.opt.Keys) == 0 {
		return reply{}, true
	}
	deny := func(code, msg string) (reply, bool) { return plainError(http.StatusForbidden, code, msg), false }
	for _, k := range commonParams {
		if q.Get(k) == "" {
			return deny("MissingParameter", "missing common parameter "+k)
		}
	}
	ak := q.Get("AccessKeyId")
	secret, ok := s.opt.Keys[ak]
	if !ok {
		return deny("InvalidAccessKeyId", "unknown AccessKeyId")
	}
	if q.Get("SignatureMethod") != provider.SignatureMethod || q.Get("SignatureVersion") != provider.SignatureVersion ||
		q.Get("Version") != provider.APIVersion {
		return deny("SignatureDoesNotMatch", "unsupported SignatureMethod, SignatureVersion or Version")
	}
	ts, err := time.Parse(provider.TimestampLayout, q.Get("Timestamp"))
	if err != nil {
		return deny("InvalidTimestamp", "Timestamp must be "+provider.TimestampLayout)
	}
	if d := now.Sub(ts); d > s.opt.TimestampWindow || d < -s.opt.TimestampWindow {
		return deny("InvalidTimestamp", "Timestamp outside the accepted window")
	}
	want := provider.Sign(method, q, secret)
	if !hmac.Equal([]byte(want), []byte(q.Get("Signature"))) {
		return deny("SignatureDoesNotMatch", "signature does not match")
	}
	st := s.store
	if st != nil {
		err := st.syncNonces(func(key string, at time.Time) {
			s.nonces[key] = at
			s.nonceQ = append(s.nonceQ, nonceEntry{key, at})
		}, func() { s.nonces, s.nonceQ = map[string]time.Time{}, nil })
		if err != nil {
			return plainError(http.StatusInternalServerError, "InternalError", "nonce journal: "+err.Error()), false
		}
	}
	for len(s.nonceQ) > 0 && now.Sub(s.nonceQ[0].at) > s.opt.TimestampWindow {
		if s.nonces[s.nonceQ[0].key].Equal(s.nonceQ[0].at) {
			delete(s.nonces, s.nonceQ[0].key)
		}
		s.nonceQ = s.nonceQ[1:]
	}
	key := ak + "\x00" + q.Get("SignatureNonce")
	if _, used := s.nonces[key]; used {
		return deny("SignatureNonceUsed", "SignatureNonce already used")
	}
	s.nonces[key] = now
	s.nonceQ = append(s.nonceQ, nonceEntry{key, now})
	if st != nil {
		if err := st.appendNonce(key, now); err != nil {
			return plainError(http.StatusInternalServerError, "InternalError", "nonce journal: "+err.Error()), false
		}
		_ = st.compactNonces(s.nonceQ)
	}
	return reply{}, true
}

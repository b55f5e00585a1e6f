package ipass

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field limits of 3.3, in Unicode code points.
const (
	maxMerchantID     = 64
	maxUserID         = 32 // userId and openId
	maxTemplateCode   = 64
	maxPassID         = 32
	maxBizSerialID    = 128
	maxEnum           = 32 // bizSerialType, type, product, status, updateDetailType
	maxPassVerifyCode = 128
)

// MaxBizDateAhead is how far past the server clock a bizDate may lie (5.1
// [decision]): room for clock skew, not for post-dated updates.
const MaxBizDateAhead = 24 * time.Hour

// BizSerialTypeOutPlatform is the only accepted bizSerialType.
const BizSerialTypeOutPlatform = "OUT_PLAT_FORM"

// present returns the raw value of name, or false when it is absent or null
// (3.1: top-level null = absent).
func (b Body) present(name string) (json.RawMessage, bool) {
	raw, ok := b[name]
	if !ok || jsonKind(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// str returns the string field name, "" when absent, null or empty (3.1).
// ident marks identifier fields, which may not hold control characters.
func (b Body) str(name string, max int, ident bool) (string, error) {
	raw, ok := b.present(name)
	if !ok {
		return "", nil
	}
	if k := jsonKind(raw); k != "string" {
		return "", Errorf(CodeParamIllegal, "%s: must be a JSON string, not %s", Field(name), article(k))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", Errorf(CodeParamIllegal, "%s: invalid string", Field(name))
	}
	if s == "" {
		return "", nil
	}
	if utf8.RuneCountInString(s) > max {
		return "", Errorf(CodeParamIllegal, "%s: longer than %d characters", Field(name), max)
	}
	if ident && hasControl(s) {
		return "", Errorf(CodeParamIllegal, "%s: contains a control character", Field(name))
	}
	return s, nil
}

// requiredStr is str for a mandatory field: absent, null and "" are missing.
func (b Body) requiredStr(name string, max int, ident bool) (string, error) {
	s, err := b.str(name, max, ident)
	if err == nil && s == "" {
		err = Errorf(CodeParamIllegal, "%s is required", Field(name))
	}
	return s, err
}

// enum returns the string field name, which must be one of allowed
// (case-sensitive, 3.1); "" when absent.
func (b Body) enum(name string, allowed ...string) (string, error) {
	s, err := b.str(name, maxEnum, true)
	if err != nil || s == "" {
		return s, err
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", Errorf(CodeParamIllegal, "%s: %q is not one of %s", Field(name), clip(s, maxEnum), Field(strings.Join(allowed, ", ")))
}

// numberText returns the text of field name when it is a JSON number or a
// string (the timestamp fields, 3.2, and the counts of queryPassHistory take
// either), and false when it is absent, null or "" (optional empty string =
// absent, 3.1). Any other JSON kind is refused as "must be " + want.
func (b Body) numberText(name, want string) (string, bool, error) {
	raw, ok := b.present(name)
	if !ok {
		return "", false, nil
	}
	switch k := jsonKind(raw); k {
	case "number":
		return string(raw), true, nil
	case "string":
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", false, Errorf(CodeParamIllegal, "%s: invalid string", Field(name))
		}
		return text, text != "", nil
	default:
		return "", false, Errorf(CodeParamIllegal, "%s: must be %s, not %s", Field(name), want, article(k))
	}
}

// millis returns the timestamp field name (3.2), 0 when absent.
func (b Body) millis(name string) (int64, error) {
	text, ok, err := b.numberText(name, "epoch milliseconds as a JSON integer or digit string")
	if !ok || err != nil {
		return 0, err
	}
	ms, ok := parseMillis(text)
	if !ok {
		return 0, Errorf(CodeParamIllegal, "%s: must be epoch milliseconds with exactly 13 digits (got %q)%s", Field(name), clip(text, 32), EpochSecondsHint(text))
	}
	return ms, nil
}

// requiredMillis is millis for a mandatory field.
func (b Body) requiredMillis(name string) (int64, error) {
	ms, err := b.millis(name)
	if err == nil && ms == 0 {
		err = Errorf(CodeParamIllegal, "%s is required", Field(name))
	}
	return ms, err
}

// parseMillis accepts exactly 13 ASCII digits without a leading zero, i.e.
// 1,000,000,000,000 – 9,999,999,999,999 ms. Seconds (10 digits), fractions,
// signs, exponents and date strings all fail.
func parseMillis(s string) (int64, bool) {
	if len(s) != 13 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// hasControl reports whether s holds U+0000–U+001F or U+007F.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7F {
			return true
		}
	}
	return false
}

// MerchantID returns the mandatory merchantId (G14 syntax): a JSON string of
// at most 64 characters without control characters.
func (b Body) MerchantID() (string, error) {
	return b.requiredStr("merchantId", maxMerchantID, true)
}

// Identity is the user a request names: userId, openId, or both (3.8).
type Identity struct {
	UserID string // "" if not given
	OpenID string // "" if not given
}

func (b Body) identity() (Identity, error) {
	var id Identity
	var err error
	if id.UserID, err = b.str("userId", maxUserID, true); err != nil {
		return id, err
	}
	if id.OpenID, err = b.str("openId", maxUserID, true); err != nil {
		return id, err
	}
	return id, nil
}

// Given reports whether userId or openId was given.
func (id Identity) Given() bool { return id.UserID != "" || id.OpenID != "" }

func (b Body) requiredIdentity() (Identity, error) {
	id, err := b.identity()
	if err == nil && !id.Given() {
		err = Errorf(CodeParamIllegal, "userId or openId is required")
	}
	return id, err
}

// dataInfo parses the optional dataInfo field (3.6 shape); nil when absent.
func (b Body) dataInfo(allowNull bool) (*DataInfoInput, error) {
	raw, ok := b.present("dataInfo")
	if !ok {
		return nil, nil
	}
	return ParseDataInfo(raw, allowNull)
}

// codeInfo parses the optional codeInfo field (3.7 shape); nil when absent.
func (b Body) codeInfo() (*CodeInfo, error) {
	raw, ok := b.present("codeInfo")
	if !ok {
		return nil, nil
	}
	return ParseCodeInfo(raw)
}

// CreateRequest is a createPass body after field syntax checks (4.1, step 1
// of 4.3). It is not yet checked against the template or the users.
type CreateRequest struct {
	MerchantID    string
	Identity      Identity
	TemplateCode  string
	BizSerialID   string
	BizSerialType string
	StartDate     int64
	EndDate       int64
	BizCreate     int64
	Type          PassType       // "" = the template's
	Product       Product        // "" = the template's
	CodeInfo      *CodeInfo      // nil = not given; $codemsg$ already defaulted
	DataInfo      *DataInfoInput // nil = not given
}

// ParseCreateRequest checks the syntax of every createPass field (step 1 of
// 4.3) in table order; the first failure is returned as PARAM_ILLEGAL.
func ParseCreateRequest(b Body) (*CreateRequest, error) {
	r := &CreateRequest{}
	var err error
	if r.MerchantID, err = b.MerchantID(); err != nil {
		return nil, err
	}
	if r.Identity, err = b.requiredIdentity(); err != nil {
		return nil, err
	}
	if r.TemplateCode, err = b.requiredStr("templateCode", maxTemplateCode, true); err != nil {
		return nil, err
	}
	if r.BizSerialID, err = b.requiredStr("bizSerialId", maxBizSerialID, true); err != nil {
		return nil, err
	}
	if r.BizSerialType, err = b.enum("bizSerialType", BizSerialTypeOutPlatform); err != nil {
		return nil, err
	}
	if r.BizSerialType == "" {
		return nil, Errorf(CodeParamIllegal, "bizSerialType is required")
	}
	if r.StartDate, err = b.requiredMillis("startDate"); err != nil {
		return nil, err
	}
	if r.EndDate, err = b.requiredMillis("endDate"); err != nil {
		return nil, err
	}
	if r.BizCreate, err = b.requiredMillis("bizCreate"); err != nil {
		return nil, err
	}
	typ, err := b.enum("type", string(TypeCard), string(TypeCoupon), string(TypeTicket))
	if err != nil {
		return nil, err
	}
	r.Type = PassType(typ)
	prod, err := b.enum("product", productNames()...)
	if err != nil {
		return nil, err
	}
	r.Product = Product(prod)
	if r.CodeInfo, err = b.codeInfo(); err != nil {
		return nil, err
	}
	if r.DataInfo, err = b.dataInfo(false); err != nil {
		return nil, err
	}
	return r, nil
}

// productNames lists the products of 3.4 in a fixed order for messages.
func productNames() []string {
	return []string{
		string(ProductMemberCard), string(ProductGiftCard), string(ProductCoupon),
		string(ProductPass), string(ProductMovie), string(ProductAirTicket),
		string(ProductTrainTicket), string(ProductBusTicket), string(ProductShipTicket),
	}
}

// updateKindNames lists the known updateDetailType values (3.4) for messages.
func updateKindNames() []string {
	return []string{
		string(UpdateMemberCard), string(UpdateDataInfo), string(UpdateValidity),
		string(UpdatePass), string(UpdateMovie), string(UpdateAirTicket),
		string(UpdateTrainTicket), string(UpdateBusTicket), string(UpdateShipTicket),
		string(UpdateTemplate), string(UpdateLevel),
	}
}

// UpdateRequest is an updatePass body after field syntax checks (5.1, step 1
// of 5.5).
type UpdateRequest struct {
	MerchantID     string
	Identity       Identity
	PassID         string
	TemplateCode   string // "" = not given
	Status         RequestedStatus
	UpdateKind     UpdateKind     // "" = not given
	BizDate        int64          // 0 = not given
	EndDate        int64          // 0 = not given
	DataInfo       *DataInfoInput // nil = not given
	CodeInfo       *CodeInfo      // nil = not given; $codemsg$ already defaulted
	PassVerifyCode string         // "" = not given

	fingerprint string // 5.6, computed once the syntax is known good
}

// ParseUpdateRequest checks the syntax of every updatePass field (step 1 of
// 5.5): types, limits, the status and updateDetailType vocabularies, UPDATE
// without updateDetailType or without anything to update, and bizDate no
// later than now + [MaxBizDateAhead].
func ParseUpdateRequest(b Body, now time.Time) (*UpdateRequest, error) {
	r := &UpdateRequest{}
	var err error
	if r.MerchantID, err = b.MerchantID(); err != nil {
		return nil, err
	}
	if r.Identity, err = b.requiredIdentity(); err != nil {
		return nil, err
	}
	if r.PassID, err = b.requiredStr("passId", maxPassID, true); err != nil {
		return nil, err
	}
	if r.TemplateCode, err = b.str("templateCode", maxTemplateCode, true); err != nil {
		return nil, err
	}
	st, err := b.enum("status", string(RequestUpdate), string(RequestUsed), string(RequestRefund), string(RequestClosed))
	if err != nil {
		return nil, err
	}
	if st == "" {
		return nil, Errorf(CodeParamIllegal, "status is required")
	}
	r.Status = RequestedStatus(st)
	kind, err := b.enum("updateDetailType", updateKindNames()...)
	if err != nil {
		return nil, err
	}
	r.UpdateKind = UpdateKind(kind)
	if r.BizDate, err = b.millis("bizDate"); err != nil {
		return nil, err
	}
	if r.EndDate, err = b.millis("endDate"); err != nil {
		return nil, err
	}
	if r.DataInfo, err = b.dataInfo(true); err != nil {
		return nil, err
	}
	if r.CodeInfo, err = b.codeInfo(); err != nil {
		return nil, err
	}
	if r.PassVerifyCode, err = b.str("passVerifyCode", maxPassVerifyCode, false); err != nil {
		return nil, err
	}
	if r.Status == RequestUpdate {
		if r.UpdateKind == "" {
			return nil, Errorf(CodeParamIllegal, "updateDetailType is required when status is UPDATE")
		}
		if (r.DataInfo == nil || len(r.DataInfo.Entries) == 0) && r.CodeInfo == nil && r.EndDate == 0 {
			return nil, Errorf(CodeParamIllegal, "nothing to update: status UPDATE needs a non-empty dataInfo, a codeInfo or an endDate")
		}
	}
	if r.BizDate != 0 && r.BizDate > now.Add(MaxBizDateAhead).UnixMilli() {
		return nil, Errorf(CodeParamIllegal, "bizDate: %v is more than 24 hours after the server time %v", Millis(r.BizDate), Millis(now.UnixMilli()))
	}
	if r.fingerprint, err = updateFingerprint(r); err != nil {
		return nil, err
	}
	return r, nil
}

// QueryRequest is a queryPass body after field syntax checks (6.1).
type QueryRequest struct {
	MerchantID  string
	Identity    Identity // optional here
	PassID      string   // "" = not given
	BizSerialID string   // "" = not given
}

// ParseQueryRequest checks the syntax of every queryPass field (6.1).
func ParseQueryRequest(b Body) (*QueryRequest, error) {
	r := &QueryRequest{}
	var err error
	if r.MerchantID, err = b.MerchantID(); err != nil {
		return nil, err
	}
	if r.PassID, err = b.str("passId", maxPassID, true); err != nil {
		return nil, err
	}
	if r.BizSerialID, err = b.str("bizSerialId", maxBizSerialID, true); err != nil {
		return nil, err
	}
	if r.Identity, err = b.identity(); err != nil {
		return nil, err
	}
	if r.PassID == "" && r.BizSerialID == "" {
		return nil, Errorf(CodeParamIllegal, "passId or bizSerialId is required")
	}
	return r, nil
}

package ipass

import (
	"encoding/json"
	"time"
)

// PassType is the kind of pass; it decides which statuses updatePass accepts
// (docs/api.md, "Pass types, products and update kinds").
type PassType string

// The pass types.
const (
	TypeCard   PassType = "CARD"
	TypeCoupon PassType = "COUPON"
	TypeTicket PassType = "TICKET"
)

// Product refines a PassType; it decides which updateDetailType values apply.
type Product string

// The products of 3.4.
const (
	ProductMemberCard  Product = "MEMBER_CARD"
	ProductGiftCard    Product = "GIFT_CARD"
	ProductCoupon      Product = "COUPON" // [ext]
	ProductPass        Product = "PASS"
	ProductMovie       Product = "MOVIE"
	ProductAirTicket   Product = "AIR_TICKET"
	ProductTrainTicket Product = "TRAIN_TICKET"
	ProductBusTicket   Product = "BUS_TICKET"
	ProductShipTicket  Product = "SHIP_TICKET"
)

// Status is a pass's state. ACTIVE, USED, REFUND and CLOSED are stored;
// EXPIRED is derived at read time (ACTIVE past endDate).
//
//	ACTIVE ──USED──▶ USED ──CLOSED──▶ CLOSED
//	  │  └──REFUND──▶ REFUND (terminal)
//	  └──CLOSED──▶ CLOSED (terminal)
//	ACTIVE past endDate = EXPIRED ──CLOSED──▶ CLOSED
type Status string

// The pass states.
const (
	StatusActive  Status = "ACTIVE"
	StatusUsed    Status = "USED"
	StatusRefund  Status = "REFUND"
	StatusClosed  Status = "CLOSED"
	StatusExpired Status = "EXPIRED" // derived, never stored
)

// RequestedStatus is the `status` field of updatePass.
type RequestedStatus string

// The values updatePass accepts in `status`.
const (
	RequestUpdate RequestedStatus = "UPDATE"
	RequestUsed   RequestedStatus = "USED"
	RequestRefund RequestedStatus = "REFUND"
	RequestClosed RequestedStatus = "CLOSED"
)

// UpdateKind is updatePass's updateDetailType.
type UpdateKind string

// The known update kinds (3.4). UPDATE_TEMPLATE and UPDATE_LEVEL are known but
// supported for no product.
const (
	UpdateMemberCard  UpdateKind = "UPDATE_MEMBER_CARD"
	UpdateDataInfo    UpdateKind = "UPDATE_DATA_INFO"
	UpdateValidity    UpdateKind = "UPDATE_VALIDITY"
	UpdatePass        UpdateKind = "UPDATE_PASS"
	UpdateMovie       UpdateKind = "UPDATE_MOVIE"
	UpdateAirTicket   UpdateKind = "UPDATE_AIR_TICKET"
	UpdateTrainTicket UpdateKind = "UPDATE_TRAIN_TICKET"
	UpdateBusTicket   UpdateKind = "UPDATE_BUS_TICKET"
	UpdateShipTicket  UpdateKind = "UPDATE_SHIP_TICKET"
	UpdateTemplate    UpdateKind = "UPDATE_TEMPLATE"
	UpdateLevel       UpdateKind = "UPDATE_LEVEL"
)

// CodeInfo is the pass's QR code / barcode: Value is encoded, Msg is shown
// under it (defaults to Value when a request omits it).
type CodeInfo struct {
	Msg   string `json:"$codemsg$"`
	Value string `json:"$codevalue$"`
}

// DataInfo is the flat card-face data: "$name_locale$" → JSON value, kept
// verbatim. Metadata (billNo, lastChangedPoints, pointsProvider) never lives here.
type DataInfo map[string]json.RawMessage

// Pass is one issued pass. The server creates it (createPass) and changes it
// only through updatePass; every change bumps Version and appends a PassVersion.
type Pass struct {
	ID           string   // server-generated passId, 31 decimal digits
	MerchantID   string   // owning merchant; fixed for life
	BizSerialID  string   // merchant's own id, unique per merchant
	TemplateCode string   // template the pass was created with; fixed for life
	Type         PassType // from the template
	Product      Product  // from the template
	UserID       string   // owning user (resolved from userId or openId)
	Status       Status   // stored state: ACTIVE, USED, REFUND or CLOSED
	StartDate    int64    // validity start, ms
	EndDate      int64    // expiry, ms; UPDATE_VALIDITY / endDate may change it
	BizCreate    int64    // when the merchant created the card/order, ms
	DataInfo     DataInfo // current face data
	CodeInfo     CodeInfo // current code
	Version      int      // 1 on create, +1 per applied change
	LastBizDate  int64    // largest bizDate of an applied UPDATE; 0 = none
	CreatedAt    int64    // ms
	UpdatedAt    int64    // ms

	// CreateFingerprint is the canonical form of the normalised original
	// create request (4.4); an identical retried create returns this pass.
	CreateFingerprint string
	// LastUpdateFingerprint is the canonical form of the last applied
	// updatePass (5.6); an exact retry of it changes nothing. Empty if none.
	LastUpdateFingerprint string
}

// EffectiveStatus is the status as seen at now: EXPIRED for an ACTIVE pass
// whose endDate is earlier than now.
func (p *Pass) EffectiveStatus(now time.Time) Status {
	if p.Status == StatusActive && p.EndDate < now.UnixMilli() {
		return StatusExpired
	}
	return p.Status
}

// PassVersion is one entry of a pass's history: who changed what, when.
type PassVersion struct {
	PassID         string          // the pass
	Version        int             // the pass version this entry produced (1 = create)
	Operation      string          // "createPass" or "updatePass"
	ClientID       string          // calling client
	MerchantID     string          // merchant acted for
	At             int64           // ms, server clock at commit
	Status         Status          // stored status after the change
	RequestStatus  string          // updatePass `status` as requested ("" for create)
	UpdateKind     UpdateKind      // updateDetailType, if any
	Changes        json.RawMessage // JSON object of the changed fields (dataInfo keys, codeInfo, endDate, status)
	Metadata       json.RawMessage // JSON object: billNo, lastChangedPoints, pointsProvider; null if none
	PassVerifyCode string          // write-off code, if given
	BizDate        int64           // bizDate of the request; 0 = none
	TracerID       string          // Tracer-Id of the request
}

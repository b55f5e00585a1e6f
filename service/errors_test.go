package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// TestErrorCases runs E20–E45 of 8.7 (E46 is the HTTP edge's) on a store
// holding the 8.1 member card and the 8.4 ticket. Every refused request is
// checked to have changed nothing.
func TestErrorCases(t *testing.T) {
	e := newEnv(t)
	unchanged := func(t *testing.T, e *env) {
		expect("card", 1, ipass.StatusActive, nil)(t, e)
		expect("ticket", 1, ipass.StatusActive, nil)(t, e)
	}
	upd := func(status string) string { return cardUpd + status + `}` }
	e.run(t, []step{
		{name: "SetupCard", op: "create", body: create81, save: "card"},
		{name: "SetupTicket", op: "create", body: create84, save: "ticket"},

		{name: "E20OtherClientsMerchant", op: "create", body: replace(create81, merchant23, merchant22), code: ipass.CodeAccessDenied,
			fragment: "merchantId 2160400000000022 is not a merchant of this client", check: unchanged},
		{name: "E20UnknownMerchantSameAnswer", op: "create", body: replace(create81, merchant23, "2160999999999999"), code: ipass.CodeAccessDenied,
			fragment: "merchantId 2160999999999999 is not a merchant of this client"},
		{name: "E20BeforeFieldSyntax", op: "update", body: `{"merchantId":"2160400000000022","status":"bogus"}`, code: ipass.CodeAccessDenied},
		{name: "E20Query", op: "query", body: `{"merchantId":"2160400000000022","bizSerialId":"1111128828"}`, code: ipass.CodeAccessDenied},
		{name: "E21DuplicateMerchantId", op: "create", body: replace(create81, `{"merchantId":"2160120036095023",`, `{"merchantId":"2160120036095023","merchantId":"2160400000000022",`),
			code: ipass.CodeParamIllegal, fragment: `body: duplicate key "merchantId"`, check: unchanged},
		{name: "G13NotJSON", op: "update", body: `merchantId=2160120036095023`, code: ipass.CodeParamIllegal, fragment: "body: invalid JSON"},
		{name: "G13TrailingData", op: "query", body: `{"merchantId":"2160120036095023","bizSerialId":"1111128828"}{}`, code: ipass.CodeParamIllegal, fragment: "after the JSON object"},
		{name: "G14MerchantIdMissing", op: "create", body: replace(create81, `"merchantId":"2160120036095023",`, ``), code: ipass.CodeParamIllegal, fragment: "merchantId is required"},
		{name: "G14MerchantIdNumber", op: "update", body: `{"merchantId":2160120036095023}`, code: ipass.CodeParamIllegal, fragment: "merchantId: must be a JSON string"},

		{name: "E22NoUser", op: "create", body: replace(create81, `"userId":"2160220037090534",`, ``), code: ipass.CodeParamIllegal, fragment: "userId or openId is required"},
		{name: "E23UnknownUser", op: "create", body: replace(create81, user534, "2160220000000000", `"1111128828"`, `"E23"`), code: ipass.CodeUserNotExist, fragment: "userId 2160220000000000: user not found"},
		{name: "E23UnknownOpenId", op: "create", body: replace(create81, `"userId":"2160220037090534"`, `"openId":"nobody"`, `"1111128828"`, `"E23b"`), code: ipass.CodeUserNotExist, fragment: "openId nobody"},
		{name: "E23OpenIdOfOtherMerchant", op: "create", body: replace(create81, `"userId":"2160220037090534"`, `"openId":"`+open534At22+`"`, `"1111128828"`, `"E23c"`), code: ipass.CodeUserNotExist},
		{name: "E24UserIdAndOpenIdDiffer", op: "create", body: replace(create81, `"userId":"2160220037090534"`, `"userId":"2160220037090534","openId":"k29dh38fj2l0s9d8f7g6h5j4"`),
			code: ipass.CodeParamIllegal, fragment: "userId and openId identify different users"},
		{name: "E24UserIdAndOpenIdAgree", op: "create", body: replace(create81, `"userId":"2160220037090534"`, `"userId":"2160220037090534","openId":"fj398457jd8iue98d8w7w93j"`), same: "card"},
		{name: "E25DateTimeString", op: "create", body: replace(create81, `"startDate":1735689600000`, `"startDate":"2025-01-01 00:00:00"`), code: ipass.CodeParamIllegal, fragment: "startDate"},
		{name: "E26Seconds", op: "create", body: replace(create81, `"endDate":4102444800000`, `"endDate":1735689600`), code: ipass.CodeParamIllegal, fragment: "endDate: must be epoch milliseconds with exactly 13 digits (got \"1735689600\"); it looks like Unix seconds"},
		{name: "E27UndeclaredLocale", op: "create", body: replace(create81, `"1111128828"`, `"E27"`, `"dataInfo":{"$points_zh_HK$":100,`, `"dataInfo":{"$points_fr_FR$":1,"$points_zh_HK$":100,`),
			code: ipass.CodeParamIllegal, fragment: "dataInfo.$points_fr_FR$: locale fr_FR is not declared by template temlate111001"},
		{name: "E28BizSerialType", op: "create", body: replace(create81, `"OUT_PLAT_FORM"`, `"IN_PLAT_FORM"`), code: ipass.CodeParamIllegal, fragment: "bizSerialType"},
		{name: "E29TypeMismatch", op: "create", body: replace(create81, `"type":"CARD"`, `"type":"TICKET"`), code: ipass.CodeParamIllegal, fragment: "type: TICKET does not match template temlate111001"},
		{name: "E29TemplateOfOtherMerchant", op: "create", body: replace(create81, `"templateCode":"temlate111001"`, `"templateCode":"tplOfMerchant22"`, `"type":"CARD",`, ``),
			code: ipass.CodeParamIllegal, fragment: "templateCode: tplOfMerchant22 not found for merchant 2160120036095023"},
		{name: "E30DifferentEndDate", op: "create", body: replace(create81, `"endDate":4102444800000`, `"endDate":1893456000000`), code: ipass.CodeParamIllegal,
			fragment: "bizSerialId 1111128828 is already used by pass {id:card} with a different endDate", check: unchanged},
		{name: "E31EndDateInPast", op: "create", body: replace(create81, `"1111128828"`, `"E31"`, `"endDate":4102444800000`, `"endDate":1735689600000`),
			code: ipass.CodeParamIllegal, fragment: "endDate: 1735689600000 (2025-01-01T00:00:00Z) is in the past"},

		{name: "E32NoPassId", op: "update", body: replace(seedCase1, `"passId":"{id:card}",`, ``), code: ipass.CodeParamIllegal, fragment: "passId is required"},
		{name: "E33StatusDelete", op: "update", body: upd(`"status":"DELETE"`), code: ipass.CodeParamIllegal, fragment: "status"},
		{name: "E34StatusLowerCase", op: "update", body: upd(`"status":"used"`), code: ipass.CodeParamIllegal, fragment: "status"},
		{name: "E35NoUpdateDetailType", op: "update", body: upd(`"status":"UPDATE","dataInfo":{"$points_zh_HK$":1}`), code: ipass.CodeParamIllegal, fragment: "updateDetailType is required"},
		{name: "E36UnknownKind", op: "update", body: upd(`"status":"UPDATE","updateDetailType":"UPDATE_EVERYTHING","dataInfo":{"$points_zh_HK$":1}`), code: ipass.CodeParamIllegal, fragment: "updateDetailType"},
		{name: "E37UpdateTemplate", op: "update", body: upd(`"status":"UPDATE","updateDetailType":"UPDATE_TEMPLATE","dataInfo":{"$points_zh_HK$":1}`), code: ipass.CodeBizNotSupport, fragment: "UPDATE_TEMPLATE"},
		{name: "E38NoSuchPass", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2025010500000000000000000000000","status":"CLOSED"}`,
			code: ipass.CodePassHasNotExist, fragment: "passId 2025010500000000000000000000000: pass not found"},
		{name: "E39OtherUsersPass", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:ticket}","status":"CLOSED"}`,
			code: ipass.CodePassHasNotExist, fragment: "passId {id:ticket}: pass not found", check: unchanged},
		{name: "E40OtherTemplateCode", op: "update", body: upd(`"templateCode":"82022031000135000000000000624234","status":"CLOSED"`), code: ipass.CodeParamIllegal, fragment: "templateCode", check: unchanged},
		{name: "E43MetadataAliasConflict", op: "update", body: upd(`"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1,"lastChangedPoints":"5","lastChangePoints":"6"}`),
			code: ipass.CodeParamIllegal, fragment: "lastChangedPoints 5 and lastChangePoints 6 differ", check: unchanged},
		{name: "E44QueryNeither", op: "query", body: `{"merchantId":"2160120036095023","userId":"2160220037090534"}`, code: ipass.CodeParamIllegal, fragment: "passId or bizSerialId is required"},
		{name: "E45QueryByBizSerialId", op: "query", body: `{"merchantId":"2160120036095023","bizSerialId":"1111128828"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.PassID != e.ids["card"] {
					t.Errorf("passId = %s, want %s", v.PassID, e.ids["card"])
				}
			}},

		// E41/E42: a pass whose endDate passes while it is ACTIVE.
		{name: "ExpiringCreate", op: "create", body: replace(create81, `"1111128828"`, `"EXP-1"`, `"endDate":4102444800000`, `"endDate":1736038800000`), save: "exp"}, // now + 1 h
		{name: "ExpiringQueryActive", op: "query", body: `{"merchantId":"2160120036095023","passId":"{id:exp}"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.Status != ipass.StatusActive {
					t.Errorf("status = %s", v.Status)
				}
			}},
		{name: "ExpiringQueryExpired", op: "query", advance: 2 * time.Hour, body: `{"merchantId":"2160120036095023","passId":"{id:exp}"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.Status != ipass.StatusExpired {
					t.Errorf("status = %s, want EXPIRED derived", v.Status)
				}
			}},
		{name: "E41UpdateExpired", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:exp}","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":1}}`,
			code: ipass.CodePassStatusIllegal, fragment: "EXPIRED", check: expect("exp", 1, ipass.StatusActive, nil)},
		{name: "E41UpdateExpiredPastEndDate", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:exp}","status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":1736038800001}`,
			code: ipass.CodePassStatusIllegal, fragment: "EXPIRED", check: expect("exp", 1, ipass.StatusActive, nil)},
		{name: "E42CloseExpired", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:exp}","status":"CLOSED"}`,
			check: expect("exp", 2, ipass.StatusClosed, nil)},
		{name: "ClosedNotRenewable", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:exp}","status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":4102444800000}`,
			code: ipass.CodePassStatusIllegal, fragment: "CLOSED", check: expect("exp", 2, ipass.StatusClosed, nil)},

		// Renewal: an UPDATE with an endDate in the future makes an EXPIRED pass ACTIVE again.
		{name: "RenewableCreate", op: "create", body: replace(create81, `"1111128828"`, `"REN-1"`, `"endDate":4102444800000`, `"endDate":1736049600000`), save: "ren"}, // now + 2 h
		{name: "RenewableExpires", op: "query", advance: 3 * time.Hour, body: `{"merchantId":"2160120036095023","passId":"{id:ren}"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.Status != ipass.StatusExpired {
					t.Errorf("status = %s, want EXPIRED derived", v.Status)
				}
			}},
		{name: "RenewExpired", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:ren}","status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":4102444800000}`,
			check: func(t *testing.T, e *env) {
				expect("ren", 2, ipass.StatusActive, nil)(t, e)
				h := e.history(t, "ren")
				if ent, err := ipass.HistoryEntryOf(h[1], nil); err != nil || !ent.Renewal || ent.Status != ipass.StatusActive {
					t.Errorf("version 2 = %+v, %v: want a renewal to ACTIVE", ent, err)
				}
			}},
		{name: "RenewedIsActive", op: "query", body: `{"merchantId":"2160120036095023","passId":"{id:ren}"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.Status != ipass.StatusActive || v.EndDate != 4102444800000 {
					t.Errorf("status = %s until %d, want ACTIVE until 4102444800000", v.Status, v.EndDate)
				}
			}},
		{name: "RetryOfExpiredCreateStillSucceeds", op: "create", body: replace(create81, `"1111128828"`, `"EXP-1"`, `"endDate":4102444800000`, `"endDate":1736038800000`), same: "exp"},
	})
}

// TestProcessingOrder checks that the first failing step of 4.3, 5.5 and 6.1
// decides when a request has several faults with different codes.
func TestProcessingOrder(t *testing.T) {
	e := newEnv(t)
	e.run(t, []step{
		{name: "SetupCard", op: "create", body: create81, save: "card"},
		{name: "SetupGift", op: "create", body: create83, save: "gift"},
		{name: "SetupClosed", op: "update", body: cardUpd + `"status":"CLOSED"}`},

		{name: "CreateSyntaxBeforeTemplate", op: "create", body: replace(create81, `"temlate111001"`, `"nope"`, `"bizCreate":1735689600000`, `"bizCreate":1`), code: ipass.CodeParamIllegal, fragment: "bizCreate"},
		{name: "CreateTemplateBeforeUser", op: "create", body: replace(create81, `"temlate111001"`, `"nope"`, user534, "2160220000000000"), code: ipass.CodeParamIllegal, fragment: "templateCode: nope not found"},
		{name: "CreateUserBeforeDataInfo", op: "create", body: replace(create81, user534, "2160220000000000", `"$points_zh_HK$":100`, `"$seat_zh_HK$":100`), code: ipass.CodeUserNotExist},
		{name: "CreateDataInfoBeforeDates", op: "create", body: replace(create81, `"$points_zh_HK$":100`, `"$seat_zh_HK$":100`, `"startDate":1735689600000`, `"startDate":4102444800001`), code: ipass.CodeParamIllegal, fragment: "placeholder seat"},
		{name: "CreateDatesBeforeIdempotency", op: "create", body: replace(create81, `"startDate":1735689600000`, `"startDate":4102444800001`), code: ipass.CodeParamIllegal, fragment: "is before startDate"},
		{name: "CreateIdempotencyBeforeExpiry", op: "create", body: replace(create81, `"endDate":4102444800000`, `"endDate":1735689600000`), code: ipass.CodeParamIllegal, fragment: "already used by pass"},

		{name: "UpdateSyntaxBeforeUser", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220000000000","passId":"x","status":"DELETE"}`, code: ipass.CodeParamIllegal, fragment: "status"},
		{name: "UpdateUserBeforePass", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220000000000","passId":"missing","status":"CLOSED"}`, code: ipass.CodeUserNotExist},
		{name: "UpdatePassBeforeTemplateCode", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"missing","templateCode":"other","status":"CLOSED"}`, code: ipass.CodePassHasNotExist},
		{name: "UpdateTemplateCodeBeforeBizSupport", op: "update", body: cardUpd + `"templateCode":"other","status":"USED"}`, code: ipass.CodeParamIllegal, fragment: "templateCode"},
		{name: "UpdateDataInfoBeforeStateMachine", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$seat_zh_HK$":1}}`, code: ipass.CodeParamIllegal, fragment: "placeholder seat"},
		{name: "UpdateBizSupportBeforeStateMachine", op: "update", body: cardUpd + `"status":"USED"}`, code: ipass.CodeBizNotSupport},
		{name: "UpdateKindBeforeStateMachine", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","dataInfo":{"$points_zh_HK$":1}}`, code: ipass.CodeBizNotSupport},
		{name: "UpdateRequirementBeforeStateMachine", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","dataInfo":{"$points_zh_HK$":1}}`, code: ipass.CodeParamIllegal, fragment: "endDate is required"},
		{name: "GiftUsed", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$balance_en_US$":"1"}}`},
		{name: "GiftToUsed", op: "update", body: giftUpd + `"status":"USED"}`},
		{name: "UpdateStateMachineBeforeStaleness", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735689600000,"dataInfo":{"$balance_en_US$":"2"}}`, code: ipass.CodePassUsedOccupied},
		{name: "UpdateBizDateRequiredBeforeStateMachine", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$balance_en_US$":"2"}}`, code: ipass.CodeParamIllegal, fragment: "bizDate is required"},

		{name: "QuerySyntaxBeforeUser", op: "query", body: `{"merchantId":"2160120036095023","userId":"2160220000000000"}`, code: ipass.CodeParamIllegal},
		{name: "QueryUserBeforeLookup", op: "query", body: `{"merchantId":"2160120036095023","userId":"2160220000000000","passId":"missing"}`, code: ipass.CodeUserNotExist},
		{name: "QueryUsersDisagree", op: "query", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","openId":"k29dh38fj2l0s9d8f7g6h5j4","passId":"{id:card}"}`, code: ipass.CodeParamIllegal, fragment: "different users"},
	})
}

// TestTenancy checks that another user's, merchant's or client's pass is
// always PASS_HAS_NOT_EXIST (U10, 6.1) and never revealed.
func TestTenancy(t *testing.T) {
	e := newEnv(t)
	other := `{"merchantId":"2160400000000022","openId":"` + open534At22 + `","templateCode":"tplOfMerchant22","bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"x"}}`
	e.run(t, []step{
		{name: "Card", op: "create", body: create81, save: "card"},
		{name: "Ticket", op: "create", body: create84, save: "ticket"},
		{name: "OtherClientSameBizSerialId", op: "create", client: client55, body: other, save: "other",
			check: func(t *testing.T, e *env) {
				if e.ids["other"] == e.ids["card"] {
					t.Fatal("bizSerialId is unique per merchant, not globally")
				}
			}},
		{name: "OtherClientSeesOwnPassWithOpenId", op: "query", client: client55, body: `{"merchantId":"2160400000000022","bizSerialId":"1111128828"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.PassID != e.ids["other"] || v.OpenID != open534At22 {
					t.Errorf("view = %+v", v)
				}
			}},
		{name: "UpdateOtherClientsPass", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:other}","status":"CLOSED"}`,
			code: ipass.CodePassHasNotExist, check: expect("other", 1, ipass.StatusActive, nil)},
		{name: "QueryOtherClientsPass", op: "query", body: `{"merchantId":"2160120036095023","passId":"{id:other}"}`, code: ipass.CodePassHasNotExist},
		{name: "QueryOtherClientsMerchant", op: "query", body: `{"merchantId":"2160400000000022","passId":"{id:other}"}`, code: ipass.CodeAccessDenied},
		{name: "OtherClientQueriesOurPass", op: "query", client: client55, body: `{"merchantId":"2160400000000022","passId":"{id:card}"}`, code: ipass.CodePassHasNotExist},
		{name: "QueryOtherUsersPass", op: "query", body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:ticket}"}`, code: ipass.CodePassHasNotExist},
		{name: "QueryOwnUsersPass", op: "query", body: `{"merchantId":"2160120036095023","openId":"k29dh38fj2l0s9d8f7g6h5j4","passId":"{id:ticket}"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.UserID != user225 || v.OpenID != open225 {
					t.Errorf("view = %+v", v)
				}
			}},
		{name: "QueryPairDisagrees", op: "query", body: `{"merchantId":"2160120036095023","passId":"{id:ticket}","bizSerialId":"1111128828"}`, code: ipass.CodePassHasNotExist},
		{name: "QueryPairAgrees", op: "query", body: `{"merchantId":"2160120036095023","passId":"{id:card}","bizSerialId":"1111128828"}`},
		{name: "QueryUnknownBizSerialId", op: "query", body: `{"merchantId":"2160120036095023","bizSerialId":"nope"}`, code: ipass.CodePassHasNotExist, fragment: "bizSerialId nope: pass not found"},
	})
	// The "not yours" and "does not exist" answers must be indistinguishable.
	ctx := context.Background()
	c := ipass.Caller{ClientID: client44}
	errOther := e.svc.UpdatePass(ctx, c, []byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"`+e.ids["other"]+`","status":"CLOSED"}`))
	errMissing := e.svc.UpdatePass(ctx, c, []byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2025010500000000000000000000000","status":"CLOSED"}`))
	if strings.ReplaceAll(ipass.ErrorMessage(errOther), e.ids["other"], "X") != strings.ReplaceAll(ipass.ErrorMessage(errMissing), "2025010500000000000000000000000", "X") {
		t.Errorf("messages differ: %q vs %q", ipass.ErrorMessage(errOther), ipass.ErrorMessage(errMissing))
	}
	_, errDenied := e.svc.QueryPass(ctx, c, []byte(`{"merchantId":"2160400000000022","passId":"1"}`))
	_, errUnknown := e.svc.QueryPass(ctx, c, []byte(`{"merchantId":"2160400000000099","passId":"1"}`))
	if strings.ReplaceAll(ipass.ErrorMessage(errDenied), merchant22, "X") != strings.ReplaceAll(ipass.ErrorMessage(errUnknown), "2160400000000099", "X") {
		t.Errorf("ACCESS_DENIED messages differ: %q vs %q", ipass.ErrorMessage(errDenied), ipass.ErrorMessage(errUnknown))
	}
}

// failingStore wraps the real store and fails chosen calls, for the
// failures a healthy SQLite file cannot produce.
type failingStore struct {
	ipass.TenantStore
	ipass.PassStore
	fail map[string]bool
}

func (f *failingStore) Merchant(ctx context.Context, id string) (*ipass.Merchant, error) {
	if f.fail["Merchant"] {
		return nil, errInjected
	}
	return f.TenantStore.Merchant(ctx, id)
}

func (f *failingStore) User(ctx context.Context, id string) (*ipass.User, error) {
	if f.fail["User"] {
		return nil, errInjected
	}
	return f.TenantStore.User(ctx, id)
}

func (f *failingStore) Template(ctx context.Context, m, c string) (*ipass.Template, error) {
	if f.fail["Template"] {
		return nil, errInjected
	}
	return f.TenantStore.Template(ctx, m, c)
}

func (f *failingStore) PassBySerial(ctx context.Context, m, s string) (*ipass.Pass, error) {
	if f.fail["PassBySerial"] {
		return nil, errInjected
	}
	if f.fail["PassBySerialMisses"] { // as if a concurrent create had not committed yet
		return nil, ipass.ErrNotFound
	}
	return f.PassStore.PassBySerial(ctx, m, s)
}

func (f *failingStore) PassByID(ctx context.Context, id string) (*ipass.Pass, error) {
	if f.fail["PassByID"] {
		return nil, errInjected
	}
	return f.PassStore.PassByID(ctx, id)
}

func (f *failingStore) MerchantPass(ctx context.Context, m, id string) (*ipass.Pass, error) {
	if f.fail["MerchantPass"] {
		return nil, errInjected
	}
	return f.PassStore.MerchantPass(ctx, m, id)
}

func (f *failingStore) CreatePass(ctx context.Context, p *ipass.Pass, v *ipass.PassVersion) (*ipass.Pass, error) {
	if f.fail["CreatePass"] {
		return nil, errInjected
	}
	return f.PassStore.CreatePass(ctx, p, v)
}

func (f *failingStore) UpdatePass(ctx context.Context, id string, decide func(*ipass.Pass) (*ipass.PassVersion, error)) (*ipass.Pass, error) {
	if f.fail["UpdatePass"] {
		return nil, errInjected
	}
	return f.PassStore.UpdatePass(ctx, id, decide)
}

func TestStoreErrorsAreReturned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller := ipass.Caller{ClientID: client44}
	id, err := e.svc.CreatePass(ctx, caller, []byte(create81))
	if err != nil {
		t.Fatal(err)
	}
	newCard := replace(create81, `"1111128828"`, `"NEW-1"`)
	closeCard := `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + id + `","status":"CLOSED"}`
	query := `{"merchantId":"2160120036095023","passId":"` + id + `"}`
	tests := []struct {
		name string
		fail string
		op   string
		body string
	}{
		{"CreateMerchant", "Merchant", "create", newCard},
		{"CreateTemplate", "Template", "create", newCard},
		{"CreateUser", "User", "create", newCard},
		{"CreateBySerial", "PassBySerial", "create", newCard},
		{"CreateInsert", "CreatePass", "create", newCard},
		{"UpdateUser", "User", "update", closeCard},
		{"UpdateLookup", "MerchantPass", "update", closeCard},
		{"UpdateTemplate", "Template", "update", closeCard},
		{"UpdateStore", "UpdatePass", "update", closeCard},
		{"QueryLookup", "MerchantPass", "query", query},
		{"QueryOwner", "User", "query", query},
		{"QueryMerchant", "Merchant", "query", query},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &failingStore{TenantStore: e.db, PassStore: e.db, fail: map[string]bool{tt.fail: true}}
			svc := &Service{Tenants: fs, Passes: fs, Now: e.clock.Now}
			var err error
			switch tt.op {
			case "create":
				_, err = svc.CreatePass(ctx, caller, []byte(tt.body))
			case "update":
				err = svc.UpdatePass(ctx, caller, []byte(tt.body))
			case "query":
				_, err = svc.QueryPass(ctx, caller, []byte(tt.body))
			}
			if !errors.Is(err, errInjected) {
				t.Fatalf("got %v, want the store error wrapped", err)
			}
			if ipass.ErrorCode(err) != ipass.CodeUnknownException {
				t.Fatalf("code %s, want UNKNOWN_EXCEPTION", ipass.ErrorCode(err))
			}
			if strings.Contains(ipass.ErrorMessage(err), "injected") {
				t.Fatal("internal detail in the caller-facing message")
			}
		})
	}
	unchanged := func(t *testing.T) {
		p, err := e.db.PassByID(ctx, id)
		if err != nil || p.Version != 1 || p.Status != ipass.StatusActive {
			t.Fatalf("pass changed: %+v %v", p, err)
		}
		if _, err := e.db.PassBySerial(ctx, merchant23, "NEW-1"); !errors.Is(err, ipass.ErrNotFound) {
			t.Fatalf("a pass was created: %v", err)
		}
	}
	unchanged(t)
}

// TestDefaults checks a Service with nil Now and Logger works.
func TestDefaults(t *testing.T) {
	e := newEnv(t)
	svc := &Service{Tenants: e.db, Passes: e.db}
	id, err := svc.CreatePass(context.Background(), ipass.Caller{ClientID: client44}, []byte(create81))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, time.Now().UTC().Format("20060102")) && !strings.HasPrefix(id, time.Now().UTC().Add(-time.Minute).Format("20060102")) {
		t.Fatalf("passId %s does not start with today's UTC date", id)
	}
}

// TestCreateLosesRace drives the ErrConflict path of CreatePass
// deterministically: the pre-check misses, the insert conflicts, and the
// pass that won is compared like any existing one (4.4).
func TestCreateLosesRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	caller := ipass.Caller{ClientID: client44}
	var logs bytes.Buffer
	fs := &failingStore{TenantStore: e.db, PassStore: e.db, fail: map[string]bool{"PassBySerialMisses": true}}
	svc := &Service{Tenants: fs, Passes: fs, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	id, err := e.svc.CreatePass(ctx, caller, []byte(create81))
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.CreatePass(ctx, caller, []byte(create81))
	if err != nil || got != id {
		t.Fatalf("identical create after a lost race: %q, %v; want %s", got, err, id)
	}
	if !strings.Contains(logs.String(), "identical retry") {
		t.Errorf("no debug log of the retry: %q", logs.String())
	}
	_, err = svc.CreatePass(ctx, caller, []byte(replace(create81, `"endDate":4102444800000`, `"endDate":4102444800001`)))
	checkResult(t, err, ipass.CodeParamIllegal, "already used by pass "+id+" with a different endDate")
	h, err := e.db.History(ctx, id)
	if err != nil || len(h) != 1 {
		t.Fatalf("history %d entries, %v; want 1", len(h), err)
	}
}

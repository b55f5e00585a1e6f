package tenants

import (
	"slices"

	"github.com/ipass-dev/ipass"
)

// demoField is one placeholder of a demo template: its type, place and
// labels in both demo locales.
type demoField struct {
	name   string
	typ    ipass.FieldType
	place  ipass.FieldPlace
	zh, en string
}

// demoFields turns a template's fields into its placeholders, field specs
// and labels.
func demoFields(fs []demoField) ([]string, map[string]ipass.FieldSpec, map[string]map[string]string) {
	names := make([]string, 0, len(fs))
	specs := make(map[string]ipass.FieldSpec, len(fs))
	labels := make(map[string]map[string]string, len(fs))
	for _, f := range fs {
		names = append(names, f.name)
		specs[f.name] = ipass.FieldSpec{Type: f.typ, Place: f.place}
		labels[f.name] = map[string]string{"zh_HK": f.zh, "en_US": f.en}
	}
	return names, specs, labels
}

// The demo's fields, per template. Times are epoch milliseconds (the
// documented samples send them as 13-digit strings).
var (
	demoCardFields = []demoField{
		{"points", ipass.FieldInteger, "", "積分", "Points"},
		{"level", ipass.FieldText, "", "等級", "Level"},
	}
	demoTicketFields = []demoField{
		{"ticketName", ipass.FieldText, "", "門票", "Ticket"},
		{"address", ipass.FieldText, "", "地址", "Address"},
		{"availableTimes", ipass.FieldInteger, "", "可用次數", "Uses left"},
		{"price", ipass.FieldMoney, "", "價格", "Price"},
		{"startTime", ipass.FieldDatetime, "", "開始", "Starts"},
		{"endTime", ipass.FieldDatetime, "", "結束", "Ends"},
		{"platformName", ipass.FieldText, "", "售票平台", "Sold by"},
		{"platformLogo", ipass.FieldText, ipass.PlaceDetail, "平台標誌", "Seller logo"},
	}
	// The redeemable gift card's balance is text: the documented sample
	// sends "HKD 500". The stored-value card's is money.
	demoGiftFields = []demoField{
		{"shopname", ipass.FieldText, "", "商店", "Shop"},
		{"balance", ipass.FieldText, "", "餘額", "Balance"},
	}
	demoStoredValueFields = []demoField{
		{"shopname", ipass.FieldText, "", "商店", "Shop"},
		{"balance", ipass.FieldMoney, "", "餘額", "Balance"},
	}
	demoCouponFields = []demoField{
		{"title", ipass.FieldText, "", "優惠", "Offer"},
		{"shopname", ipass.FieldText, "", "商店", "Shop"},
		{"discount", ipass.FieldText, "", "折扣", "Discount"},
	}
	demoAirFields = []demoField{
		{"airlineName", ipass.FieldText, "", "航空公司", "Airline"},
		{"flightNo", ipass.FieldText, "", "航班", "Flight"},
		{"from", ipass.FieldText, "", "出發地", "From"},
		{"to", ipass.FieldText, "", "目的地", "To"},
		{"startTime", ipass.FieldDatetime, "", "起飛", "Departs"},
		{"endTime", ipass.FieldDatetime, "", "抵達", "Arrives"},
	}
	demoMovieFields = []demoField{
		{"movieName", ipass.FieldText, "", "電影", "Film"},
		{"cinemaName", ipass.FieldText, "", "戲院", "Cinema"},
		{"cinemaHouse", ipass.FieldText, "", "影院", "House"},
		{"address", ipass.FieldText, ipass.PlaceDetail, "地址", "Address"},
		{"seats", ipass.FieldList, "", "座位", "Seats"},
		{"tags", ipass.FieldList, ipass.PlaceDetail, "版本", "Version"},
		{"startTime", ipass.FieldDatetime, "", "開場", "Starts"},
		{"endTime", ipass.FieldDatetime, "", "散場", "Ends"},
	}
	demoTravelFields = []demoField{
		{"shiftNumber", ipass.FieldText, "", "班次", "Service"},
		{"from", ipass.FieldText, "", "出發地", "From"},
		{"to", ipass.FieldText, "", "目的地", "To"},
		{"startTime", ipass.FieldDatetime, "", "出發", "Departs"},
		{"endTime", ipass.FieldDatetime, "", "抵達", "Arrives"},
		{"seats", ipass.FieldList, "", "座位", "Seats"},
		{"checkPoint", ipass.FieldList, "", "登乘處", "Board at"},
	}
)

// demoKindTemplates are the demo merchant's templates for the pass kinds
// beyond the membership card and the admission ticket, so every one of the
// ten type/product pairs has a template to try (the files under examples/
// use them). Codes follow the shape of the documented samples; the gift card
// and air ticket codes are those of the API reference's worked examples.
func demoKindTemplates(merchantID string, locales []string) []ipass.Template {
	kinds := []struct {
		code    string
		typ     ipass.PassType
		product ipass.Product
		zh, en  string
		fields  []demoField
		display ipass.CodeDisplay
		color   string
	}{
		{"82022031000135000000000000624234", ipass.TypeCoupon, ipass.ProductGiftCard, "禮品卡", "Gift card",
			demoGiftFields, ipass.CodeBarcode, "#D4380D"},
		{"82022031000135000000000000624235", ipass.TypeCard, ipass.ProductGiftCard, "儲值卡", "Stored-value card",
			demoStoredValueFields, ipass.CodeBarcode, "#AD6800"},
		{"82022031000135000000000000624236", ipass.TypeCoupon, ipass.ProductCoupon, "優惠券", "Coupon",
			demoCouponFields, ipass.CodeQR, "#C41D7F"},
		{"22024120100135606000000001443496", ipass.TypeTicket, ipass.ProductAirTicket, "登機證", "Boarding pass",
			demoAirFields, ipass.CodeNone, "#006D75"},
		{"22024120100135606000000001443497", ipass.TypeTicket, ipass.ProductMovie, "電影票", "Movie ticket",
			demoMovieFields, ipass.CodeQR, "#531DAB"},
		{"22024120100135606000000001443498", ipass.TypeTicket, ipass.ProductTrainTicket, "火車票", "Train ticket", demoTravelFields, ipass.CodeQR, "#0958D9"},
		{"22024120100135606000000001443499", ipass.TypeTicket, ipass.ProductBusTicket, "巴士票", "Bus ticket", demoTravelFields, ipass.CodeBarcode, "#389E0D"},
		{"22024120100135606000000001443500", ipass.TypeTicket, ipass.ProductShipTicket, "船票", "Ferry ticket", demoTravelFields, ipass.CodeQR, "#1D39C4"},
	}
	out := make([]ipass.Template, 0, len(kinds))
	for _, k := range kinds {
		names, specs, labels := demoFields(k.fields)
		out = append(out, ipass.Template{
			Code:         k.code,
			MerchantID:   merchantID,
			Type:         k.typ,
			Product:      k.product,
			Title:        map[string]string{"zh_HK": k.zh, "en_US": k.en},
			Locales:      slices.Clone(locales),
			Placeholders: names,
			CodeDisplay:  k.display,
			Style:        map[string]string{"backgroundColor": k.color, "foregroundColor": "#FFFFFF"},
			Labels:       labels,
			Fields:       specs,
		})
	}
	return out
}

package tenants

import (
	"slices"

	"github.com/ipass-dev/ipass"
)

// demoKindTemplates are the demo merchant's templates for the pass kinds
// beyond the membership card and the admission ticket, so every one of the
// ten type/product pairs has a template to try (the files under examples/
// use them). Codes follow the shape of the documented samples; the gift card
// and air ticket codes are those of the API reference's worked examples.
func demoKindTemplates(merchantID string, locales []string) []ipass.Template {
	travel := []string{"shiftNumber", "from", "to", "startTime", "endTime", "seats", "checkPoint"}
	kinds := []struct {
		code         string
		typ          ipass.PassType
		product      ipass.Product
		zh, en       string
		placeholders []string
		display      ipass.CodeDisplay
		color        string
	}{
		{"82022031000135000000000000624234", ipass.TypeCoupon, ipass.ProductGiftCard, "禮品卡", "Gift card",
			[]string{"shopname", "balance"}, ipass.CodeBarcode, "#D4380D"},
		{"82022031000135000000000000624235", ipass.TypeCard, ipass.ProductGiftCard, "儲值卡", "Stored-value card",
			[]string{"shopname", "balance"}, ipass.CodeBarcode, "#AD6800"},
		{"82022031000135000000000000624236", ipass.TypeCoupon, ipass.ProductCoupon, "優惠券", "Coupon",
			[]string{"title", "shopname", "discount"}, ipass.CodeQR, "#C41D7F"},
		{"22024120100135606000000001443496", ipass.TypeTicket, ipass.ProductAirTicket, "登機證", "Boarding pass",
			[]string{"airlineName", "flightNo", "from", "to", "startTime", "endTime"}, ipass.CodeNone, "#006D75"},
		{"22024120100135606000000001443497", ipass.TypeTicket, ipass.ProductMovie, "電影票", "Movie ticket",
			[]string{"movieName", "cinemaName", "cinemaHouse", "address", "seats", "tags", "startTime", "endTime"}, ipass.CodeQR, "#531DAB"},
		{"22024120100135606000000001443498", ipass.TypeTicket, ipass.ProductTrainTicket, "火車票", "Train ticket", travel, ipass.CodeQR, "#0958D9"},
		{"22024120100135606000000001443499", ipass.TypeTicket, ipass.ProductBusTicket, "巴士票", "Bus ticket", travel, ipass.CodeBarcode, "#389E0D"},
		{"22024120100135606000000001443500", ipass.TypeTicket, ipass.ProductShipTicket, "船票", "Ferry ticket", travel, ipass.CodeQR, "#1D39C4"},
	}
	out := make([]ipass.Template, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, ipass.Template{
			Code:         k.code,
			MerchantID:   merchantID,
			Type:         k.typ,
			Product:      k.product,
			Title:        map[string]string{"zh_HK": k.zh, "en_US": k.en},
			Locales:      slices.Clone(locales),
			Placeholders: slices.Clone(k.placeholders),
			CodeDisplay:  k.display,
			Style:        map[string]string{"backgroundColor": k.color, "foregroundColor": "#FFFFFF"},
		})
	}
	return out
}

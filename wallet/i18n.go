package wallet

import (
	"strconv"
	"strings"
)

// The locales of the wallet's own text. A template may declare others; its
// faces then fall back as described in Fields.
const (
	LocaleZH = "zh_HK"
	LocaleEN = "en_US"
)

// Locales are the supported UI locales, in the order the switch shows them.
var Locales = []string{LocaleZH, LocaleEN}

// texts holds every fixed string of the pages, in both locales.
var texts = map[string]map[string]string{
	LocaleEN: {
		"wallet": "Wallet", "active": "Active", "inactive": "Used / Expired",
		"cards": "Cards", "coupons": "Coupons", "tickets": "Tickets",
		"expired": "Expired", "used": "Used", "refunded": "Refunded", "terminated": "Terminated",
		"valid": "Valid", "details": "Details", "history": "History", "back": "Back to the wallet",
		"removed": "This pass was removed from the wallet.", "empty": "Nothing here.",
		"yes": "Yes", "no": "No", "created": "Created", "updated": "Updated", "status": "Status",
		"endDate": "Valid until", "startDate": "Valid from", "code": "Code", "note": "Note",
		"live": "Live", "offline": "Reconnecting…", "notFound": "Not found",
		"notFoundText": "This link is not valid.", "billNo": "Bill no.", "lastChangedPoints": "Points changed",
		"pointsProvider": "Points provider", "passVerifyCode": "Verification code", "language": "Language",
		"languageName": "English", "older": "Older versions →", "newest": "← Newest versions",
		"moreChanges": "more changed fields",
		"newerPage":   "Newer", "olderPage": "Older", "newer": "changed — newest first",
		"renewedUntil": "Renewed until", "void": "Void", "renewed": "Renewed",
	},
	LocaleZH: {
		"wallet": "錢包", "active": "有效", "inactive": "已使用 / 已過期",
		"cards": "卡", "coupons": "優惠券", "tickets": "票券",
		"expired": "已過期", "used": "已使用", "refunded": "已退款", "terminated": "已終止",
		"valid": "有效期", "details": "詳情", "history": "記錄", "back": "返回錢包",
		"removed": "此票券已從錢包移除。", "empty": "沒有項目。",
		"yes": "是", "no": "否", "created": "建立", "updated": "更新", "status": "狀態",
		"endDate": "有效至", "startDate": "生效", "code": "編碼", "note": "備註",
		"live": "即時", "offline": "重新連線中…", "notFound": "找不到",
		"notFoundText": "此連結無效。", "billNo": "單號", "lastChangedPoints": "積分變動",
		"pointsProvider": "積分提供者", "passVerifyCode": "核銷碼", "language": "語言",
		"languageName": "繁體中文", "older": "較早記錄 →", "newest": "← 最新記錄",
		"moreChanges": "項其他變更",
		"newerPage":   "較新", "olderPage": "較舊", "newer": "項已更新 — 查看最新",
		"renewedUntil": "已續期至", "void": "已失效", "renewed": "已續期",
	},
}

// Text returns the UI string key in locale (English if the locale is not
// one of Locales).
func Text(locale, key string) string {
	if t, ok := texts[locale]; ok {
		return t[key]
	}
	return texts[LocaleEN][key]
}

// Texts returns every UI string of locale by key (English if the locale is
// not one of Locales). The map is shared: do not modify it.
func Texts(locale string) map[string]string {
	if t, ok := texts[locale]; ok {
		return t
	}
	return texts[LocaleEN]
}

// UILocale picks the locale of the page: lang if supported, else the best
// supported entry of an Accept-Language header, else fallback (the first
// locale of the template) if supported, else English.
func UILocale(lang, acceptLanguage, fallback string) string {
	if supported(lang) {
		return lang
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if l := localeOfTag(tag); l != "" && q > bestQ {
			best, bestQ = l, q
		}
	}
	if best != "" {
		return best
	}
	if supported(fallback) {
		return fallback
	}
	return LocaleEN
}

// localeOfTag maps a BCP 47 tag to a UI locale: any zh (Hong Kong's
// Traditional Chinese is the one we have) or any en.
func localeOfTag(tag string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	lang, _, _ = strings.Cut(lang, "_")
	switch lang {
	case "zh":
		return LocaleZH
	case "en":
		return LocaleEN
	}
	return ""
}

func supported(l string) bool { return l == LocaleZH || l == LocaleEN }

package wallet

import (
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// TestPlace is the placement table of docs/wallet.md, row by row.
func TestPlace(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	future, past := now.UnixMilli()+1, now.UnixMilli()-1
	type want struct {
		shown bool
		tab   Tab
		badge Badge
	}
	hidden := want{}
	active := want{true, TabActive, BadgeNone}
	inactive := func(b Badge) want { return want{true, TabInactive, b} }
	kinds := []struct {
		name    string
		typ     ipass.PassType
		product ipass.Product
	}{
		{"MemberCard", ipass.TypeCard, ipass.ProductMemberCard},
		{"GiftCard", ipass.TypeCard, ipass.ProductGiftCard},
		{"Coupon", ipass.TypeCoupon, ipass.ProductCoupon},
		{"Ticket", ipass.TypeTicket, ipass.ProductPass},
	}
	rows := []struct {
		status ipass.Status
		end    int64
		want   [4]want // MemberCard, GiftCard, Coupon, Ticket
	}{
		{ipass.StatusActive, future, [4]want{active, active, active, active}},
		{ipass.StatusActive, past, [4]want{inactive(BadgeExpired), inactive(BadgeExpired), inactive(BadgeExpired), inactive(BadgeExpired)}},
		{ipass.StatusUsed, future, [4]want{hidden, hidden, inactive(BadgeUsed), inactive(BadgeUsed)}},
		{ipass.StatusRefund, future, [4]want{hidden, hidden, inactive(BadgeRefunded), inactive(BadgeRefunded)}},
		{ipass.StatusClosed, future, [4]want{inactive(BadgeTerminated), hidden, hidden, hidden}},
		{ipass.StatusClosed, past, [4]want{inactive(BadgeTerminated), hidden, hidden, hidden}},
	}
	for _, r := range rows {
		for i, k := range kinds {
			name := string(r.status) + "/" + k.name
			if r.end == past {
				name += "/PastEndDate"
			}
			t.Run(name, func(t *testing.T) {
				p := &ipass.Pass{Status: r.status, Type: k.typ, Product: k.product, EndDate: r.end}
				pl, shown := Place(p, now)
				got := want{shown, pl.Tab, pl.Badge}
				if !shown {
					got = hidden
				}
				if got != r.want[i] {
					t.Fatalf("got %+v, want %+v", got, r.want[i])
				}
			})
		}
	}
}

func TestNextChange(t *testing.T) {
	now := time.UnixMilli(1000)
	passes := []*ipass.Pass{
		{Status: ipass.StatusActive, EndDate: 5000},
		{Status: ipass.StatusActive, EndDate: 3000},
		{Status: ipass.StatusActive, EndDate: 500}, // already expired
		{Status: ipass.StatusUsed, EndDate: 2000},  // not ACTIVE: never expires
	}
	got, ok := NextChange(passes, now)
	if !ok || got.UnixMilli() != 3001 {
		t.Fatalf("got %v %v, want 3001 ms (the first instant after endDate 3000)", got.UnixMilli(), ok)
	}
	if _, ok := NextChange(passes[2:], now); ok {
		t.Fatal("no ACTIVE pass left to expire, but NextChange found one")
	}
}

package wallet

import (
	"time"

	"github.com/ipass-dev/ipass"
)

// Tab is one of the wallet's two tabs.
type Tab string

// The tabs, as named in the page's data-tab attribute.
const (
	TabActive   Tab = "active"
	TabInactive Tab = "inactive" // "Used / Expired"
)

// Badge is the status label on a pass in the Used / Expired tab (a key of
// the UI strings; empty in the Active tab).
type Badge string

// The badges.
const (
	BadgeNone       Badge = ""
	BadgeExpired    Badge = "expired"
	BadgeUsed       Badge = "used"
	BadgeRefunded   Badge = "refunded"
	BadgeTerminated Badge = "terminated"
)

// Placement says where a pass is shown.
type Placement struct {
	Tab   Tab
	Badge Badge
}

// placeKey is a row and column of the placement table: the effective
// status, and whether the pass is a MEMBER_CARD (the one product a CLOSED
// status keeps in the wallet) or else its type.
type placeKey struct {
	status     ipass.Status
	memberCard bool
	kind       ipass.PassType
}

// placements is the table of docs/wallet.md "Where each pass appears". A
// combination that is absent is not shown: CLOSED passes other than member
// cards ("remove this pass completely"), and states the state machine never
// produces (a USED card).
var placements = func() map[placeKey]Placement {
	m := map[placeKey]Placement{}
	put := func(s ipass.Status, memberCard bool, kind ipass.PassType, p Placement) {
		m[placeKey{s, memberCard, kind}] = p
	}
	for _, k := range []struct {
		member bool
		kind   ipass.PassType
	}{{true, ipass.TypeCard}, {false, ipass.TypeCard}, {false, ipass.TypeCoupon}, {false, ipass.TypeTicket}} {
		put(ipass.StatusActive, k.member, k.kind, Placement{TabActive, BadgeNone})
		put(ipass.StatusExpired, k.member, k.kind, Placement{TabInactive, BadgeExpired})
	}
	for _, kind := range []ipass.PassType{ipass.TypeCoupon, ipass.TypeTicket} {
		put(ipass.StatusUsed, false, kind, Placement{TabInactive, BadgeUsed})
		put(ipass.StatusRefund, false, kind, Placement{TabInactive, BadgeRefunded})
	}
	put(ipass.StatusClosed, true, ipass.TypeCard, Placement{TabInactive, BadgeTerminated})
	return m
}()

// Place returns where p is shown at now, and false when it is not shown at
// all. Expiry is derived here (ACTIVE past endDate is EXPIRED), so a page
// rendered after endDate moves the pass without any API call.
func Place(p *ipass.Pass, now time.Time) (Placement, bool) {
	pl, ok := placements[placeKey{p.EffectiveStatus(now), p.Product == ipass.ProductMemberCard, p.Type}]
	return pl, ok
}

// NextChange returns the earliest instant after now at which Place would
// answer differently for one of passes without any write (an ACTIVE pass
// reaching its endDate), and false if there is none.
func NextChange(passes []*ipass.Pass, now time.Time) (time.Time, bool) {
	return NextChangeOffset(passes, now, nil)
}

// NextChangeOffset is NextChange when some merchants' clocks run ahead of
// (or behind) the real one by offsets (a sandbox's clocks): now and the
// answer are real time.
func NextChangeOffset(passes []*ipass.Pass, now time.Time, offsets map[string]time.Duration) (time.Time, bool) {
	var next time.Time
	for _, p := range passes {
		off := offsets[p.MerchantID]
		if p.EffectiveStatus(now.Add(off)) != ipass.StatusActive {
			continue
		}
		// EXPIRED begins when endDate < now, i.e. one millisecond after endDate.
		at := time.UnixMilli(p.EndDate + 1).Add(-off)
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, !next.IsZero()
}

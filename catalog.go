package ipass

// productsByType is table 3.4: the products of each type and, per product,
// the update kinds it allows.
var productsByType = map[PassType]map[Product][]UpdateKind{
	TypeCard: {
		ProductMemberCard: {UpdateMemberCard, UpdateDataInfo, UpdateValidity},
		ProductGiftCard:   {UpdateDataInfo, UpdateValidity},
	},
	TypeCoupon: {
		ProductGiftCard: {UpdateDataInfo, UpdateValidity},
		ProductCoupon:   {UpdateDataInfo, UpdateValidity},
	},
	TypeTicket: {
		ProductPass:        {UpdatePass},
		ProductMovie:       {UpdateMovie},
		ProductAirTicket:   {UpdateAirTicket},
		ProductTrainTicket: {UpdateTrainTicket},
		ProductBusTicket:   {UpdateBusTicket},
		ProductShipTicket:  {UpdateShipTicket},
	},
}

// ValidType reports whether t is one of CARD, COUPON, TICKET.
func ValidType(t PassType) bool { _, ok := productsByType[t]; return ok }

// ValidProduct reports whether p is a product of some type.
func ValidProduct(p Product) bool {
	for _, ps := range productsByType {
		if _, ok := ps[p]; ok {
			return true
		}
	}
	return false
}

// ProductOfType reports whether p is a valid product for t (3.4).
func ProductOfType(t PassType, p Product) bool { _, ok := productsByType[t][p]; return ok }

// KnownUpdateKind reports whether k is a known updateDetailType (3.4 notes).
func KnownUpdateKind(k UpdateKind) bool {
	switch k {
	case UpdateMemberCard, UpdateDataInfo, UpdateValidity, UpdatePass, UpdateMovie,
		UpdateAirTicket, UpdateTrainTicket, UpdateBusTicket, UpdateShipTicket,
		UpdateTemplate, UpdateLevel:
		return true
	}
	return false
}

// UpdateKindAllowed reports whether k may update a pass of (t, p).
func UpdateKindAllowed(t PassType, p Product, k UpdateKind) bool {
	for _, allowed := range productsByType[t][p] {
		if allowed == k {
			return true
		}
	}
	return false
}

// StatusAccepted reports whether updatePass may request s on a pass of type t:
// CARD accepts UPDATE and CLOSED only (U1).
func StatusAccepted(t PassType, s RequestedStatus) bool {
	switch s {
	case RequestUpdate, RequestClosed:
		return true
	case RequestUsed, RequestRefund:
		return t == TypeCoupon || t == TypeTicket
	}
	return false
}

package ipass

import "strings"

// Colour returns c, a template style colour, as #RRGGBB in upper case, and
// false when c is not a colour. The one rule for colours: the tenants file
// is validated with it and the wallet draws with it, so a colour accepted at
// apply is never ignored on a page. #RGB is accepted, as in CSS, and
// expanded (#2a2 → #22AA22).
func Colour(c string) (string, bool) {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return "", false
	}
	for i := 1; i < len(c); i++ {
		if !isHexDigit(c[i]) {
			return "", false
		}
	}
	if len(c) == 4 {
		c = string([]byte{'#', c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	return strings.ToUpper(c), true
}

func isHexDigit(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// IsColour reports whether c is a template style colour (see [Colour]).
func IsColour(c string) bool {
	_, ok := Colour(c)
	return ok
}

package wallet

import (
	"fmt"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
	"github.com/ipass-dev/ipass"
)

// CodeSVG draws value as the template's code display wants it — a QR code
// (QRCODE) or a Code 128 barcode (BARCODE) — as an SVG element. It returns ""
// for NONE, an empty value, or a value the symbology cannot encode (Code 128
// is ASCII only); the page still prints the value under it.
//
// The SVG is built from the symbol's modules only: no byte of value appears
// in it, so it is safe to embed as markup.
func CodeSVG(display ipass.CodeDisplay, value string) string {
	if value == "" {
		return ""
	}
	switch display {
	case ipass.CodeQR:
		bc, err := qr.Encode(value, qr.M, qr.Auto)
		if err != nil {
			return ""
		}
		return svg(bc, 4, 0, "qr")
	case ipass.CodeBarcode:
		bc, err := code128.Encode(value)
		if err != nil {
			return ""
		}
		return svg(bc, 10, 50, "barcode")
	}
	return ""
}

// svg draws the dark modules of bc with quiet modules of margin around it.
// height > 0 draws a 1-D code with bars that tall.
func svg(bc barcode.Barcode, margin, height int, class string) string {
	b := bc.Bounds()
	w, h := b.Dx(), b.Dy()
	if height > 0 {
		h = height
	}
	var d strings.Builder
	for y := 0; y < h; y++ {
		if height > 0 && y > 0 {
			break
		}
		for x := 0; x < w; {
			if !dark(bc, b.Min.X+x, b.Min.Y+y) {
				x++
				continue
			}
			run := 1
			for x+run < w && dark(bc, b.Min.X+x+run, b.Min.Y+y) {
				run++
			}
			rh := 1
			if height > 0 {
				rh = height
			}
			fmt.Fprintf(&d, "M%d %dh%dv%dh-%dz", x+margin, y+margin*btoi(height == 0), run, rh, run)
			x += run
		}
	}
	vw, vh := w+2*margin, h+2*margin*btoi(height == 0)
	return fmt.Sprintf(`<svg class="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-hidden="true">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`, class, vw, vh, vw, vh, d.String())
}

func dark(bc barcode.Barcode, x, y int) bool {
	r, _, _, _ := bc.At(x, y).RGBA()
	return r < 0x8000
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

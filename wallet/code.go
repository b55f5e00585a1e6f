package wallet

import (
	"fmt"
	"strings"
	"sync"

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
//
// Drawing a QR code costs far more than the rest of a card (its mask
// selection scores eight candidate symbols), and codes seldom change, so
// images are kept in a bounded cache.
func CodeSVG(display ipass.CodeDisplay, value string) string {
	if value == "" || (display != ipass.CodeQR && display != ipass.CodeBarcode) {
		return ""
	}
	k := codeKey{display, value}
	if svg, ok := codes.get(k); ok {
		return svg
	}
	svg := drawCode(display, value)
	codes.put(k, svg)
	return svg
}

func drawCode(display ipass.CodeDisplay, value string) string {
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

// codeCacheSize bounds the cache: about 2 KiB per QR code of a typical
// membership number, so a few MiB at most.
const codeCacheSize = 2048

type codeKey struct {
	display ipass.CodeDisplay
	value   string
}

// codeCache keeps the last codeCacheSize images, evicting the oldest.
type codeCache struct {
	mu    sync.Mutex
	m     map[codeKey]string
	order []codeKey // insertion order, a ring of codeCacheSize
	next  int
}

var codes = &codeCache{m: map[codeKey]string{}}

func (c *codeCache) get(k codeKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

func (c *codeCache) put(k codeKey, svg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) < codeCacheSize {
		c.order = append(c.order, k)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % codeCacheSize
	}
	c.m[k] = svg
}

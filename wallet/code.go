package wallet

import (
	"bytes"
	"container/list"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"github.com/boombuler/barcode/code128"
	"github.com/ipass-dev/ipass"
	qr "github.com/piglig/go-qr"
)

// CodeSVG draws value as the template's code display wants it — a QR code
// (QRCODE) or a Code 128 barcode (BARCODE) — as an SVG element. It returns ""
// for NONE, an empty value, or a value the symbology cannot encode (Code 128
// is ASCII only); the page still prints the value under it.
//
// The symbol is a 1-bit PNG of its modules, one pixel per module, inside the
// SVG as a data: URL, scaled without smoothing by the page's stylesheet: a
// 512-character QR code is a few KiB this way, where even merged runs of dark
// modules as path commands take tens of KiB. The image is built from the
// modules only: no byte of value appears in it, so it is safe to embed.
//
// Codes seldom change and pages are drawn again on every live update, so
// images are kept in a cache bounded in bytes (codeCacheBytes).
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
		m := qrModules(value, -1)
		if m == nil {
			return ""
		}
		return symbolSVG(m, 4, 0, "qr")
	case ipass.CodeBarcode:
		bc, err := code128.Encode(value)
		if err != nil {
			return ""
		}
		b := bc.Bounds()
		m := &modules{w: b.Dx(), h: 1, dark: make([]bool, b.Dx())}
		for x := range m.w {
			r, _, _, _ := bc.At(b.Min.X+x, b.Min.Y).RGBA()
			m.dark[x] = r < 0x8000
		}
		return symbolSVG(m, 10, 50, "barcode")
	}
	return ""
}

// modules is a symbol's module matrix, row by row.
type modules struct {
	w, h int
	dark []bool
}

// qrModules encodes value as a QR code of error correction level M, in the
// one mode (numeric, alphanumeric or bytes of UTF-8) that fits all of it, in
// the smallest version that holds it. mask -1 picks the mask of lowest
// penalty as the standard says; tests pass one to compare with other
// encoders. nil means value does not fit in a QR code.
func qrModules(value string, mask int) *modules {
	segs, err := qr.MakeSegments(value)
	if err != nil {
		return nil
	}
	c, err := qr.EncodeSegments(segs, qr.Medium, qr.MinVersion, qr.MaxVersion, mask, false)
	if err != nil {
		return nil
	}
	n := c.Size()
	m := &modules{w: n, h: n, dark: make([]bool, n*n)}
	for y := range n {
		for x := range n {
			m.dark[y*n+x] = c.Module(x, y)
		}
	}
	return m
}

// bw is the PNG palette: index 0 light, 1 dark, so the PNG has 1 bit a pixel.
var bw = color.Palette{color.Gray{Y: 0xff}, color.Gray{}}

// pngEncoder reuses its compressor state between images: allocating it is
// most of the cost of a small code.
var pngEncoder = &png.Encoder{CompressionLevel: png.BestCompression, BufferPool: &pngBuffers{}}

type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	if e, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return e
	}
	return nil
}

func (b *pngBuffers) Put(e *png.EncoderBuffer) { b.p.Put(e) }

// symbolSVG draws m with quiet modules of margin around it (left and right
// only for a 1-D code), as an SVG of class class. height > 0 draws a 1-D code
// (m of one row) with bars that tall.
func symbolSVG(m *modules, margin, height int, class string) string {
	vm := margin // vertical margin
	if height > 0 {
		vm = 0
	}
	img := image.NewPaletted(image.Rect(0, 0, m.w+2*margin, m.h+2*vm), bw)
	for y := range m.h {
		row := img.Pix[(y+vm)*img.Stride+margin:]
		for x := range m.w {
			if m.dark[y*m.w+x] {
				row[x] = 1
			}
		}
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return ""
	}
	vw, vh := img.Rect.Dx(), img.Rect.Dy()
	size := "" // a QR code at 2 px a module, at least 132 px: smaller would merge modules
	if height > 0 {
		vh = height
	} else {
		px := max(132, 2*vw)
		size = fmt.Sprintf(` width="%d" height="%d"`, px, px)
	}
	return fmt.Sprintf(`<svg class="%s" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d"%s role="img" aria-hidden="true">`+
		`<image width="%d" height="%d" preserveAspectRatio="none" image-rendering="optimizeSpeed" href="data:image/png;base64,%s"/></svg>`,
		class, vw, vh, size, vw, vh, base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// codeCacheBytes bounds the code cache: what its images and keys take,
// counted in bytes. A QR code of an 8-digit membership number is about
// 0.4 KiB, one of 512 Chinese characters about 4 KiB, the largest (512
// four-byte characters) about 6 KiB; 8 MiB keeps a few thousand large codes
// or tens of thousands of ordinary ones.
const codeCacheBytes = 8 << 20

// codeEntryOverhead is what an entry costs besides its strings (map slot,
// list element, key): an estimate, so the bound holds for tiny entries too.
const codeEntryOverhead = 128

type codeKey struct {
	display ipass.CodeDisplay
	value   string
}

type codeEntry struct {
	key codeKey
	svg string
}

func (e *codeEntry) size() int { return len(e.key.value) + len(e.svg) + codeEntryOverhead }

// codeCache keeps the images used last, evicting the least recently used
// when the bytes would exceed max.
type codeCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	lru   *list.List // of *codeEntry, most recently used first
	m     map[codeKey]*list.Element
}

func newCodeCache(maxBytes int) *codeCache {
	return &codeCache{max: maxBytes, lru: list.New(), m: map[codeKey]*list.Element{}}
}

var codes = newCodeCache(codeCacheBytes)

func (c *codeCache) get(k codeKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return "", false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*codeEntry).svg, true
}

func (c *codeCache) put(k codeKey, svg string) {
	e := &codeEntry{key: k, svg: svg}
	if e.size() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	for c.bytes+e.size() > c.max {
		old := c.lru.Back()
		oe := old.Value.(*codeEntry)
		c.lru.Remove(old)
		delete(c.m, oe.key)
		c.bytes -= oe.size()
	}
	c.m[k] = c.lru.PushFront(e)
	c.bytes += e.size()
}

// size is the bytes the cache holds, as counted against its bound.
func (c *codeCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

package wallet

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/boombuler/barcode/code128"
	bqr "github.com/boombuler/barcode/qr"
	qr "github.com/piglig/go-qr"

	"github.com/ipass-dev/ipass"
)

// codeValues are QR payloads of every encoding mode and size: numeric,
// alphanumeric, bytes, and the largest values a pass can carry (512
// characters, of one to four bytes each in UTF-8).
var codeValues = map[string]string{
	"Numeric8":      "81399940",
	"Alnum":         "MEMBER-81399940 $1",
	"Bytes":         "會員 81399940",
	"Numeric512":    strings.Repeat("1234567890", 52)[:512],
	"ASCII512":      strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 15)[:512],
	"Chinese512":    strings.Repeat("會員積分", 128),
	"FourBytes512":  strings.Repeat("😀", 512),
	"MixedCase512":  strings.Repeat("Ab9.", 128),
	"TwoByteLatin":  strings.Repeat("é", 512),
	"SingleDigit":   "7",
	"URLLike":       "https://example.com/p?x=1&y=2",
	"ControlAndNul": "a\x00b\tc",
}

var dataPNG = regexp.MustCompile(`href="data:image/png;base64,([A-Za-z0-9+/=]+)"`)

// imageOf returns the PNG inside a code's SVG.
func imageOf(t *testing.T, svg string) image.Image {
	t.Helper()
	m := dataPNG.FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no PNG in %.200q", svg)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func darkAt(img image.Image, x, y int) bool {
	r, _, _, _ := img.At(x, y).RGBA()
	return r < 0x8000
}

// scaled enlarges img k times without smoothing, as the page shows it.
func scaled(img image.Image, k int) image.Image {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			if !darkAt(img, b.Min.X+x/k, b.Min.Y+y/k) {
				out.Pix[y*out.Stride+x] = 0xff
			}
		}
	}
	return out
}

// TestCodeQRScans: the image of every QR code is a correct symbol of its
// value. Two independent checks: a QR decoder reads the value back from the
// drawn image; and the encoding (with the mask forced) is exactly what
// another encoder (boombuler/barcode, which the wallet used before) makes of
// the value under one of the eight masks — the mask is a free choice, which
// the two make by slightly different penalty scores.
func TestCodeQRScans(t *testing.T) {
	for name, value := range codeValues {
		t.Run(name, func(t *testing.T) {
			img := imageOf(t, drawCode(ipass.CodeQR, value))
			got, err := qr.Decode(scaled(img, 4))
			if err != nil || got != value {
				t.Fatalf("decoded %q, %v; want %q", got, err, value)
			}

			ref, err := bqr.Encode(value, bqr.M, bqr.Auto)
			if err != nil {
				t.Fatal(err)
			}
			n := ref.Bounds().Dx()
			if b := img.Bounds(); b.Dx() != n+8 || b.Dy() != n+8 {
				t.Fatalf("image %dx%d, want %d modules and a quiet zone of 4", b.Dx(), b.Dy(), n)
			}
			drawn := qrModules(value, -1)
			for y := 0; y < n+8; y++ {
				for x := 0; x < n+8; x++ {
					in := x >= 4 && y >= 4 && x < n+4 && y < n+4
					if darkAt(img, x, y) != (in && drawn.dark[(y-4)*n+x-4]) {
						t.Fatalf("image module (%d,%d) is not the symbol's", x, y)
					}
				}
			}
			matches := 0
			for mask := range 8 {
				m := qrModules(value, mask)
				same := m.w == n
				for y := 0; same && y < n; y++ {
					for x := 0; same && x < n; x++ {
						same = m.dark[y*n+x] == darkAt(ref, x, y)
					}
				}
				if same {
					matches++
				}
			}
			if matches != 1 {
				t.Fatalf("the symbol equals the reference encoder's under %d masks, want 1", matches)
			}
		})
	}
}

// TestCodeBarcodeBars: the barcode image has the Code 128 symbol's bars, with
// 10 quiet modules each side.
func TestCodeBarcodeBars(t *testing.T) {
	for _, value := range []string{"81399940", "T-Ticket 7", "ABCdef-0123456789"} {
		ref, err := code128.Encode(value)
		if err != nil {
			t.Fatal(err)
		}
		img := imageOf(t, drawCode(ipass.CodeBarcode, value))
		w := ref.Bounds().Dx()
		if img.Bounds().Dx() != w+20 || img.Bounds().Dy() != 1 {
			t.Fatalf("%q: image %v, want %d×1", value, img.Bounds(), w+20)
		}
		for x := range w + 20 {
			want := x >= 10 && x < w+10 && darkAt(ref, x-10, 0)
			if darkAt(img, x, 0) != want {
				t.Fatalf("%q: bar %d differs", value, x)
			}
		}
	}
}

// TestCodeSVGSize: a QR code of the largest value a pass can carry is at
// most 8 KiB of markup (it was 77 KiB for 512 Chinese characters drawn as
// path commands).
func TestCodeSVGSize(t *testing.T) {
	for name, value := range codeValues {
		if n := len(CodeSVG(ipass.CodeQR, value)); n == 0 || n > 8<<10 {
			t.Errorf("%s: %d bytes, want 1–8192", name, n)
		}
	}
}

// TestCodeCacheBoundedInBytes: the cache holds at most its bound in bytes,
// whatever the size of its images, and evicts the least recently used.
func TestCodeCacheBoundedInBytes(t *testing.T) {
	c := newCodeCache(64 << 10)
	big := strings.Repeat("x", 10<<10)
	key := func(i int) codeKey { return codeKey{ipass.CodeQR, fmt.Sprint(i)} }
	c.put(key(0), big)
	for i := 1; i < 100; i++ {
		c.put(key(i), big)
		if _, ok := c.get(key(0)); !ok { // kept in use: never the one evicted
			t.Fatalf("after %d puts the entry in use was evicted", i)
		}
		if c.size() > 64<<10 {
			t.Fatalf("after %d puts: %d bytes, over the 64 KiB bound", i, c.size())
		}
	}
	if _, ok := c.get(key(1)); ok {
		t.Errorf("the least recently used entry is still there")
	}
	if _, ok := c.get(key(99)); !ok {
		t.Errorf("the newest entry is gone")
	}
	c.put(key(1000), strings.Repeat("x", 65<<10)) // larger than the bound: not kept
	if _, ok := c.get(key(1000)); ok || c.size() > 64<<10 {
		t.Errorf("an image larger than the bound was kept (%d bytes)", c.size())
	}
}

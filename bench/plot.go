package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WritePlot draws the run's time series as an SVG: throughput on top,
// latency percentiles (p50, p90, p99) below, both against seconds since
// measuring began.
func (r *Report) WritePlot(w io.Writer, title string) error {
	const (
		width, left, right = 800, 70, 20
		panelH, gap, top   = 220, 60, 40
		plotW              = width - left - right
	)
	height := top + 2*panelH + gap + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))

	tMax := 1.0
	for _, p := range r.Series {
		tMax = max(tMax, p.T)
	}
	x := func(t float64) float64 { return left + t/tMax*plotW }

	panel := func(y0 int, label string, lines []line) {
		yMax := 0.0
		for _, l := range lines {
			for _, v := range l.values {
				yMax = max(yMax, v)
			}
		}
		yMax = niceCeil(yMax)
		y := func(v float64) float64 { return float64(y0+panelH) - v/yMax*panelH }
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", left, y0, plotW, panelH)
		for i := 0; i <= 4; i++ {
			v := yMax * float64(i) / 4
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
				left, left+plotW, y(v), y(v), left-6, y(v)+4, trimFloat(v))
		}
		fmt.Fprintf(&b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`+"\n",
			y0+panelH/2, y0+panelH/2, html.EscapeString(label))
		for i, l := range lines {
			var pts []string
			for k, v := range l.values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(r.Series[k].T), y(v)))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", l.color, strings.Join(pts, " "))
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", left+plotW-60*(len(lines)-i), y0-6, l.color, html.EscapeString(l.name))
		}
	}
	series := func(f func(Point) float64) []float64 {
		out := make([]float64, len(r.Series))
		for i, p := range r.Series {
			out[i] = f(p)
		}
		return out
	}
	panel(top, "requests / s", []line{{"req/s", "#1f77b4", series(func(p Point) float64 { return p.RPS })}})
	y1 := top + panelH + gap
	panel(y1, "latency (ms)", []line{
		{"p50", "#2ca02c", series(func(p Point) float64 { return p.P50 })},
		{"p90", "#ff7f0e", series(func(p Point) float64 { return p.P90 })},
		{"p99", "#d62728", series(func(p Point) float64 { return p.P99 })},
	})
	step := niceCeil(tMax / 6)
	for t := 0.0; t <= tMax+1e-9; t += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), y1+panelH+16, trimFloat(t))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">seconds</text>`+"\n", left+plotW/2, y1+panelH+34)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type line struct {
	name, color string
	values      []float64
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for 0).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

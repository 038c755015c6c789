package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Charts are inline SVG written by hand: no script, font or network, the
// same bytes for the same figures, and printable. Every chart carries its
// title, the policy id and as-of date, axis labels with units, and draws
// each value as an element of class "mark" (what the browser test counts).

// palette is Okabe–Ito (distinguishable with common colour-vision
// deficiencies).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// series is one set of values over a chart's categories. hidden marks
// suppressed values: they are not drawn.
type series struct {
	name   string
	values []float64
	hidden []bool
}

// chart describes one chart.
type chart struct {
	id       string
	title    string
	subtitle string // policy id and as-of date
	xLabel   string
	yLabel   string
	cats     []string
	series   []series
	// kind: "stacked" or "grouped" vertical bars, "hbar" horizontal
	// grouped bars, "line".
	kind string
	// labelEvery shows every n-th category label (vertical charts).
	labelEvery int
	note       string
}

const (
	chartW   = 860
	fontSize = 12
)

func esc(s string) string { return html.EscapeString(s) }

func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// niceMax returns a round axis maximum ≥ v and its tick step.
func niceMax(v float64) (float64, float64) {
	if v <= 0 {
		return 1, 1
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if step < 1 {
		step = 1
	}
	return math.Ceil(v/step) * step, step
}

func tickLabel(v float64) string { return Commas(int64(math.Round(v))) }

func (c *chart) maxValue() float64 {
	m := 0.0
	if c.kind == "stacked" {
		for i := range c.cats {
			s := 0.0
			for _, sr := range c.series {
				if !sr.isHidden(i) {
					s += sr.values[i]
				}
			}
			m = math.Max(m, s)
		}
		return m
	}
	for _, sr := range c.series {
		for i, v := range sr.values {
			if !sr.isHidden(i) {
				m = math.Max(m, v)
			}
		}
	}
	return m
}

// drawable reports whether the series has a value to draw.
func (s *series) drawable() bool {
	for i, v := range s.values {
		if v > 0 && !s.isHidden(i) {
			return true
		}
	}
	return false
}

func (s *series) isHidden(i int) bool { return i < len(s.hidden) && s.hidden[i] }

// svg renders the chart.
func (c *chart) svg() string {
	if c.kind == "hbar" {
		return c.hbar()
	}
	var b strings.Builder
	left, right, top, bottom := 70.0, 20.0, 58.0, 62.0
	legendH := 0.0
	if len(c.series) > 1 {
		legendH = 20
	}
	h := 340.0 + legendH
	pw, ph := chartW-left-right, h-top-bottom-legendH
	c.open(&b, h)
	top += legendH
	c.legend(&b, left, 50)
	ymax, step := niceMax(c.maxValue())
	y := func(v float64) float64 { return top + ph - v/ymax*ph }
	// Grid and y axis.
	for v := 0.0; v <= ymax+step/2; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(y(v)), num(left+pw), num(y(v)))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y(v)+4), tickLabel(v))
	}
	n := len(c.cats)
	band := pw / float64(max(n, 1))
	every := max(c.labelEvery, 1)
	for i, cat := range c.cats {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+band*(float64(i)+0.5)), num(top+ph+16), esc(cat))
		}
	}
	if c.kind == "line" {
		c.lines(&b, left, band, y)
	} else {
		c.bars(&b, left, band, y)
	}
	// Axes and their labels.
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(top+ph), num(left+pw), num(top+ph))
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(top), num(left), num(top+ph))
	fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+pw/2), num(h-22), esc(c.xLabel))
	fmt.Fprintf(&b, `<text class="label" transform="translate(16 %s) rotate(-90)" text-anchor="middle">%s</text>`, num(top+ph/2), esc(c.yLabel))
	c.close(&b, h)
	return b.String()
}

// lines draws each series as a polyline over the category bands (a lone
// point as a dot); y maps a value to its height.
func (c *chart) lines(b *strings.Builder, left, band float64, y func(float64) float64) {
	for si, sr := range c.series {
		color := palette[si%len(palette)]
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(b, `<polyline class="mark" fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`, color, strings.Join(pts, " "), esc(sr.name))
			} else if len(pts) == 1 {
				xy := strings.Split(pts[0], ",")
				fmt.Fprintf(b, `<circle class="mark" cx="%s" cy="%s" r="2.5" fill="%s"><title>%s</title></circle>`, xy[0], xy[1], color, esc(sr.name))
			}
			pts = pts[:0]
		}
		for i, v := range sr.values {
			if sr.isHidden(i) {
				flush()
				continue
			}
			pts = append(pts, num(left+band*(float64(i)+0.5))+","+num(y(v)))
		}
		flush()
	}
}

// bars draws grouped or (kind "stacked") stacked bars, one band per
// category.
func (c *chart) bars(b *strings.Builder, left, band float64, y func(float64) float64) {
	for i := range c.cats {
		x0 := left + band*float64(i)
		inner := band * 0.8
		if c.kind == "stacked" {
			acc := 0.0
			for si, sr := range c.series {
				v := sr.values[i]
				if sr.isHidden(i) || v <= 0 {
					continue
				}
				fmt.Fprintf(b, `<rect class="mark" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: %s</title></rect>`,
					num(x0+band*0.1), num(y(acc+v)), num(inner), num(y(acc)-y(acc+v)), palette[si%len(palette)], esc(c.cats[i]), esc(sr.name), tickLabel(v))
				acc += v
			}
			continue
		}
		w := inner / float64(max(len(c.series), 1))
		for si, sr := range c.series {
			v := sr.values[i]
			if sr.isHidden(i) || v <= 0 {
				continue
			}
			fmt.Fprintf(b, `<rect class="mark" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: %s</title></rect>`,
				num(x0+band*0.1+w*float64(si)), num(y(v)), num(w), num(y(0)-y(v)), palette[si%len(palette)], esc(c.cats[i]), esc(sr.name), tickLabel(v))
		}
	}
}

// hbar renders horizontal grouped bars, one band per category.
func (c *chart) hbar() string {
	var b strings.Builder
	left, right, top := 250.0, 70.0, 58.0
	legendH := 0.0
	if len(c.series) > 1 {
		legendH = 20
	}
	rowH := 8.0 + 12.0*float64(len(c.series))
	ph := rowH * float64(max(len(c.cats), 1))
	h := top + legendH + ph + 56
	pw := chartW - left - right
	c.open(&b, h)
	c.legend(&b, left, 50)
	top += legendH
	xmax, step := niceMax(c.maxValue())
	x := func(v float64) float64 { return left + v/xmax*pw }
	for v := 0.0; v <= xmax+step/2; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x(v)), num(top), num(x(v)), num(top+ph))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x(v)), num(top+ph+16), tickLabel(v))
	}
	for i, cat := range c.cats {
		y0 := top + rowH*float64(i)
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y0+rowH/2+4), esc(truncate(cat, 38)))
		for si, sr := range c.series {
			yy := y0 + 4 + 12*float64(si)
			if sr.isHidden(i) {
				fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s">suppressed</text>`, num(left+4), num(yy+9))
				continue
			}
			v := sr.values[i]
			if v > 0 {
				fmt.Fprintf(&b, `<rect class="mark" x="%s" y="%s" width="%s" height="10" fill="%s"><title>%s %s: %s</title></rect>`,
					num(left), num(yy), num(math.Max(x(v)-left, 0.5)), palette[si%len(palette)], esc(cat), esc(sr.name), tickLabel(v))
			}
			fmt.Fprintf(&b, `<text class="value" x="%s" y="%s">%s</text>`, num(x(v)+4), num(yy+9), tickLabel(v))
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(top), num(left), num(top+ph))
	fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+pw/2), num(top+ph+40), esc(c.xLabel))
	fmt.Fprintf(&b, `<text class="label" x="12" y="%s">%s</text>`, num(top-8), esc(c.yLabel))
	c.close(&b, h)
	return b.String()
}

func (c *chart) open(b *strings.Builder, h float64) {
	fmt.Fprintf(b, `<figure class="chart-box"><svg class="chart" id="%s" role="img" aria-labelledby="%s-t" viewBox="0 0 %d %s" width="%d" height="%s" xmlns="http://www.w3.org/2000/svg" font-size="%d">`,
		esc(c.id), esc(c.id), chartW, num(h), chartW, num(h), fontSize)
	fmt.Fprintf(b, `<title id="%s-t">%s — %s</title>`, esc(c.id), esc(c.title), esc(c.subtitle))
	fmt.Fprintf(b, `<text class="title" x="12" y="20">%s</text>`, esc(c.title))
	fmt.Fprintf(b, `<text class="subtitle" x="12" y="38">%s</text>`, esc(c.subtitle))
}

func (c *chart) close(b *strings.Builder, h float64) {
	b.WriteString(`</svg>`)
	if c.note != "" {
		fmt.Fprintf(b, `<figcaption>%s</figcaption>`, esc(c.note))
	}
	b.WriteString(`</figure>`)
}

func (c *chart) legend(b *strings.Builder, x, y float64) {
	if len(c.series) < 2 {
		return
	}
	for si, sr := range c.series {
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="10" height="10" fill="%s"/><text class="tick" x="%s" y="%s">%s</text>`,
			num(x), num(y), palette[si%len(palette)], num(x+14), num(y+9), esc(sr.name))
		x += 24 + 7*float64(len([]rune(sr.name)))
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/recal-project/recal/transforms/impact"
)

// markdown renders a document as GitHub-flavoured Markdown (charts are in
// the HTML; the Markdown says so).
func (doc *document) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", mdText(doc.title), mdText(doc.subtitle))
	b.WriteString("| | |\n|---|---:|\n")
	for _, f := range doc.facts {
		fmt.Fprintf(&b, "| %s | %s |\n", mdCell(f[0]), mdCell(f[1]))
	}
	b.WriteString("\n")
	for _, s := range doc.sections {
		fmt.Fprintf(&b, "## %s\n\n", mdText(s.title))
		if s.intro != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(s.intro))
		}
		for _, c := range s.charts {
			fmt.Fprintf(&b, "_Chart in impact.html: %s (%s)._\n\n", mdText(c.title), mdText(c.subtitle))
		}
		for _, t := range s.tables {
			fmt.Fprintf(&b, "### %s\n\n", mdText(t.caption))
			if len(t.rows) == 0 {
				b.WriteString("None.\n\n")
				continue
			}
			b.WriteString("|")
			for _, h := range t.head {
				fmt.Fprintf(&b, " %s |", mdCell(h))
			}
			b.WriteString("\n|")
			for i := range t.head {
				if t.left[i] {
					b.WriteString("---|")
				} else {
					b.WriteString("---:|")
				}
			}
			b.WriteString("\n")
			for _, r := range t.rows {
				b.WriteString("|")
				for _, c := range r {
					fmt.Fprintf(&b, " %s |", mdCell(c))
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("## Notes\n\n")
	for _, n := range doc.notes {
		fmt.Fprintf(&b, "- %s\n", mdText(n))
	}
	return b.Bytes()
}

var mdEscaper = strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]", "#", "\\#")

func mdText(s string) string { return mdEscaper.Replace(s) }

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(mdText(s), "|", "\\|"), "\n", " ")
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"svg": func(c *chart) template.HTML { return template.HTML(c.svg()) }, // built with esc() throughout
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recal">
<title>{{.Title}}</title>
<style>
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2rem; }
.subtitle { color: #555; margin-top: 0; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: .6rem; }
dl.facts div { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .7rem; background: #f8fafc; }
dl.facts dt { font-size: .8rem; color: #555; }
dl.facts dd { margin: 0; font-size: 1.1rem; font-weight: 600; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; font-size: .82rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25rem .45rem; text-align: right; vertical-align: top; }
th { background: #f1f5f9; position: sticky; top: 0; }
td.l, th.l { text-align: left; }
.scroll { overflow-x: auto; }
figure.chart-box { margin: 1rem 0; }
svg.chart { max-width: 100%; height: auto; background: #fff; }
svg .title { font-size: 15px; font-weight: 600; }
svg .subtitle { font-size: 12px; fill: #555; }
svg .tick, svg .value { font-size: 10px; fill: #333; }
svg .label { font-size: 12px; fill: #222; }
svg .grid { stroke: #e5e5e5; stroke-width: 1; }
svg .axis { stroke: #333; stroke-width: 1; }
figcaption { font-size: .8rem; color: #555; }
.notes li { margin-bottom: .3rem; font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  th { position: static; }
  figure.chart-box, table { page-break-inside: avoid; break-inside: avoid; }
  h2 { page-break-after: avoid; break-after: avoid; }
  .scroll { overflow: visible; }
}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="subtitle">{{.Subtitle}}</p>
</header>
<dl class="facts">{{range .Facts}}<div><dt>{{index . 0}}</dt><dd>{{index . 1}}</dd></div>{{end}}</dl>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{if .Intro}}<p>{{.Intro}}</p>{{end}}
{{range .Charts}}{{svg .}}
{{end}}{{range .Tables}}<div class="scroll"><table>
<caption>{{.Caption}}</caption>
<thead><tr>{{range .Head}}<th class="{{.Class}}" scope="col">{{.Text}}</th>{{end}}</tr></thead>
<tbody>{{if not .Rows}}<tr><td class="l">None.</td></tr>{{end}}{{range .Rows}}<tr>{{range .}}<td class="{{.Class}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}</section>
{{end}}<section id="notes"><h2>Notes</h2><ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul></section>
</body>
</html>
`))

type htmlCell struct{ Text, Class string }

type htmlTable struct {
	Caption string
	Head    []htmlCell
	Rows    [][]htmlCell
}

type htmlSection struct {
	ID, Title, Intro string
	Charts           []*chart
	Tables           []htmlTable
}

// html renders a document as one self-contained page: inline CSS and SVG,
// no script, font, image or link to fetch.
func (doc *document) html() ([]byte, error) {
	data := struct {
		Title, Subtitle string
		Facts           [][2]string
		Sections        []htmlSection
		Notes           []string
	}{Title: doc.title, Subtitle: doc.subtitle, Facts: doc.facts, Notes: doc.notes}
	for _, s := range doc.sections {
		hs := htmlSection{ID: s.id, Title: s.title, Intro: s.intro, Charts: s.charts}
		for _, t := range s.tables {
			ht := htmlTable{Caption: t.caption}
			cls := func(i int) string {
				if t.left[i] {
					return "l"
				}
				return ""
			}
			for i, h := range t.head {
				ht.Head = append(ht.Head, htmlCell{h, cls(i)})
			}
			for _, r := range t.rows {
				var row []htmlCell
				for i, c := range r {
					row = append(row, htmlCell{c, cls(i)})
				}
				ht.Rows = append(ht.Rows, row)
			}
			hs.Tables = append(hs.Tables, ht)
		}
		data.Sections = append(data.Sections, hs)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return b.Bytes(), nil
}

// marshal renders v as indented JSON with a final newline (map keys sorted,
// so the bytes are deterministic).
func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// csvColumns are impact.csv's columns: one row per court and docket.
var csvColumns = []string{"base_city_code", "court_name", "state", "circuit", "docket", "recalendared", "assigned", "overflow",
	"slots_offered", "slots_used", "utilization", "sessions_offered", "judge_sessions", "weekly_capacity", "weeks_to_absorb",
	"days_first", "days_median", "days_p90"}

// impactCSV renders ByCourtDocket. Counts are exact unless d suppresses
// (then small cells hold the marker).
func impactCSV(imp *impact.Impact, d disclosure) ([]byte, int64, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(csvColumns); err != nil {
		return nil, 0, err
	}
	opt := func(x *float64, places int) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', places, 64)
	}
	optI := func(x *int64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatInt(*x, 10)
	}
	optD := func(x *int) string {
		if x == nil {
			return ""
		}
		return strconv.Itoa(*x)
	}
	cnt := func(n int64) string {
		if d.hide(n) {
			return d.marker()
		}
		return strconv.FormatInt(n, 10)
	}
	names := map[string]string{}
	for _, g := range imp.ByCourt {
		names[g.Court] = g.Label
	}
	var rows int64
	for _, g := range imp.ByCourtDocket {
		f := g.Figures
		rec := []string{g.Court, names[g.Court], g.State, g.Circuit, g.Docket,
			cnt(f.Recalendared), cnt(f.Assigned), cnt(f.Overflow), optI(f.SlotsOffered), cnt(f.SlotsUsed),
			d.dependent(f.Assigned, opt(f.Utilization, 4)), optI(f.SessionsOffered), optI(f.JudgeSessions), opt(f.WeeklyCapacity, 2),
			d.dependent(f.Recalendared, opt(f.WeeksToAbsorb, 1)), d.dependent(f.Assigned, optD(f.DaysToHearing.First)),
			d.dependent(f.Assigned, optD(f.DaysToHearing.Median)), d.dependent(f.Assigned, optD(f.DaysToHearing.P90))}
		if err := w.Write(rec); err != nil {
			return nil, 0, err
		}
		rows++
	}
	w.Flush()
	return b.Bytes(), rows, w.Error()
}

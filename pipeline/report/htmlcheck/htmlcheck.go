// Package htmlcheck opens recal's HTML reports in a real headless
// Chromium, for tests: the page must render without console errors or
// exceptions, fetch nothing but itself, and draw every chart with marks of
// non-zero size, its title, axis labels and the policy id and as-of date.
// It saves a full-page screenshot and a printed PDF next to the test's
// files.
//
// Chromium is Debian's package (make test installs it); RECAL_CHROMIUM
// names another binary. Without one the tests fail under CI=true and skip
// elsewhere.
package htmlcheck

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chart is what the page shows of one chart.
type Chart struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Marks  int    `json:"marks"`
	Labels int    `json:"labels"`
	Text   string `json:"text"`
}

// Result is what Check found.
type Result struct {
	Charts []Chart
	// Screenshot and PDF are the files written.
	Screenshot, PDF string
	// Tables counts the page's tables.
	Tables int
	// Text is the page's rendered text (document.body.innerText).
	Text string
}

// Chromium returns the browser binary, or skips (fails under CI) when
// there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("RECAL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium (make test installs Debian's chromium; or set RECAL_CHROMIUM)")
	}
	t.Skip("no Chromium; make test installs it")
	return ""
}

// chartsJS lists every svg.chart with its marks of non-zero size.
const chartsJS = `Array.from(document.querySelectorAll('svg.chart')).map(s => ({
  id: s.id,
  title: (s.querySelector('text.title') || {}).textContent || '',
  marks: Array.from(s.querySelectorAll('.mark')).filter(m => {
    const b = m.getBBox();
    return m.tagName === 'polyline' ? (b.width > 0 || b.height > 0) : (b.width > 0 && b.height > 0);
  }).length,
  labels: s.querySelectorAll('text.label').length,
  text: s.textContent,
}))`

// Check opens the HTML file at path and verifies it (see the package
// comment). wantInEveryChart lists strings every chart's text must hold
// (the policy id, the as-of date).
func Check(t testing.TB, path string, wantInEveryChart ...string) Result {
	t.Helper()
	bin := Chromium(t)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	pageURL := (&url.URL{Scheme: "file", Path: abs}).String()
	// Chromium's helper processes can still be writing the profile for a
	// moment after the browser is gone, so the profile is removed here,
	// with retries, rather than by t.TempDir's strict cleanup.
	profile, err := os.MkdirTemp("", "recal-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	var mu sync.Mutex
	var problems, requests []string
	chromedp.ListenTarget(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning || e.Type == runtime.APITypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, "console "+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError || e.Entry.Level == cdplog.LevelWarning {
				problems = append(problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	})

	var charts []Chart
	var tables int
	var text string
	var shot, pdf []byte
	err = chromedp.Run(bctx,
		network.Enable(), cdplog.Enable(), runtime.Enable(),
		chromedp.Navigate(pageURL),
		chromedp.WaitReady("body"),
		chromedp.Evaluate(chartsJS, &charts),
		chromedp.Evaluate(`document.querySelectorAll('table').length`, &tables),
		chromedp.Evaluate(`document.body.innerText`, &text),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG,
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			pdf, _, err = page.PrintToPDF().WithPrintBackground(true).Do(ctx)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("chromium on %s: %v", path, err)
	}
	// Let late events arrive.
	_ = chromedp.Run(bctx, chromedp.Sleep(200*time.Millisecond))
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("%s: the page logged problems:\n%s", path, strings.Join(problems, "\n"))
	}
	for _, r := range requests {
		if r != pageURL {
			t.Errorf("%s: the page fetched %s (a report must be self-contained)", path, r)
		}
	}
	if len(charts) == 0 {
		t.Errorf("%s: no chart", path)
	}
	for _, c := range charts {
		if c.Marks == 0 {
			t.Errorf("%s: chart %s (%q) draws no mark of non-zero size", path, c.ID, c.Title)
		}
		if c.Title == "" || c.Labels < 1 {
			t.Errorf("%s: chart %s has no title or axis label", path, c.ID)
		}
		for _, w := range wantInEveryChart {
			if !strings.Contains(c.Text, w) {
				t.Errorf("%s: chart %s does not show %q", path, c.ID, w)
			}
		}
	}
	res := Result{Charts: charts, Tables: tables, Text: text}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("%s: screenshot is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 900 {
		t.Errorf("%s: screenshot only %dx%d", path, b.Dx(), b.Dy())
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("%s: printing gave no PDF", path)
	}
	dir := t.TempDir()
	base := strings.TrimSuffix(filepath.Base(path), ".html")
	res.Screenshot, res.PDF = filepath.Join(dir, base+".png"), filepath.Join(dir, base+".pdf")
	if err := os.WriteFile(res.Screenshot, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(res.PDF, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	return res
}

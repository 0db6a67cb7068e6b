package render

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskfleet/deskfleet/engine"
)

// browserPath finds a Chromium for the browser test: $DESKFLEET_CHROMIUM, then chromium,
// chromium-browser and google-chrome on PATH (scripts/ensure-chromium.sh installs Debian's chromium).
func browserPath() string {
	if p := os.Getenv("DESKFLEET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// reportArtifacts is where the browser test keeps its screenshot: $DESKFLEET_ARTIFACTS, else
// testdata/artifacts (ignored by git).
func reportArtifacts(t *testing.T) string {
	dir := os.Getenv("DESKFLEET_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pageFacts is what the page shows once a browser has laid it out.
type pageFacts struct {
	Status    map[string]int `json:"status"`
	Charts    int            `json:"charts"`
	NowBars   []float64      `json:"nowBars"`
	ProjBars  []float64      `json:"projBars"`
	Rows      int            `json:"rows"`
	OnRects   []float64      `json:"onRects"`
	Resources int            `json:"resources"`
	Scripts   int            `json:"scripts"`
	Expiring  []string       `json:"expiring"`
}

const pageFactsJS = `(() => {
	const widths = sel => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect().width);
	const status = {};
	document.querySelectorAll('[data-status]').forEach(e => { status[e.dataset.status] = Number(e.textContent); });
	return {
		status,
		charts: document.querySelectorAll('svg.chart').length,
		nowBars: widths('svg.chart rect.bar.now'),
		projBars: widths('svg.chart rect.bar.projected'),
		rows: document.querySelectorAll('svg.timeline g.row').length,
		onRects: widths('svg.timeline rect.on'),
		resources: performance.getEntriesByType('resource').length,
		scripts: document.scripts.length,
		expiring: [...document.querySelectorAll('ul.expiring li')].map(e => e.textContent),
	};
})()`

// TestReportInBrowser loads the fleet report in a real headless Chromium from a file:// URL (as a
// CI artifact is opened): no console message of level error and no exception, the status counts are
// the report's, both charts have bars with a width where the amount is not zero, the timeline has a
// row per row of the report with its on-intervals drawn, nothing is fetched (no resource, no
// script). A full-page screenshot is kept (reportArtifacts). Skipped only when no Chromium is found
// and DESKFLEET_REQUIRE_BROWSER is unset; `make test` sets it, so CI cannot skip silently.
func TestReportInBrowser(t *testing.T) {
	browser := browserPath()
	if browser == "" {
		if os.Getenv("DESKFLEET_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium found (DESKFLEET_CHROMIUM, chromium, chromium-browser, google-chrome) and DESKFLEET_REQUIRE_BROWSER is set: run scripts/ensure-chromium.sh")
		}
		t.Skip("no Chromium found: run scripts/ensure-chromium.sh (make test does, and requires it)")
	}
	r := reportFixture()
	var page bytes.Buffer
	if err := ReportHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(browser), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil { // start the browser and open the tab before listening
		t.Fatalf("starting %s: %v", browser, err)
	}
	var (
		mu       sync.Mutex
		messages []chromedp.ConsoleMessage
	)
	listen, stopListening := context.WithCancel(tab)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(listen) {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1100, 900), chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	facts, err := chromedp.Run(tab, chromedp.Evaluate[pageFacts](pageFactsJS))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(reportArtifacts(t), "report.png")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(shot))
	stopListening()
	<-done
	mu.Lock()
	for _, m := range messages {
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
			t.Errorf("the page's console: %s", m)
		}
	}
	mu.Unlock()
	checkPageFacts(t, r.Status.Desktops, facts)
}

func checkPageFacts(t *testing.T, desktops int, f pageFacts) {
	t.Helper()
	r := reportFixture()
	want := map[string]int{"desktops": desktops, "healthy": r.Status.Healthy, "drifted": r.Status.Drifted,
		"in_error": r.Status.InError, "expiring": r.Status.Expiring}
	if fmt.Sprint(f.Status) != fmt.Sprint(want) {
		t.Errorf("status counts on the page %v, want the report's %v", f.Status, want)
	}
	if f.Charts != 2 {
		t.Errorf("%d charts, want 2 (by group, by label)", f.Charts)
	}
	var amounts []float64 // projected months of the charts' rows, in the page's order
	for _, row := range append(append([]engine.CostRow{}, r.Cost.Groups...), r.Cost.Labels...) {
		amounts = append(amounts, row.Projected.Month)
	}
	if len(f.ProjBars) != len(amounts) || len(f.NowBars) != len(amounts) {
		t.Fatalf("%d projected and %d now bars, want %d each", len(f.ProjBars), len(f.NowBars), len(amounts))
	}
	for i, a := range amounts {
		if (a > 0) != (f.ProjBars[i] > 0) {
			t.Errorf("projected bar %d is %.1f px wide for an amount of %.2f", i, f.ProjBars[i], a)
		}
	}
	if f.Rows != len(r.Week) {
		t.Errorf("timeline has %d rows, want %d", f.Rows, len(r.Week))
	}
	if len(f.OnRects) != 6 {
		t.Errorf("timeline has %d on-intervals, want 6 (5 working days, 1 always-on)", len(f.OnRects))
	}
	for i, w := range f.OnRects {
		if w <= 0 {
			t.Errorf("on-interval %d is %.1f px wide", i, w)
		}
	}
	if len(f.Expiring) != 1 || !strings.Contains(f.Expiring[0], "in 4 days") {
		t.Errorf("expiring list %q, want the one expiring desktop with its days left", f.Expiring)
	}
	if f.Resources != 0 || f.Scripts != 0 {
		t.Errorf("the page fetched %d resources and has %d scripts: it must be self-contained", f.Resources, f.Scripts)
	}
}

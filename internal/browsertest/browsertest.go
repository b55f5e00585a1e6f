// Package browsertest starts one headless Debian chromium per test binary
// for the wallet's browser tests, driven with chromedp. Like net/http/httptest
// it is for tests only.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	mu          sync.Mutex
	browser     context.Context // the shared browser; nil until started
	stopBrowser func()
	userDataDir string
	startErr    error
)

// ExecPath finds chromium: $IPASS_CHROMIUM, else chromium or
// chromium-browser on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("IPASS_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// Browser returns the context of the test binary's browser, starting it on
// first use. Without chromium the test is skipped locally but fails in CI
// (CI=true): a browser test must not pass by not running.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	path, err := ExecPath()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("chromium not found (required in CI; install Debian's chromium package): %v", err)
		}
		tb.Skipf("chromium not found, browser test skipped: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if browser == nil && startErr == nil {
		startErr = start(path)
	}
	if startErr != nil {
		tb.Fatalf("start chromium %s: %v", path, startErr)
	}
	return browser
}

// start launches chromium with the flags a closed network and a root user
// need: without them it stalls on connections it cannot make.
func start(path string) error {
	dir, err := os.MkdirTemp("", "ipass-chromium-")
	if err != nil {
		return err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The first action on bctx itself starts the browser: a browser started
	// through a derived context would end with that context.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
		return err
	}
	browser, userDataDir = bctx, dir
	stopBrowser = func() { cancelBrowser(); cancelAlloc() }
	return nil
}

// Tab opens a new tab in the shared browser; it closes when the test ends.
func Tab(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(Browser(tb))
	tb.Cleanup(cancel)
	return ctx
}

// Close stops the browser, if one was started; call it from TestMain.
func Close() {
	mu.Lock()
	defer mu.Unlock()
	if stopBrowser != nil {
		stopBrowser()
		os.RemoveAll(userDataDir)
		browser, stopBrowser = nil, nil
	}
}

// ScreenshotDir is the folder screenshots go to: $IPASS_SCREENSHOT_DIR, else
// a fresh temporary folder, logged so it can be found.
func ScreenshotDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("IPASS_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ipass-wallet-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Screenshot saves the full page of ctx as name.png in ScreenshotDir and
// logs where.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(ScreenshotDir(tb), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshot: %s", path)
}

// Eval evaluates the JavaScript expression in the tab and returns its value.
func Eval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitFor polls the JavaScript predicate every 10 ms until it is true, and
// fails the test (showing the page's text) if timeout passes first.
func WaitFor(tb testing.TB, ctx context.Context, what, predicate string, timeout time.Duration) {
	tb.Helper()
	start := time.Now()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		tb.Fatalf("%s: not seen within %s (%v); page:\n%s", what, timeout, err, Eval[string](tb, ctx, `document.body.innerText`))
	}
	tb.Logf("%s: seen after %s", what, time.Since(start).Round(time.Millisecond))
}

// OpenWallet navigates to a wallet page and waits until its script has
// connected the event stream (the page's live marker shows).
func OpenWallet(tb testing.TB, ctx context.Context, url string) {
	tb.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.Fatalf("navigate %s: %v", url, err)
	}
	WaitFor(tb, ctx, "event stream connected", `!!document.querySelector('[data-live]') && !document.querySelector('[data-live]').hidden`, 10*time.Second)
}

// Text is a JavaScript expression for the text of the first match of css
// (undefined when nothing matches).
func Text(css string) string {
	return fmt.Sprintf(`(document.querySelector(%q)||{}).textContent`, css)
}

// PassSelector is the CSS selector of the pass element of passID (the
// wallet's DOM contract), inside tab ("active", "inactive") unless tab is "".
func PassSelector(tab, passID string) string {
	s := fmt.Sprintf(`[data-pass-id="%s"]`, passID)
	if tab != "" {
		s = fmt.Sprintf(`[data-tab="%s"] %s`, tab, s)
	}
	return s
}

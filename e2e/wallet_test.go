package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/internal/browsertest"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// walletLive is the wallet's promise: a committed change shows on an open
// page within this long, whichever node took the call.
const walletLive = time.Second

// walletLink runs `ipass admin wallet-link` against the database, as an
// operator would, for a page served by the node at addr.
func walletLink(t testing.TB, dsn, addr, user string) string {
	t.Helper()
	out, err := exec.Command(ipassBinary(t), "admin", "wallet-link", "--db", dsn, "--user", user, "--base-url", "http://"+addr).Output()
	if err != nil {
		t.Fatalf("ipass admin wallet-link: %v", err)
	}
	return strings.TrimSpace(string(out))
}

type walletFeed struct {
	Passes []struct {
		PassID   string                     `json:"passId"`
		Version  int                        `json:"version"`
		DataInfo map[string]json.RawMessage `json:"dataInfo"`
	} `json:"passes"`
	Removed []string `json:"removed"`
	Cursor  string   `json:"cursor"`
}

func (f walletFeed) ids() []string {
	var out []string
	for _, p := range f.Passes {
		out = append(out, p.PassID)
	}
	return out
}

// TestWalletTwoNodes: two `serve` processes on one PostgreSQL database. The
// page is open on node A; calls go to node B; the page follows within a
// second (LISTEN/NOTIFY). Then node A goes away and comes back: the
// browser's event stream reconnects with Last-Event-ID and nothing made
// meanwhile is missed.
func TestWalletTwoNodes(t *testing.T) {
	newDSN := sqlstoretest.DSNs(t)[sqlstore.EnginePostgres]
	if newDSN == nil {
		t.Skip("PostgreSQL not configured (IPASS_TEST_POSTGRES_URL); required under CI=true")
	}
	ctx := browsertest.Tab(t)
	dsn := newDSN(t)
	srvs := startCluster(t, dsn, writeTenants(t, 0, 0), 2)
	a, b := srvs[0], srvs[1]
	c := newAPIClient(t, client44ID)
	card := c.call(t, b.addr, "createPass", memberCreate("wallet-two-nodes-1"), "SUCCESS").passID()
	link := walletLink(t, dsn, a.addr, user0534)

	browsertest.OpenWallet(t, ctx, link+"?lang=en_US")
	points := browsertest.Text(browsertest.PassSelector("active", card) + ` [data-field="points"] [data-field-value]`)
	if got := browsertest.Eval[string](t, ctx, points); got != "100" {
		t.Fatalf("points on node A's page: %q, want 100", got)
	}
	c.call(t, b.addr, "updatePass", pointsUpdate(card, 500), "SUCCESS")
	browsertest.WaitFor(t, ctx, "node B's update on node A's page", points+` === "500"`, walletLive)

	// The cursor the page has seen, from the change feed.
	var before walletFeed
	getJSON(t, link+"/api/passes", &before)

	// Cut: node A stops (its event streams end), changes go to node B while
	// it is away, and node A comes back on the same address.
	a.args = slices.Clone(a.args)
	a.args[slices.Index(a.args, "127.0.0.1:0")] = a.addr
	a.stop(t)
	c.call(t, b.addr, "updatePass", pointsUpdate(card, 600), "SUCCESS")
	second := c.call(t, b.addr, "createPass", memberCreate("wallet-two-nodes-2"), "SUCCESS").passID()
	a.start(t)
	browsertest.WaitFor(t, ctx, "changes made while the stream was cut",
		fmt.Sprintf(`%s === "600" && !!document.querySelector(%q)`, points, browsertest.PassSelector("active", second)), 15*time.Second)
	browsertest.Screenshot(t, ctx, "wallet-two-nodes")

	// The replay itself, as any client sees it: reconnecting with the
	// cursor from before the cut first delivers both changes.
	req, _ := http.NewRequest(http.MethodGet, link+"/events", nil)
	req.Header.Set("Last-Event-ID", before.Cursor)
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(rctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var replay walletFeed
	var id string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(v), &replay); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	got := replay.ids()
	if !slices.Contains(got, card) || !slices.Contains(got, second) || id != replay.Cursor || id == before.Cursor {
		t.Fatalf("replay after cursor %s: id %s, passes %v; want %s and %s", before.Cursor, id, got, card, second)
	}
	for _, p := range replay.Passes {
		if p.PassID == card && string(p.DataInfo["$points_en_US$"]) != "600" {
			t.Fatalf("replayed card has points %s, want 600", p.DataInfo["$points_en_US$"])
		}
	}
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

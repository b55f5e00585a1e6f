package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminPasses: list and show read what the API wrote, history included.
func TestAdminPasses(t *testing.T) {
	dataDir := t.TempDir()
	url, _, stop := startServe(t, dataDir)
	flags := []string{"--url", url, "--client-id", "2110200000000044", "--key", filepath.Join(dataDir, "demo-client.pem"),
		"--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem")}
	call := func(args ...string) string {
		t.Helper()
		r := cliRun(t, "", nil, append(append([]string{"call", args[0]}, flags...), args[1:]...)...)
		if r.code != exitOK {
			t.Fatalf("call %v: %s", args, r)
		}
		return strings.TrimSpace(r.stdout)
	}
	card := call("createPass", "--field", "passId", filepath.Join(examplesDir, "member-card-create.json"))
	call("updatePass", "--set", "passId="+card, filepath.Join(examplesDir, "member-card-points.json"))
	ticket := call("createPass", "--field", "passId", filepath.Join(examplesDir, "ticket-create.json"))
	stop()
	db := "sqlite:" + filepath.Join(dataDir, "ipass.db")

	r := cliRun(t, "", nil, "admin", "passes", "list", "--merchant", "2160120036095023", "--db", db)
	if r.code != exitOK || !strings.Contains(r.stdout, card) || !strings.Contains(r.stdout, ticket) ||
		!strings.Contains(r.stdout, "CARD/MEMBER_CARD") || !strings.Contains(r.stdout, "TICKET/PASS") {
		t.Fatalf("list: %s", r)
	}
	r = cliRun(t, "", nil, "admin", "passes", "list", "--merchant", "2160120036095023", "--user", "2160220043214225", "--db", db)
	if r.code != exitOK || strings.Contains(r.stdout, card) || !strings.Contains(r.stdout, ticket) {
		t.Fatalf("list --user: %s", r)
	}
	r = cliRun(t, "", nil, "admin", "passes", "show", card, "--db", db)
	for _, want := range []string{"pass " + card + "  CARD/MEMBER_CARD", "v1  ", "createPass → ACTIVE  client 2110200000000044",
		"v2  ", "updatePass UPDATE UPDATE_MEMBER_CARD → ACTIVE", "dataInfo.$points_en_US$: 100 → 19999",
		"dataInfo.$level_zh_HK$: - → \"銀卡\"", `metadata {"billNo":"220230343242343442422333222","lastChangedPoints":19899,"pointsProvider":"ALIPAYHK"}`} {
		if r.code != exitOK || !strings.Contains(r.stdout, want) {
			t.Fatalf("show lacks %q: %s", want, r)
		}
	}
	r = cliRun(t, "", nil, "admin", "passes", "show", "--json", "--db", db, card)
	var out struct {
		Pass    struct{ PassID string }
		History []struct {
			Version  int
			ClientID string
			TracerID string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Pass.PassID != card || len(out.History) != 2 ||
		out.History[1].Version != 2 || out.History[1].ClientID != "2110200000000044" || len(out.History[1].TracerID) != 32 {
		t.Fatalf("show --json (%v): %s", err, r)
	}
	if r := cliRun(t, "", nil, "admin", "passes", "show", "2025010100000000000000000000001", "--db", db); r.code != exitFailure || !strings.Contains(r.stderr, "no pass") {
		t.Fatalf("show of a missing pass: %s", r)
	}
	if r := cliRun(t, "", nil, "admin", "passes", "list", "--db", db); r.code != exitUsage {
		t.Fatalf("list without --merchant: %s", r)
	}
}

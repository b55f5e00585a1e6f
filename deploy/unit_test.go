// Package deploy_test checks the example deployment files under deploy/.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnitVerifies: `systemd-analyze verify` accepts ipass.service
// without a single warning. The unit names /usr/local/bin/ipass, which
// verify requires to exist; the copy checked points ExecStart at this test
// binary instead and is otherwise byte for byte the file we ship.
func TestSystemdUnitVerifies(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is missing; .ci/run installs the systemd package")
		}
		t.Skip("systemd-analyze not installed")
	}
	unit, err := os.ReadFile("ipass.service")
	if err != nil {
		t.Fatal(err)
	}
	const bin = "/usr/local/bin/ipass serve "
	if !strings.Contains(string(unit), "ExecStart="+bin) {
		t.Fatalf("ipass.service: ExecStart does not run %q", bin)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, text string) (string, error) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "ipass.service")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/usr/local/bin/ipass", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "verify", path).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := check(t, string(unit)); err != nil || out != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The check can fail: verify reports a misspelt directive.
	if out, _ := check(t, strings.Replace(string(unit), "Restart=on-failure", "Restart=sometimes", 1)); out == "" {
		t.Fatal("systemd-analyze verify did not notice a bad Restart= value")
	}
}

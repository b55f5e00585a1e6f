package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpNamesExistingDocs: every document a --help text names is a file
// of this repository, so a user of a clone can open it.
func TestHelpNamesExistingDocs(t *testing.T) {
	doc := regexp.MustCompile(`[A-Za-z0-9_./-]+\.md\b`)
	var runs [][]string
	for name := range commands {
		runs = append(runs, []string{name, "--help"})
	}
	runs = append(runs, []string{"--help"}, []string{"admin", "apply", "--help"}, []string{"admin", "export", "--help"},
		[]string{"admin", "passes", "--help"}, []string{"admin", "passes", "list", "--help"}, []string{"admin", "passes", "show", "--help"})
	named := 0
	for _, args := range runs {
		r := cliRun(t, "", nil, args...)
		text := r.stdout + r.stderr
		if len(text) < 20 {
			t.Errorf("ipass %s: no help text: %s", strings.Join(args, " "), r)
		}
		for _, m := range doc.FindAllString(text, -1) {
			named++
			if _, err := os.Stat(filepath.Join("..", "..", m)); err != nil {
				t.Errorf("ipass %s names %s, which is not a file of the repository", strings.Join(args, " "), m)
			}
		}
	}
	if named == 0 {
		t.Fatal("no --help text names a document")
	}
}

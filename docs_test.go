package ipass_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// mdLink matches an inline Markdown link or image target: ](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocLinks: every relative link in the repository's Markdown resolves to
// a file inside the repository (and, with #anchor, to a heading of it), so
// a clone stands on its own. Generated, git-ignored folders (ipass-data,
// bench-out) are not part of a clone and are skipped.
func TestDocLinks(t *testing.T) {
	var pages []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "ipass-data" || d.Name() == "bench-out" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			pages = append(pages, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"README.md", "docs/api.md", "docs/operating.md", "docs/tenants-file.md"} {
		if !contains(pages, filepath.FromSlash(must)) {
			t.Errorf("%s is missing", must)
		}
	}
	checked := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllSubmatch(stripCode(text), -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, anchor, _ := strings.Cut(target, "#")
			resolved := page
			if file != "" {
				resolved = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
				if resolved == ".." || strings.HasPrefix(resolved, ".."+string(filepath.Separator)) || filepath.IsAbs(file) {
					t.Errorf("%s: link %s leaves the repository", page, target)
					continue
				}
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s: link %s: %v", page, target, err)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(resolved, ".md") {
				body, _ := os.ReadFile(resolved)
				if !contains(anchors(body), anchor) {
					t.Errorf("%s: link %s: no heading with anchor #%s in %s", page, target, anchor, resolved)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d relative links found: is the link pattern broken?", checked)
	}
}

// TestNoOutsideReferences: no file of the repository refers to the
// contract folder that lives beside it on the build machine.
func TestNoOutsideReferences(t *testing.T) {
	needle := []byte("../" + "shared")
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "ipass-data" || d.Name() == "bench-out" {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if i := bytes.Index(data, needle); i >= 0 {
			line := bytes.Count(data[:i], []byte("\n")) + 1
			t.Errorf("%s:%d refers to %s", path, line, needle)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stripCode blanks fenced code blocks, where ](x) is code, not a link.
func stripCode(md []byte) []byte {
	var out [][]byte
	in := false
	for _, line := range bytes.Split(md, []byte("\n")) {
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("```")) {
			in = !in
			continue
		}
		if !in {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// anchors returns the GitHub anchors of a Markdown file's headings:
// lower case, punctuation other than - and _ dropped, spaces as -.
func anchors(md []byte) []string {
	var out []string
	for _, line := range strings.Split(string(stripCode(md)), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

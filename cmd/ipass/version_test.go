package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	r := cliRun(t, "", nil, "version")
	if r.code != exitOK || !strings.Contains(r.stdout, "go       "+runtime.Version()) || !strings.HasPrefix(r.stdout, "ipass ") {
		t.Fatalf("ipass version: %s", r)
	}
	if r := cliRun(t, "", nil, "version", "extra"); r.code != exitUsage {
		t.Fatalf("ipass version extra: %s", r)
	}
	tests := []struct {
		name string
		info debug.BuildInfo
		want []string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ipass-dev/ipass", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "6dd7db9abc"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			[]string{"ipass v1.2.3\n", "module   github.com/ipass-dev/ipass\n", "revision 6dd7db9abc\n", "committed 2026-12-01T10:00:00Z\n", "go       go1.26.8 "}},
		{"dirty tree", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			[]string{"ipass (devel)\n", "revision abc+dirty\n"}},
		{"no vcs", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m"}},
			[]string{"ipass (devel)\n", "revision unknown\n"}},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		printVersion(&b, &tc.info)
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: output %q lacks %q", tc.name, b.String(), w)
			}
		}
	}
}

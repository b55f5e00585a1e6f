package cpuset

import (
	"runtime"
	"slices"
	"testing"
)

func TestFormatParse(t *testing.T) {
	for _, tc := range []struct {
		cpus []int
		list string
	}{
		{[]int{0}, "0"},
		{[]int{0, 1}, "0,1"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{6, 0, 1, 2, 4}, "0-2,4,6"},
		{[]int{1, 1, 3, 4, 5, 9, 10}, "1,3-5,9,10"},
	} {
		if got := Format(tc.cpus); got != tc.list {
			t.Errorf("Format(%v) = %q, want %q", tc.cpus, got, tc.list)
		}
		want := slices.Compact(slices.Sorted(slices.Values(tc.cpus)))
		if got, err := Parse(tc.list); err != nil || !slices.Equal(got, want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.list, got, err, want)
		}
	}
	for _, bad := range []string{"a", "3-1", "-1", "1-x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestOverlap(t *testing.T) {
	if got := Overlap([]int{0, 1, 2}, []int{2, 3}); !slices.Equal(got, []int{2}) {
		t.Errorf("Overlap = %v, want [2]", got)
	}
	if got := Overlap([]int{0}, []int{1}); len(got) != 0 {
		t.Errorf("Overlap = %v, want none", got)
	}
}

func TestAllowed(t *testing.T) {
	cpus, ok := Allowed()
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatal("Allowed reported CPUs off Linux")
		}
		return
	}
	// The runtime sizes NumCPU from the same affinity mask at start.
	if !ok || len(cpus) != runtime.NumCPU() {
		t.Fatalf("Allowed = %v, %v; want %d CPUs", cpus, ok, runtime.NumCPU())
	}
}

// Package cpuset reads which CPUs a process may run on and writes and parses
// them as Linux CPU lists ("0-3,6"), so that `ipass bench` can tell when it
// shares cores with the server it measures.
package cpuset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Format writes cpus as a CPU list: sorted, runs of three or more as a
// range ("0-2,5"), the form of /proc/PID/status's Cpus_allowed_list.
func Format(cpus []int) string {
	s := slices.Clone(cpus)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		switch {
		case j-i >= 2:
			fmt.Fprintf(&b, "%d-%d", s[i], s[j])
		case j > i:
			fmt.Fprintf(&b, "%d,%d", s[i], s[j])
		default:
			b.WriteString(strconv.Itoa(s[i]))
		}
		i = j + 1
	}
	return b.String()
}

// Parse reads a CPU list as Format writes it (ranges and single CPUs,
// comma-separated, spaces ignored).
func Parse(list string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(strings.ReplaceAll(list, " ", ""), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("cpu list %q: bad entry %q", list, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", list, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// Overlap is the CPUs in both a and b.
func Overlap(a, b []int) []int {
	var out []int
	for _, c := range a {
		if slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}

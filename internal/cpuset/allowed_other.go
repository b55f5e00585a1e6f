//go:build !linux

package cpuset

// Allowed reports ok false: only Linux exposes the affinity this way.
func Allowed() (cpus []int, ok bool) { return nil, false }

package cpuset

import "golang.org/x/sys/unix"

// Allowed is the CPUs the calling process may run on (its scheduler
// affinity); ok is false where that cannot be read.
func Allowed() (cpus []int, ok bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, false
	}
	for c := range 1024 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, len(cpus) > 0
}

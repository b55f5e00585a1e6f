//go:build unix

package wallet

import (
	"syscall"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// BenchmarkCodeQR512 draws QR codes of 512 characters, uncached, and reports
// the process's CPU time and the markup's size per code (on a shared machine
// CPU time is steadier than ns/op). Targets: ≤ 5 ms and ≤ 8 KiB each.
//
//	go test ./wallet/ -run '^$' -bench CodeQR512 -benchtime 200x
func BenchmarkCodeQR512(b *testing.B) {
	for _, name := range []string{"ASCII512", "Chinese512", "FourBytes512"} {
		value := codeValues[name]
		b.Run(name, func(b *testing.B) {
			n := 0
			cpu0 := cpuTime(b)
			for range b.N {
				n = len(drawCode(ipass.CodeQR, value))
			}
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/code")
			b.ReportMetric(float64(n), "bytes/code")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build race

package http_test

// raceDetector: timing comparisons skip under -race, which times its own
// instrumentation; .ci/run runs them once more without it.
const raceDetector = true

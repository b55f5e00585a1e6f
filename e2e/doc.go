// Package e2e holds the end-to-end tests of the ipass server: the built
// binary, started as real processes on temporary data dirs and databases.
//
// The black-box test (blackbox_test.go) talks to it over raw HTTP/1.1 and does
// every signature, verification, encryption and decryption with the `openssl`
// command line, never with this module's gateway or client packages, so it
// checks the wire contract of docs/api.md independently of the
// implementation it tests.
//
// The multi-process, outage, kill -9, rate-limit, shutdown and load tests
// (loadharness_test.go and the tests that use it) sign and verify with package
// gateway for speed; every response is still verified before it counts.
package e2e

// Package e2e holds the black-box end-to-end test of the ipass server.
//
// The test builds cmd/ipass, starts `ipass serve` on a temporary data dir and
// talks to it over raw HTTP/1.1. Every signature, verification, encryption and
// decryption goes through the `openssl` command line, never through this
// module's gateway or client packages, so the test checks the wire contract of
// ipass-api.md independently of the implementation it tests.
package e2e

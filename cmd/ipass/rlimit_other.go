//go:build !unix

package main

// openFileLimit is unknown here: the connection cap needs --max-connections.
func openFileLimit() uint64 { return 0 }

// Package examples holds the example request bodies described in
// README.md here, embedded so that `ipass serve` can give its start-up
// banner copies that exist wherever the server runs.
package examples

import "embed"

// Files are the example bodies (*.json), by file name.
//
//go:embed *.json
var Files embed.FS

// Package web holds the wallet's HTML templates and static files (CSS and
// the small live-update script), embedded in the binary: no CDN, no build
// step. Package http parses and serves them.
package web

import "embed"

// Templates are the html/template files, under templates/.
//
//go:embed templates/*.html
var Templates embed.FS

// Static are the files served under /static/wallet/, under static/.
//
//go:embed static/*
var Static embed.FS

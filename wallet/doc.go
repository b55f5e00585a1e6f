// Package wallet holds the pure parts of the wallet view, the pass holder's
// side of ipass (docs/wallet.md): wallet-link tokens (HMAC, no I/O), where a
// pass is shown (the placement table), how a card face and its history read
// in a locale, the QR / Code 128 images, and the composition of the pages
// (page.go: the cards, tabs, sections, paging, history lines and colour
// classes a render shows, from one clock reading). It imports only the root
// package; routes, authentication, store reads, URLs, template rendering and
// live updates are in package http.
package wallet

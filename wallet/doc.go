// Package wallet holds the pure parts of the wallet view, the pass holder's
// side of ipass (docs/wallet.md): wallet-link tokens (HMAC, no I/O), where a
// pass is shown (the placement table), how a card face and its history read
// in a locale, and the QR / Code 128 images. It imports only the root
// package; the pages, routes and live updates are in package http.
package wallet

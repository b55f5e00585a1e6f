//go:build !openssl || !cgo

package openssl

import (
	"crypto"
	"errors"
)

// Available reports why libcrypto is not used: this build does not contain it.
func Available() error {
	return errors.New("built without -tags openssl (or without cgo)")
}

// Wrap returns key unchanged: this build signs with Go.
func Wrap(key crypto.Signer) crypto.Signer { return key }

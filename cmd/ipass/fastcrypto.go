package main

import (
	"crypto"
	"log/slog"

	ipasshttp "github.com/ipass-dev/ipass/http"
	libcrypto "github.com/ipass-dev/ipass/internal/openssl"
)

// withFastCrypto puts the server's RSA keys behind libcrypto in a build
// with -tags openssl (see internal/openssl) where libcrypto.so.3 loads;
// otherwise, and for the P-224 key, it returns them unchanged.
func withFastCrypto(keys ipasshttp.ServerKeys, logger *slog.Logger) ipasshttp.ServerKeys {
	if err := libcrypto.Available(); err != nil {
		logger.Debug("RSA operations in Go", "reason", err.Error())
		return keys
	}
	keys.RSASigner = libcrypto.Wrap(keys.RSASigner)
	keys.Decrypter = wrapDecrypter(keys.Decrypter)
	keys.PreviousDecrypter = wrapDecrypter(keys.PreviousDecrypter)
	keys.SigningDecrypter = wrapDecrypter(keys.SigningDecrypter)
	logger.Info("RSA operations in libcrypto (openssl build)")
	return keys
}

func wrapDecrypter(d crypto.Decrypter) crypto.Decrypter {
	if s, ok := d.(crypto.Signer); ok {
		if w, ok := libcrypto.Wrap(s).(crypto.Decrypter); ok {
			return w
		}
	}
	return d
}

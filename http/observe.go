package http

import (
	"crypto/rsa"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// CryptoOp names a cryptographic operation the server performs per request.
type CryptoOp string

// The operations an [Observer] is told about, timed where the server calls
// them (the crypto.Signer, the gateway verify and RSA_AES functions), so the
// figure is the same whichever implementation sits behind the seam.
const (
	CryptoSign       CryptoOp = "sign"        // the response signature (crypto.Signer.Sign, with SHA-256)
	CryptoVerify     CryptoOp = "verify"      // the request signature check (with SHA-256)
	CryptoUnwrap     CryptoOp = "unwrap"      // RSA decryption of a request's AES key
	CryptoAESDecrypt CryptoOp = "aes_decrypt" // AES-ECB decryption of a request body
	CryptoSeal       CryptoOp = "seal"        // an encrypted response: fresh AES key, RSA wrap, AES-ECB encrypt
)

// Observer receives the server's own measurements; cmd/ipass plugs in the
// Prometheus exporter, so this package stays free of it. Methods are called
// concurrently and must not block.
type Observer interface {
	// ObserveRequest reports one API request: its path (one of the Path*
	// constants or "other"), its result code and its time in the handler.
	ObserveRequest(path string, code ipass.Code, d time.Duration)
	// ObserveCrypto reports one cryptographic operation; alg is RSA256,
	// ECC224, RSA or AES-128/AES-192/AES-256.
	ObserveCrypto(op CryptoOp, alg string, d time.Duration)
}

func (s *Server) observeRequest(x *exchange, code ipass.Code, start time.Time) {
	if s.Observer == nil {
		return
	}
	path := "other" // unknown paths must not grow the label set
	if _, ok := operationFor(x.path); ok {
		path = x.path
	}
	s.Observer.ObserveRequest(path, code, time.Since(start))
}

func (s *Server) observeCrypto(op CryptoOp, alg string, start time.Time) {
	if s.Observer != nil {
		s.Observer.ObserveCrypto(op, alg, time.Since(start))
	}
}

// open is gateway.Open in its two steps, each timed.
func (s *Server) open(decrypter *rsa.PrivateKey, p gateway.EncryptParams, body []byte) ([]byte, int, error) {
	start := time.Now()
	key, err := gateway.UnwrapKey(decrypter, p.WrappedKey)
	s.observeCrypto(CryptoUnwrap, "RSA", start)
	if err != nil {
		return nil, 0, err
	}
	start = time.Now()
	plaintext, err := gateway.DecryptBody(key, body)
	s.observeCrypto(CryptoAESDecrypt, aesName(len(key)), start)
	return plaintext, len(key), err
}

func aesName(keyLen int) string {
	switch keyLen {
	case 16:
		return "AES-128"
	case 24:
		return "AES-192"
	}
	return "AES-256"
}

// Package openssl signs RSA256 (PKCS#1 v1.5, SHA-256) and unwraps RSA_AES
// keys with the system's libcrypto (OpenSSL 3), which is about three times
// faster than Go's RSA-2048 private-key operation. It is opt-in: only a build
// with -tags openssl (and cgo) contains it; every other build, and a host
// where libcrypto.so.3 cannot be loaded, keeps the Go implementation.
//
// [Wrap] returns a key that is a crypto.Signer and a crypto.Decrypter, so
// nothing above it knows which implementation signs. libcrypto is loaded at
// run time (dlopen), so the binary still starts where it is missing; the
// headers (Debian's libssl-dev) are needed to build.
//
// Unwrapping keeps Go's semantics exactly: libcrypto does only the raw RSA
// operation, and the PKCS#1 v1.5 padding check runs in constant time here,
// as crypto/rsa does it, including implicit rejection (a random key of the
// requested length on any padding failure) when the caller asks for it with
// rsa.PKCS1v15DecryptOptions.SessionKeyLen.
package openssl

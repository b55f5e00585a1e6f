//go:build openssl && cgo

package openssl

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

// The libcrypto functions used, loaded with dlopen so that the binary runs
// (on Go's implementation) where the library is missing. The prototypes come
// from the headers, so a mismatch is a compile error.
static struct {
	__typeof__(&d2i_PrivateKey) d2i_private_key;
	__typeof__(&EVP_PKEY_free) pkey_free;
	__typeof__(&EVP_PKEY_CTX_new) ctx_new;
	__typeof__(&EVP_PKEY_CTX_free) ctx_free;
	__typeof__(&EVP_PKEY_sign_init) sign_init;
	__typeof__(&EVP_PKEY_sign) sign;
	__typeof__(&EVP_PKEY_decrypt_init) decrypt_init;
	__typeof__(&EVP_PKEY_decrypt) decrypt;
	__typeof__(&EVP_PKEY_CTX_set_rsa_padding) set_rsa_padding;
	__typeof__(&EVP_PKEY_CTX_set_signature_md) set_signature_md;
	__typeof__(&EVP_sha256) sha256;
	__typeof__(&ERR_clear_error) clear_error;
} F;

static int ossl_load(void) {
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return 1;
#define LOAD(field, name) if ((*(void **)(&F.field) = dlsym(h, name)) == NULL) return 2;
	LOAD(d2i_private_key, "d2i_PrivateKey")
	LOAD(pkey_free, "EVP_PKEY_free")
	LOAD(ctx_new, "EVP_PKEY_CTX_new")
	LOAD(ctx_free, "EVP_PKEY_CTX_free")
	LOAD(sign_init, "EVP_PKEY_sign_init")
	LOAD(sign, "EVP_PKEY_sign")
	LOAD(decrypt_init, "EVP_PKEY_decrypt_init")
	LOAD(decrypt, "EVP_PKEY_decrypt")
	LOAD(set_rsa_padding, "EVP_PKEY_CTX_set_rsa_padding")
	LOAD(set_signature_md, "EVP_PKEY_CTX_set_signature_md")
	LOAD(sha256, "EVP_sha256")
	LOAD(clear_error, "ERR_clear_error")
#undef LOAD
	return 0;
}

static EVP_PKEY *ossl_rsa_key(const unsigned char *der, long len) {
	const unsigned char *p = der;
	return F.d2i_private_key(EVP_PKEY_RSA, NULL, &p, len);
}

static void ossl_free_key(EVP_PKEY *k) { F.pkey_free(k); }

// ossl_rsa_sign signs a SHA-256 digest with PKCS#1 v1.5 padding.
static int ossl_rsa_sign(EVP_PKEY *k, const unsigned char *dgst, size_t dlen, unsigned char *sig, size_t *siglen) {
	EVP_PKEY_CTX *c = F.ctx_new(k, NULL);
	if (c == NULL) return 0;
	int ok = F.sign_init(c) > 0 &&
		F.set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
		F.set_signature_md(c, F.sha256()) > 0 &&
		F.sign(c, sig, siglen, dgst, dlen) > 0;
	F.ctx_free(c);
	if (!ok) F.clear_error();
	return ok;
}

// ossl_rsa_raw_decrypt is the bare RSA private-key operation: no padding is
// checked here, so libcrypto's own PKCS#1 handling cannot become an oracle.
static int ossl_rsa_raw_decrypt(EVP_PKEY *k, const unsigned char *in, size_t inlen, unsigned char *out, size_t *outlen) {
	EVP_PKEY_CTX *c = F.ctx_new(k, NULL);
	if (c == NULL) return 0;
	int ok = F.decrypt_init(c) > 0 &&
		F.set_rsa_padding(c, RSA_NO_PADDING) > 0 &&
		F.decrypt(c, out, outlen, in, inlen) > 0;
	F.ctx_free(c);
	if (!ok) F.clear_error();
	return ok;
}
*/
import "C"

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

var (
	loadOnce sync.Once
	loadErr  error
)

// Available reports whether libcrypto.so.3 is loaded and usable.
func Available() error {
	loadOnce.Do(func() {
		switch C.ossl_load() {
		case 0:
		case 1:
			loadErr = errors.New("libcrypto.so.3 not found")
		default:
			loadErr = errors.New("libcrypto.so.3 lacks a needed function")
		}
	})
	return loadErr
}

// Wrap returns key backed by libcrypto when it is an RSA key and libcrypto
// is available (and agrees with Go on a test signature); otherwise key
// itself. The result is a crypto.Signer and, for RSA, a crypto.Decrypter.
func Wrap(key crypto.Signer) crypto.Signer {
	k, err := newRSAKey(key)
	if err != nil {
		return key
	}
	return k
}

// rsaKey is an RSA private key held by libcrypto. Operations it does not
// accelerate (PSS, OAEP, other hashes) go to the Go key.
type rsaKey struct {
	goKey *rsa.PrivateKey
	pkey  *C.EVP_PKEY
}

func newRSAKey(key crypto.Signer) (*rsaKey, error) {
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	if err := Available(); err != nil {
		return nil, err
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	pkey := C.ossl_rsa_key((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der)
	if pkey == nil {
		return nil, errors.New("libcrypto refused the key")
	}
	k := &rsaKey{goKey: priv, pkey: pkey}
	runtime.AddCleanup(k, func(p *C.EVP_PKEY) { C.ossl_free_key(p) }, pkey)
	// One signature from each implementation must agree (PKCS#1 v1.5 is
	// deterministic) before this key is trusted to answer for Go's.
	digest := sha256.Sum256([]byte("ipass openssl self-test"))
	want, err := priv.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	got, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !bytes.Equal(got, want) {
		return nil, fmt.Errorf("libcrypto signature differs from Go's: %v", err)
	}
	return k, nil
}

// Public returns the *rsa.PublicKey.
func (k *rsaKey) Public() crypto.PublicKey { return &k.goKey.PublicKey }

// Sign signs a SHA-256 digest with PKCS#1 v1.5 in libcrypto; any other
// request (PSS, another hash) is Go's.
func (k *rsaKey) Sign(random io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss || opts.HashFunc() != crypto.SHA256 || len(digest) != sha256.Size {
		return k.goKey.Sign(random, digest, opts)
	}
	sig := make([]byte, k.goKey.Size())
	n := C.size_t(len(sig))
	ok := C.ossl_rsa_sign(k.pkey, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), &n)
	runtime.KeepAlive(k)
	if ok == 0 || int(n) != len(sig) {
		return nil, errors.New("openssl: RSA sign failed")
	}
	return sig, nil
}

// Decrypt is rsa.PrivateKey.Decrypt for PKCS#1 v1.5 (nil opts or
// *rsa.PKCS1v15DecryptOptions) with the RSA operation in libcrypto; OAEP is
// Go's. The same inputs give the same result or the same error as Go.
func (k *rsaKey) Decrypt(random io.Reader, ciphertext []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	sessionKeyLen := 0
	switch o := opts.(type) {
	case nil:
	//lint:ignore SA1019 the wire protocol mandates PKCS#1 v1.5 key transport; callers ask for implicit rejection with it.
	case *rsa.PKCS1v15DecryptOptions:
		sessionKeyLen = o.SessionKeyLen
	default:
		return k.goKey.Decrypt(random, ciphertext, opts)
	}
	if sessionKeyLen > 0 {
		// As rsa.DecryptPKCS1v15SessionKey: the random key is drawn
		// first, and kept whenever the padding is wrong.
		key := make([]byte, sessionKeyLen)
		if _, err := io.ReadFull(random, key); err != nil {
			return nil, err
		}
		if k.goKey.Size()-(len(key)+3+8) < 0 {
			return nil, rsa.ErrDecryption
		}
		valid, em, index, err := k.decryptPKCS1v15(ciphertext)
		if err != nil {
			return nil, err
		}
		valid &= subtle.ConstantTimeEq(int32(len(em)-index), int32(len(key)))
		subtle.ConstantTimeCopy(valid, key, em[len(em)-len(key):])
		return key, nil
	}
	valid, em, index, err := k.decryptPKCS1v15(ciphertext)
	if err != nil {
		return nil, err
	}
	if valid == 0 {
		return nil, rsa.ErrDecryption
	}
	return em[index:], nil
}

// decryptPKCS1v15 is crypto/rsa's function of the same name with the RSA
// operation in libcrypto: valid is 1 when the padding is right, and the
// message is em[index:]. It runs in constant time in the padding.
func (k *rsaKey) decryptPKCS1v15(ciphertext []byte) (valid int, em []byte, index int, err error) {
	size := k.goKey.Size()
	if size < 11 || len(ciphertext) > size {
		return 0, nil, 0, rsa.ErrDecryption
	}
	if len(ciphertext) == 0 {
		ciphertext = []byte{0} // Go reads no bytes as the number 0
	}
	em = make([]byte, size)
	n := C.size_t(len(em))
	ok := C.ossl_rsa_raw_decrypt(k.pkey, (*C.uchar)(unsafe.Pointer(&ciphertext[0])), C.size_t(len(ciphertext)),
		(*C.uchar)(unsafe.Pointer(&em[0])), &n)
	runtime.KeepAlive(k)
	if ok == 0 || int(n) != size {
		// A ciphertext not below the modulus: public knowledge, not an
		// oracle, and Go refuses it the same way.
		return 0, nil, 0, rsa.ErrDecryption
	}
	firstByteIsZero := subtle.ConstantTimeByteEq(em[0], 0)
	secondByteIsTwo := subtle.ConstantTimeByteEq(em[1], 2)
	// The rest must be non-zero random octets, a zero, then the message.
	lookingForIndex := 1
	for i := 2; i < len(em); i++ {
		equals0 := subtle.ConstantTimeByteEq(em[i], 0)
		index = subtle.ConstantTimeSelect(lookingForIndex&equals0, i, index)
		lookingForIndex = subtle.ConstantTimeSelect(equals0, 0, lookingForIndex)
	}
	// The padding string is at least 8 bytes, starting two bytes into em.
	validPS := subtle.ConstantTimeLessOrEq(2+8, index)
	valid = firstByteIsZero & secondByteIsTwo & (^lookingForIndex & 1) & validPS
	index = subtle.ConstantTimeSelect(valid, index+1, 0)
	return valid, em, index, nil
}

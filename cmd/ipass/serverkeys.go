package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/keyfile"
	"github.com/ipass-dev/ipass/sqlstore"
)

// Server key file names in the data dir (each with .pub.pem and .pub.b64).
const (
	rsaSigningName    = "server-signing"
	eccSigningName    = "server-ecc-signing"
	rsaEncryptionName = "server-encryption"
)

// serverKeyFile is one server key and where it came from, for messages and
// the start-up banner.
type serverKeyFile struct {
	flag      string        // the flag that names it, e.g. --signing-key
	path      string        // the private key file
	pubPEM    string        // a public key file merchants can be given
	generated bool          // created by this start
	key       crypto.Signer // the key
}

// serverKeySet is the server's keys as loaded by loadServerKeys.
type serverKeySet struct {
	keys                      ipasshttp.ServerKeys
	rsaSign, eccSign, encrypt serverKeyFile
}

// serverKeyRecorder is what loadServerKeys needs from the database: the
// cluster's recorded key set, and whether the database is already in use.
type serverKeyRecorder interface {
	ServerKeys(ctx context.Context, version int) (sqlstore.RecordedServerKeys, bool, error)
	RecordServerKeys(ctx context.Context, version int, keys sqlstore.ServerKeySet) (sqlstore.RecordedServerKeys, error)
	HasClients(ctx context.Context) (bool, error)
}

// loadServerKeys loads the configured server keys or generates missing ones
// in the data dir (once; later starts and other nodes sharing the dir reuse
// them), then checks them against the key set the database recorded for
// --server-key-version, recording it if this is the first node to start
// with that version.
func loadServerKeys(ctx context.Context, cfg *serveConfig, db serverKeyRecorder, logger *slog.Logger) (*serverKeySet, error) {
	set := &serverKeySet{keys: ipasshttp.ServerKeys{KeyVersion: cfg.serverKeyVersion}}
	var err error
	if set.rsaSign, err = loadOrGenerate("--signing-key", cfg.signingKey, cfg.dataDir, rsaSigningName, gateway.RSA256, cfg.serverKeyVersion, logger); err != nil {
		return nil, err
	}
	if _, ok := set.rsaSign.key.(*rsa.PrivateKey); !ok {
		return nil, fmt.Errorf("--signing-key %s: not an RSA private key", set.rsaSign.path)
	}
	if set.eccSign, err = loadOrGenerate("--ecc-signing-key", cfg.eccSigningKey, cfg.dataDir, eccSigningName, gateway.ECC224, cfg.serverKeyVersion, logger); err != nil {
		return nil, err
	}
	if pub, ok := set.eccSign.key.Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P224() {
		return nil, fmt.Errorf("--ecc-signing-key %s: not a P-224 EC private key", set.eccSign.path)
	}
	if cfg.encryptionKey == "" && !fileExists(filepath.Join(cfg.dataDir, rsaEncryptionName+".pem")) {
		if err := checkNoLegacyEncryption(ctx, cfg, db, set.rsaSign); err != nil {
			return nil, err
		}
	}
	if set.encrypt, err = loadOrGenerate("--encryption-key", cfg.encryptionKey, cfg.dataDir, rsaEncryptionName, gateway.RSA256, cfg.serverKeyVersion, logger); err != nil {
		return nil, err
	}
	dec, ok := set.encrypt.key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("--encryption-key %s: not an RSA private key", set.encrypt.path)
	}
	if dec.PublicKey.Equal(set.rsaSign.key.Public()) {
		logger.Warn("the RSA encryption key is the RSA signing key; give the server a separate --encryption-key (see Key rotation in the README)",
			"file", set.encrypt.path)
	}
	set.keys.RSASigner, set.keys.ECCSigner, set.keys.Decrypter = set.rsaSign.key, set.eccSign.key, dec
	// For clients set to encryptionKey: signing only (checked above: RSA).
	set.keys.SigningDecrypter = set.rsaSign.key.(*rsa.PrivateKey)
	if cfg.prevEncryptionKey != "" {
		prev, err := loadKey(cfg.prevEncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("--previous-encryption-key: %w", err)
		}
		prevRSA, ok := prev.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("--previous-encryption-key: not an RSA private key")
		}
		set.keys.PreviousDecrypter, set.keys.PreviousKeyVersion = prevRSA, cfg.prevKeyVersion
	}
	if err := checkClusterKeys(ctx, cfg.serverKeyVersion, db, set, logger); err != nil {
		return nil, err
	}
	return set, nil
}

// checkNoLegacyEncryption refuses to generate a separate encryption key for a
// deployment that existed before ipass had one. Its merchants may encrypt
// RSA_AES requests to the signing key (the old default), and a new key would
// make every such request fail; quietly going on decrypting with the signing
// key would keep the signing key exposed to decryption attempts. The
// operator decides, with one of the flags the message names.
func checkNoLegacyEncryption(ctx context.Context, cfg *serveConfig, db serverKeyRecorder, sign serverKeyFile) error {
	if sign.generated || cfg.prevEncryptionKey != "" {
		return nil // a new deployment, or a rotation already under way
	}
	if _, recorded, err := db.ServerKeys(ctx, cfg.serverKeyVersion); err != nil {
		return err
	} else if recorded {
		return nil // the cluster check below decides
	}
	inUse, err := db.HasClients(ctx)
	if err != nil {
		return err
	}
	if !inUse {
		return nil
	}
	v := cfg.serverKeyVersion
	return fmt.Errorf(`this deployment predates ipass's separate RSA encryption key: its merchants may encrypt requests to the signing key %s, and %s does not exist yet. Choose one:
  - move to a separate key, keeping the old one for a grace period: add --server-key-version %d --previous-encryption-key %s --previous-server-key-version %d
    (a new %s.pem is generated; requests encrypted to keyVersion %d still decrypt until you drop the --previous-* flags);
  - keep decrypting with the signing key for now: add --encryption-key %s;
  - if no merchant encrypts requests: create the key yourself with ipass keygen --algorithm RSA256 --out %s`,
		sign.path, filepath.Join(cfg.dataDir, rsaEncryptionName+".pem"),
		v+1, sign.path, v, filepath.Join(cfg.dataDir, rsaEncryptionName), v,
		sign.path, filepath.Join(cfg.dataDir, rsaEncryptionName))
}

// checkClusterKeys records the fingerprints of this node's public keys for
// the key version, or, when another node recorded them first, refuses to
// start if any differs: a response must verify whichever node answered.
func checkClusterKeys(ctx context.Context, version int, db serverKeyRecorder, set *serverKeySet, logger *slog.Logger) error {
	mine := sqlstore.ServerKeySet{
		RSASigning:    gateway.Fingerprint(set.rsaSign.key.Public()),
		ECCSigning:    gateway.Fingerprint(set.eccSign.key.Public()),
		RSAEncryption: gateway.Fingerprint(set.encrypt.key.Public()),
	}
	rec, err := db.RecordServerKeys(ctx, version, mine)
	if err != nil {
		return err
	}
	var diffs []string
	for _, c := range []struct {
		what         string
		file         serverKeyFile
		mine, theirs string
	}{
		{"RSA signing", set.rsaSign, mine.RSASigning, rec.RSASigning},
		{"ECC signing", set.eccSign, mine.ECCSigning, rec.ECCSigning},
		{"RSA encryption", set.encrypt, mine.RSAEncryption, rec.RSAEncryption},
	} {
		if c.mine != c.theirs {
			diffs = append(diffs, fmt.Sprintf("  %s key %s (%s): %s here, %s in the database",
				c.what, c.file.path, c.file.flag, c.mine, c.theirs))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("server keys differ from the ones the database recorded for --server-key-version %d on %s:\n%s\n"+
			"Every node must use the same key set, or merchants' checks fail depending on the node that answers. "+
			"Give this node the other nodes' key files (copy them, or pass --signing-key, --ecc-signing-key and --encryption-key); "+
			"to introduce new keys, start them under a new --server-key-version (see Key rotation in the README)",
			version, rec.RecordedAt.Format(time.RFC3339), strings.Join(diffs, "\n"))
	}
	logger.Info("server keys", "key_version", version,
		"rsa_signing", mine.RSASigning, "ecc_signing", mine.ECCSigning, "rsa_encryption", mine.RSAEncryption)
	return nil
}

func loadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return gateway.ParsePrivateKey(data)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadOrGenerate loads the key named by flag (path) if given; otherwise
// dataDir/name.pem, generating it when it does not exist yet. It makes sure
// a public key file exists for the banner: name.pub.pem next to a data-dir
// key, the key's own .pub.pem next to a given file when that matches, or
// else dataDir/name-vN.pub.pem.
func loadOrGenerate(flag, path, dataDir, name string, alg gateway.Algorithm, version int, logger *slog.Logger) (serverKeyFile, error) {
	f := serverKeyFile{flag: flag, path: path}
	var err error
	if path != "" {
		if f.key, err = loadKey(path); err != nil {
			return f, fmt.Errorf("%s %s: %w", flag, path, err)
		}
		f.pubPEM = strings.TrimSuffix(path, ".pem") + ".pub.pem"
		if pub, err := loadPublicKey(f.pubPEM); err != nil || !sameKey(pub, f.key.Public()) {
			f.pubPEM = filepath.Join(dataDir, name+"-v"+strconv.Itoa(version)+".pub.pem")
			if err := publishPublicKey(strings.TrimSuffix(f.pubPEM, ".pub.pem"), f.key.Public()); err != nil {
				return f, fmt.Errorf("%s: write public key: %w", flag, err)
			}
		}
		return f, nil
	}
	prefix := filepath.Join(dataDir, name)
	f.path, f.pubPEM = prefix+".pem", prefix+".pub.pem"
	if f.key, f.generated, err = loadOrCreatePrivateKey(prefix, alg); err != nil {
		return f, fmt.Errorf("%s (default %s): %w", flag, f.path, err)
	}
	if f.generated {
		logger.Info("generated server key", "algorithm", alg, "file", f.path, "public", f.pubPEM)
	}
	// Also after a crash between the private and the public files.
	if !fileExists(prefix+".pub.pem") || !fileExists(prefix+".pub.b64") {
		if err := publishPublicKey(prefix, f.key.Public()); err != nil {
			return f, fmt.Errorf("%s: write public key: %w", flag, err)
		}
	}
	return f, nil
}

func sameKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// loadOrCreatePrivateKey returns the key in prefix.pem, creating it first if
// it does not exist. Safe when several processes share the directory and
// start together: the key is written whole to a temporary file and linked
// into place, which fails if another process linked its key first; the loser
// then reads the winner's complete file.
func loadOrCreatePrivateKey(prefix string, alg gateway.Algorithm) (crypto.Signer, bool, error) {
	if key, err := loadKey(prefix + ".pem"); err == nil {
		return key, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err := gateway.GenerateKey(alg)
	if err != nil {
		return nil, false, err
	}
	err = writePrivateKeyExclusive(prefix+".pem", key)
	if errors.Is(err, fs.ErrExist) {
		theirs, err := loadKey(prefix + ".pem")
		return theirs, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// writePrivateKeyExclusive writes key to path (PKCS#8 PEM, 0600) unless path
// exists (an error wrapping fs.ErrExist): never overwrite a key someone may
// have pinned, and never let a reader see half a key.
func writePrivateKeyExclusive(path string, key crypto.Signer) error {
	privPEM, err := gateway.MarshalPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	created, err := keyfile.CreateOnce(path, privPEM, 0o600)
	if err == nil && !created {
		err = &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	return err
}

// publishPublicKey writes prefix.pub.pem (SPKI) and prefix.pub.b64 (bare
// base64 DER, the form the official SDKs take), each replaced atomically:
// processes racing here write the same bytes, derived from the same key.
func publishPublicKey(prefix string, pub crypto.PublicKey) error {
	pubPEM, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	pubB64, err := gateway.PublicKeyBase64(pub)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o700); err != nil {
		return err
	}
	if err := keyfile.WriteIfChanged(prefix+".pub.pem", pubPEM, 0o644); err != nil {
		return err
	}
	return keyfile.WriteIfChanged(prefix+".pub.b64", []byte(pubB64), 0o644)
}

// writeKeyFiles writes PREFIX.pem (PKCS#8, 0600; never over an existing
// file), PREFIX.pub.pem (SPKI) and PREFIX.pub.b64 (bare base64 DER).
func writeKeyFiles(prefix string, key crypto.Signer) error {
	if err := writePrivateKeyExclusive(prefix+".pem", key); err != nil {
		return err
	}
	return publishPublicKey(prefix, key.Public())
}

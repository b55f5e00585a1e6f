package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// serveMustFail runs `ipass serve args...`, which must exit with a failure
// before it starts listening, and returns what it printed.
func serveMustFail(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr syncBuffer
	code := run(ctx, &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }},
		append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	if ctx.Err() != nil || code != exitFailure {
		t.Fatalf("serve %v: exit %d (timed out: %v), want %d\nstderr: %s", args, code, ctx.Err() != nil, exitFailure, stderr.String())
	}
	return stderr.String()
}

func fingerprintOf(t *testing.T, pubFile string) string {
	t.Helper()
	pub, err := loadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	return gateway.Fingerprint(pub)
}

// TestServeDataDirPlacesDatabase: --data-dir alone moves the default SQLite
// file there.
func TestServeDataDirPlacesDatabase(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "elsewhere")
	_, _, stop := startServeArgs(t, "--data-dir", dataDir)
	stop()
	if _, err := os.Stat(filepath.Join(dataDir, "ipass.db")); err != nil {
		t.Fatalf("no database in --data-dir: %v", err)
	}
	var cfg serveConfig
	fs := cfg.flagSet(&bytes.Buffer{})
	if err := fs.Parse([]string{"--data-dir", "/srv/x", "--db", "postgres://h/db"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil || cfg.db != "postgres://h/db" {
		t.Fatalf("--db given: db = %q, err %v; want it kept", cfg.db, err)
	}
}

// TestServeClusterKeyCheck: on one database, a node whose server keys differ
// from the recorded ones for its --server-key-version refuses to start and
// says which files and fingerprints differ; a node given the first node's
// key files starts.
func TestServeClusterKeyCheck(t *testing.T) {
	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dsn := newDSN(t)
			dirA, dirB, dirC := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "c")
			_, _, stop := startServeArgs(t, "--data-dir", dirA, "--db", dsn)
			stop()

			msg := serveMustFail(t, "--data-dir", dirB, "--db", dsn)
			for _, n := range []string{rsaSigningName, eccSigningName, rsaEncryptionName} {
				for _, want := range []string{
					filepath.Join(dirB, n+".pem"),
					fingerprintOf(t, filepath.Join(dirA, n+".pub.pem")),
					fingerprintOf(t, filepath.Join(dirB, n+".pub.pem")),
				} {
					if !strings.Contains(msg, want) {
						t.Errorf("refusal lacks %q:\n%s", want, msg)
					}
				}
			}
			if !strings.Contains(msg, "--server-key-version 1") {
				t.Errorf("refusal does not name the key version:\n%s", msg)
			}

			// One differing key is enough to refuse, and only it is named.
			msg = serveMustFail(t, "--data-dir", dirC, "--db", dsn,
				"--signing-key", filepath.Join(dirA, "server-signing.pem"),
				"--ecc-signing-key", filepath.Join(dirA, "server-ecc-signing.pem"))
			if !strings.Contains(msg, "RSA encryption key") || strings.Contains(msg, "RSA signing key") {
				t.Errorf("refusal should name only the encryption key:\n%s", msg)
			}

			_, _, stop = startServeArgs(t, "--data-dir", dirC, "--db", dsn,
				"--signing-key", filepath.Join(dirA, "server-signing.pem"),
				"--ecc-signing-key", filepath.Join(dirA, "server-ecc-signing.pem"),
				"--encryption-key", filepath.Join(dirA, "server-encryption.pem"))
			stop()
			// A new version may bring new keys.
			_, _, stop = startServeArgs(t, "--data-dir", dirB, "--db", dsn, "--server-key-version", "2")
			stop()
		})
	}
}

// TestServerKeyGenerationRace: processes sharing a data dir and starting
// together all end up with the one key that was written first, complete.
func TestServerKeyGenerationRace(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	const n = 8
	files := make([]serverKeyFile, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			files[i], errs[i] = loadOrGenerate("--signing-key", "", dir, rsaSigningName, gateway.RSA256, 1, logger)
		})
	}
	wg.Wait()
	generated := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if files[i].generated {
			generated++
		}
		if !sameKey(files[i].key.Public(), files[0].key.Public()) {
			t.Fatalf("start %d uses another key than start 0", i)
		}
	}
	if generated != 1 {
		t.Fatalf("%d starts say they generated the key, want 1", generated)
	}
	if got := fingerprintOf(t, filepath.Join(dir, rsaSigningName+".pub.pem")); got != gateway.Fingerprint(files[0].key.Public()) {
		t.Fatalf("published public key %s is not the key in use", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// TestServeLegacyEncryptionKey: a deployment from before the separate
// encryption key (server-signing.pem, clients in the database, no
// server-encryption.pem) does not start until the operator chooses; the
// documented rotation keeps requests encrypted to the signing key working
// under the old version while new ones use the new key.
func TestServeLegacyEncryptionKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	sign, err := gateway.GenerateKey(gateway.RSA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFiles(filepath.Join(dir, rsaSigningName), sign); err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(dir, "ipass.db")
	demo, info, err := tenants.Demo(dir)
	if err != nil {
		t.Fatal(err)
	}
	db := sqlstoretest.Open(t, dsn)
	if err := db.Apply(context.Background(), demo); err != nil {
		t.Fatal(err)
	}

	msg := serveMustFail(t, "--data-dir", dir)
	for _, want := range []string{"--previous-encryption-key " + filepath.Join(dir, "server-signing.pem"), "--server-key-version 2", "--encryption-key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal lacks %q:\n%s", want, msg)
		}
	}
	if fileExists(filepath.Join(dir, "server-encryption.pem")) {
		t.Fatal("an encryption key was generated although the start was refused")
	}

	url, _, stop := startServeArgs(t, "--data-dir", dir, "--server-key-version", "2",
		"--previous-encryption-key", filepath.Join(dir, "server-signing.pem"), "--previous-server-key-version", "1")
	defer stop()
	if fingerprintOf(t, filepath.Join(dir, "server-encryption.pub.pem")) == gateway.Fingerprint(sign.Public()) {
		t.Fatal("the new encryption key is the signing key")
	}
	create := filepath.Join("..", "..", "examples", "member-card-create.json")
	for i, enc := range []struct{ pub, version string }{
		{filepath.Join(dir, "server-signing.pub.pem"), "1"},    // an old client, during the grace period
		{filepath.Join(dir, "server-encryption.pub.pem"), "2"}, // a client that moved
	} {
		r := cliRun(t, "", nil, "call", "createPass", "--url", url, "--client-id", info.ClientID, "--key", info.PrivateKeyFile,
			"--server-public-key", filepath.Join(dir, "server-signing.pub.pem"),
			"--encrypt", "--server-encryption-key", enc.pub, "--encryption-key-version", enc.version,
			"--set", "bizSerialId=LEGACY-"+enc.version, "--field", "passId", create)
		if r.code != exitOK || r.stdout == "" {
			t.Fatalf("encrypted call %d (keyVersion %s): %s", i, enc.version, r)
		}
	}
	stop()

	// Keeping the signing key for decryption is allowed when asked for.
	_, _, stop2 := startServeArgs(t, "--data-dir", filepath.Join(t.TempDir(), "other"), "--db", dsn,
		"--signing-key", filepath.Join(dir, "server-signing.pem"), "--ecc-signing-key", filepath.Join(dir, "server-ecc-signing.pem"),
		"--encryption-key", filepath.Join(dir, "server-signing.pem"), "--server-key-version", "3")
	stop2()
}

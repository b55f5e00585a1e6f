package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/ipass-dev/ipass/gateway"
)

func init() {
	register("keygen", "generate a client key pair (PEM private key, PEM and base64 public key)", runKeygen)
}

const keygenUsage = `Usage: ipass keygen [--algorithm RSA256|ECC224] --out PREFIX

Writes a new key pair:
  PREFIX.pem       private key, PKCS#8 PEM, mode 0600 (keep it secret)
  PREFIX.pub.pem   public key, SPKI PEM
  PREFIX.pub.b64   public key, bare base64 of the DER on one line (the form
                   the AlipayHK console and the official SDKs take)
and prints the public key's SHA-256 fingerprint. Existing files are never
overwritten. Register the public key with the server (tenants file
publicKeyFile, or the AlipayHK console) under a keyVersion.

Flags:
`

func runKeygen(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	alg := fs.String("algorithm", string(gateway.RSA256), "RSA256 (RSA 2048) or ECC224 (ECDSA P-224)")
	out := fs.String("out", "", "file name `PREFIX` of the three files (required)")
	if code, ok := parseFlags(e, fs, keygenUsage, args); !ok {
		return code
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(e.stderr, "ipass keygen: "+format+"\n", args...)
		return code
	}
	if *out == "" {
		return fail(exitUsage, "--out PREFIX is required")
	}
	a, err := gateway.ParseAlgorithm(*alg)
	if err != nil {
		return fail(exitUsage, "--algorithm %q: want RSA256 or ECC224", *alg)
	}
	files := []string{*out + ".pem", *out + ".pub.pem", *out + ".pub.b64"}
	// Checked up front so that nothing is half-written over an existing
	// pair (writeKeyFiles itself only guards the private key).
	for _, f := range files {
		if _, err := os.Lstat(f); err == nil {
			return fail(exitFailure, "%s already exists; not overwriting a key (choose another --out)", f)
		}
	}
	key, err := gateway.GenerateKey(a)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	if err := writeKeyFiles(*out, key); err != nil {
		return fail(exitFailure, "write key files: %v", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (private key, PKCS#8 PEM, mode 0600: keep it secret)\n", files[0])
	fmt.Fprintf(e.stdout, "wrote %s (public key, SPKI PEM)\n", files[1])
	fmt.Fprintf(e.stdout, "wrote %s (public key, base64 DER)\n", files[2])
	fmt.Fprintf(e.stdout, "algorithm:   %s\n", a)
	fmt.Fprintf(e.stdout, "fingerprint: %s\n", gateway.Fingerprint(key.Public()))
	return exitOK
}

package main

import (
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore"
)

// clientSettingsOptions are the flags of `ipass admin client-settings`. The
// server-side ones are named as `ipass serve` names them, so the same
// IPASS_* environment finds the same keys and database.
type clientSettingsOptions struct {
	client        string
	db            string
	dataDir       string
	signingKey    string
	encryptionKey string
	keyVersion    int
	addr          string
	url           string
	tlsCert       string
}

func runAdminClientSettings(ctx context.Context, e *env, args []string) int {
	var o clientSettingsOptions
	fs := flag.NewFlagSet("ipass admin client-settings", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.client, "client", "", "the client's `ID` (required)")
	fs.StringVar(&o.db, "db", "", "database `DSN` (default sqlite:DATA_DIR/ipass.db, as serve)")
	fs.StringVar(&o.dataDir, "data-dir", "./ipass-data", "the server's data `directory`, where its public key files are")
	fs.StringVar(&o.signingKey, "signing-key", "", "the server's RSA signing key `file`, if serve is given one (default: DATA_DIR/server-signing.pub.pem)")
	fs.StringVar(&o.encryptionKey, "encryption-key", "", "the server's RSA encryption key `file`, if serve is given one (default: DATA_DIR/server-encryption.pub.pem)")
	fs.IntVar(&o.keyVersion, "server-key-version", 1, "the server's key version, as serve")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "the server's listen `address`, for the gateway URL")
	fs.StringVar(&o.url, "url", "", "the gateway `URL` merchants use, if not http(s)://ADDR (behind a proxy)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "as serve: when set, the gateway URL is https")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: ipass admin client-settings --client ID [flags]

Prints what one client needs to point an SDK at this server, in the forms the
official SDKs take (docs/sdks.md): the gateway URL, the key versions, the
client's headerCase and encryptionKey, and the server's public keys as PEM and
as one-line base64 (the Antom SDKs' alipayPublicKey, the ZOLOZ SDK's
openApiPublicKey). The server flags are those of ipass serve, and are also read
from the same IPASS_* variables.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin client-settings: %v\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 || o.client == "" {
		fmt.Fprintln(e.stderr, "ipass admin client-settings: --client ID is required, and nothing else")
		fs.Usage()
		return exitUsage
	}
	if o.db == "" {
		o.db = "sqlite:" + filepath.Join(o.dataDir, "ipass.db")
	}
	if err := clientSettings(ctx, e.stdout, o); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin client-settings: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// serverPublicKey is the public half of the key serve uses: derived from the
// private key file when one is named, else the data dir's published file.
func serverPublicKey(privFile, dataDir, name string) (crypto.PublicKey, string, error) {
	if privFile != "" {
		k, err := loadKey(privFile)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", privFile, err)
		}
		return k.Public(), privFile, nil
	}
	path := filepath.Join(dataDir, name+".pub.pem")
	pub, err := loadPublicKey(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w (start ipass serve once with this --data-dir, or name the key file)", err)
	}
	return pub, path, nil
}

func clientSettings(ctx context.Context, w io.Writer, o clientSettingsOptions) error {
	db, err := sqlstore.Open(ctx, o.db, adminLogger(os.Stderr))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	c, err := db.Client(ctx, o.client)
	if errors.Is(err, ipass.ErrNotFound) {
		return fmt.Errorf("client %q is not registered", o.client)
	} else if err != nil {
		return err
	}
	signPub, signFrom, err := serverPublicKey(o.signingKey, o.dataDir, rsaSigningName)
	if err != nil {
		return fmt.Errorf("server signing key: %w", err)
	}
	encPub, encFrom, err := serverPublicKey(o.encryptionKey, o.dataDir, rsaEncryptionName)
	if err != nil {
		return fmt.Errorf("server encryption key: %w", err)
	}
	// Printing keys the running server does not use would hand merchants
	// keys that fail every check, so compare with what serve recorded.
	if rec, found, err := db.ServerKeys(ctx, o.keyVersion); err != nil {
		return err
	} else if found {
		if fp := gateway.Fingerprint(signPub); fp != rec.RSASigning {
			return fmt.Errorf("the signing key %s (%s) is not the one the server recorded for --server-key-version %d (%s)", signFrom, fp, o.keyVersion, rec.RSASigning)
		}
		if fp := gateway.Fingerprint(encPub); fp != rec.RSAEncryption {
			return fmt.Errorf("the encryption key %s (%s) is not the one the server recorded for --server-key-version %d (%s)", encFrom, fp, o.keyVersion, rec.RSAEncryption)
		}
	}
	url := o.url
	if url == "" {
		url = gatewayURL(o.addr, o.tlsCert != "")
	}

	headerCase := c.HeaderCase
	if headerCase == "" {
		headerCase = ipass.HeaderLower
	}
	encKey := c.EncryptionKey
	if encKey == "" {
		encKey = ipass.EncryptionKeyDedicated
	}
	fmt.Fprintf(w, "client: %s\n", c.ID)
	if c.Name != "" {
		fmt.Fprintf(w, "name: %s\n", c.Name)
	}
	fmt.Fprintf(w, "gateway URL: %s\n", url)
	var active []string
	for _, k := range c.Keys {
		if k.Status == ipass.KeyActive {
			active = append(active, fmt.Sprintf("%s %d", k.Algorithm, k.Version))
		}
	}
	fmt.Fprintf(w, "client keys (algorithm keyVersion, active): %s\n", strings.Join(active, ", "))
	if _, ok := c.ActiveKey(ipass.AlgorithmRSA256, 1); !ok {
		fmt.Fprintln(w, "note: no active RSA256 key version 1, which the Antom SDKs sign with unless told another keyVersion")
	}
	fmt.Fprintf(w, "server key version: %d\n", o.keyVersion)
	switch headerCase {
	case ipass.HeaderCanonical:
		fmt.Fprintln(w, "headerCase: canonical (responses: Client-Id, Response-Time, Signature, Encrypt)")
	default:
		fmt.Fprintln(w, "headerCase: lower (responses: client-id, response-time, signature, encrypt)")
	}
	requestKey, requestFrom := encPub, encFrom
	switch encKey {
	case ipass.EncryptionKeySigning:
		requestKey, requestFrom = signPub, signFrom
		fmt.Fprintln(w, "encryptionKey: signing (wrap the AES key of encrypted requests to the server signing key)")
	default:
		fmt.Fprintln(w, "encryptionKey: encryption (wrap the AES key of encrypted requests to the server encryption key)")
	}
	if err := printPublicKey(w, "server signing public key (verifies responses; Antom SDKs: alipayPublicKey, ZOLOZ SDK: openApiPublicKey)", signPub, signFrom); err != nil {
		return err
	}
	return printPublicKey(w, "server public key for encrypted requests (wrap the AES key to it)", requestKey, requestFrom)
}

// printPublicKey writes a titled key as its source, one base64 line, and PEM.
func printPublicKey(w io.Writer, title string, pub crypto.PublicKey, from string) error {
	b64, err := gateway.PublicKeyBase64(pub)
	if err != nil {
		return err
	}
	pemText, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\nfrom: %s\nfingerprint: %s\nbase64: %s\n%s", title, from, gateway.Fingerprint(pub), b64, pemText)
	return nil
}

// gatewayURL is the URL of a server listening on addr. A wildcard host is
// shown as 127.0.0.1, which at least works on the server's own machine.
func gatewayURL(addr string, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/ipass-dev/ipass/gateway"
)

func init() {
	register("sign", "print the Signature header for the parts of a message", runSign)
}

const signUsage = `Usage: ipass sign --key FILE [--key-version N] [--algorithm RSA256|ECC224]
                  [--method POST] --path PATH --client-id ID --time TIME --body-file FILE|-

Prints the Signature header value for one message: a request (with its
Request-Time) or a response (with its Response-Time, and the method and path
of the request it answers). The content signed is

  <METHOD> <PATH>\n<Client-Id>.<TIME>.<BODY>

with every part exactly as given: the body is read as bytes and never
re-encoded. --verbose also prints that content on stderr.

Flags:
`

// messageParts are the parts of one message that its signature covers
// (spec 2.5), shared by sign and verify.
type messageParts struct {
	method   string
	path     string
	clientID string
	time     string
	bodyFile string
}

func (m *messageParts) register(fs *flag.FlagSet) {
	fs.StringVar(&m.method, "method", "POST", "request `method` (for a response: of the request it answers)")
	fs.StringVar(&m.path, "path", "", "request `path` without host or query, e.g. /api/open/alipay/v1/ipass/pass/manage/createPass (a full URL is cut to its path)")
	fs.StringVar(&m.clientID, "client-id", "", "Client-Id header `value`, verbatim (may be given as empty)")
	fs.StringVar(&m.time, "time", "", "Request-Time or Response-Time header `value`, verbatim")
	fs.StringVar(&m.bodyFile, "body-file", "", "`FILE` with the exact body bytes, - for stdin (an encrypted message's body is its base64 text)")
}

// content checks that every part was given and builds the content.
func (m *messageParts) content(fs *flag.FlagSet, e *env) ([]byte, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"path", "client-id", "time", "body-file"} {
		if !given[name] {
			return nil, fmt.Errorf("--%s is required", name)
		}
	}
	path := m.path
	if strings.Contains(path, "://") {
		u, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("--path: %v", err)
		}
		path = u.EscapedPath()
	}
	if strings.ContainsAny(path, "?#") {
		return nil, errors.New("--path: leave out the query string: it is not signed")
	}
	if path == "" || path[0] != '/' {
		return nil, fmt.Errorf("--path %q: want a path starting with /", m.path)
	}
	if m.bodyFile == "" {
		return nil, errors.New("--body-file: want a file name or - for stdin")
	}
	body, err := readInput(e, m.bodyFile)
	if err != nil {
		return nil, fmt.Errorf("--body-file: %w", err)
	}
	return gateway.Content(m.method, path, m.clientID, m.time, body), nil
}

// readInput reads a file, or stdin for "-".
func readInput(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	return os.ReadFile(name)
}

func runSign(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	var parts messageParts
	keyFile := fs.String("key", "", "private key `FILE` (PEM or base64 DER: PKCS#8, PKCS#1 or SEC 1)")
	keyVersion := fs.Int("key-version", 1, "keyVersion written in the header; negative leaves it out (the receiver then uses the latest key)")
	algorithm := fs.String("algorithm", "", "RSA256 or ECC224 (default: from the key)")
	verbose := fs.Bool("verbose", false, "also print the content signed, on stderr")
	parts.register(fs)
	if code, ok := parseFlags(e, fs, signUsage, args); !ok {
		return code
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "ipass sign: "+format+"\n", args...)
		return exitUsage
	}
	if *keyFile == "" {
		return usageErr("--key is required")
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		return usageErr("--key %s: %v", *keyFile, err)
	}
	alg, err := algorithmFor(key.Public(), *algorithm)
	if err != nil {
		return usageErr("%v", err)
	}
	content, err := parts.content(fs, e)
	if err != nil {
		return usageErr("%v", err)
	}
	sig, err := gateway.Sign(key, alg, content)
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass sign: %v\n", err)
		return exitFailure
	}
	if *verbose {
		printContent(e.stderr, "content signed", content)
	}
	fmt.Fprintln(e.stdout, gateway.FormatSignatureHeader(alg, *keyVersion, sig))
	return exitOK
}

// algorithmFor returns the algorithm of key, checking a requested one.
func algorithmFor(pub crypto.PublicKey, requested string) (gateway.Algorithm, error) {
	have, err := gateway.AlgorithmOf(pub)
	if err != nil {
		return "", fmt.Errorf("key: %v", err)
	}
	if requested == "" {
		return have, nil
	}
	want, err := gateway.ParseAlgorithm(requested)
	if err != nil {
		return "", fmt.Errorf("--algorithm %q: want RSA256 or ECC224", requested)
	}
	if want != have {
		return "", fmt.Errorf("--algorithm %s does not fit the key, a %s key", want, have)
	}
	return want, nil
}

// printContent shows content twice: raw between marker lines, for reading
// and copying, and Go-quoted, so invisible differences (CR, a trailing
// newline, tabs, non-ASCII escapes) can be compared byte for byte.
func printContent(w io.Writer, title string, content []byte) {
	fmt.Fprintf(w, "%s (%d bytes, SHA-256 %x), between the lines:\n", title, len(content), sha256.Sum256(content))
	fmt.Fprintf(w, "-----\n%s\n-----\n", content)
	fmt.Fprintf(w, "quoted: %q\n", content)
}

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/ipass-dev/ipass"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

func init() {
	register("call", "make one signed API call and print the verified response", runCall)
}

const callUsage = `Usage: ipass call OPERATION [flags] BODY.json|-

Sends BODY (a file, or - for stdin) as one signed request of OPERATION
(createPass, updatePass, queryPass, queryPassHistory, queryRequestLog, or an
endpoint path starting with /),
verifies the response signature, decrypts it if it is encrypted, and prints
the response JSON on stdout. The file's bytes are signed exactly as they are,
unless --set is given: then the body is parsed, changed and re-encoded as
compact JSON before signing.

The operations, their fields and result codes are described in docs/api.md.

Responses are verified with the server key of the algorithm they name: give
--server-public-key once per server key (for ECC224 calls, the server's
ECC224 key; for RSA256 calls, its RSA key; both is fine).

Exit status: 0 when resultStatus is S; 1 when F or U (the verified response
is still printed); 2 for usage, transport or verification failures (nothing
is printed on stdout: a response that does not verify is never shown as one).

These flags can also be set as environment variables (the flag wins):
IPASS_URL, IPASS_CLIENT_ID, IPASS_KEY, IPASS_KEY_VERSION, IPASS_ALGORITHM,
IPASS_SERVER_PUBLIC_KEY, IPASS_SERVER_ENCRYPTION_KEY,
IPASS_ENCRYPTION_KEY_VERSION, IPASS_DECRYPTION_KEY.

Flags:
`

// callEnvFlags are the flags that may come from IPASS_* variables: the
// connection and keys, which stay the same across calls; never the
// per-call ones (--set, --field) or --insecure-skip-verify.
var callEnvFlags = []string{"url", "client-id", "key", "key-version", "algorithm",
	"server-public-key", "server-encryption-key", "encryption-key-version", "decryption-key"}

// callOptions are the parsed flags of `ipass call`.
type callOptions struct {
	url           string        // server base URL; default http://127.0.0.1:8080
	clientID      string        // Client-Id; required
	keyFile       string        // client private key; required
	keyVersion    int           // keyVersion of the client key; default 1
	algorithm     string        // RSA256 or ECC224; default from the key
	serverKeys    listFlag      // server public keys, one per algorithm; required unless insecure
	insecure      bool          // skip response signature verification
	caCert        string        // PEM file of CA certificates to trust for https (added to none: only these)
	encrypt       bool          // encrypt the request (RSA_AES)
	serverEncKey  string        // server RSA encryption public key; required with encrypt
	encKeyVersion int           // keyVersion of the server encryption key; default 1
	decryptionKey string        // client RSA key for encrypted responses; default the --key if RSA
	verbose       bool          // headers and signed contents on stderr
	sets          listFlag      // NAME=VALUE top-level string fields to set
	field         string        // print only this top-level field
	timeout       time.Duration // whole call, retries included; default 30s
	retries       int           // extra attempts on U and transport errors; default 3
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (o *callOptions) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base `URL` (the operation path is appended)")
	fs.StringVar(&o.clientID, "client-id", "", "your Client-Id (required)")
	fs.StringVar(&o.keyFile, "key", "", "your private key `FILE` (PEM or base64 DER; required)")
	fs.IntVar(&o.keyVersion, "key-version", 1, "keyVersion of --key as registered; negative leaves it out (the server uses your latest)")
	fs.StringVar(&o.algorithm, "algorithm", "", "RSA256 or ECC224 (default: from the key)")
	fs.Var(&o.serverKeys, "server-public-key", "server public key `FILE` verifying responses; repeat for RSA256 and ECC224 (required unless --insecure-skip-verify)")
	fs.BoolVar(&o.insecure, "insecure-skip-verify", false, "do not verify the response signature (debugging only: anyone on the path can forge the result)")
	fs.StringVar(&o.caCert, "ca-cert", "", "PEM `FILE` of the CA certificate(s) to trust for an https --url, instead of the system's")
	fs.BoolVar(&o.encrypt, "encrypt", false, "encrypt the request body (RSA_AES); needs --server-encryption-key")
	fs.StringVar(&o.serverEncKey, "server-encryption-key", "", "the server's RSA encryption public key `FILE`")
	fs.IntVar(&o.encKeyVersion, "encryption-key-version", 1, "keyVersion of --server-encryption-key")
	fs.StringVar(&o.decryptionKey, "decryption-key", "", "your RSA private key `FILE` that encrypted responses are sent to (default: --key, if RSA)")
	fs.BoolVar(&o.verbose, "verbose", false, "print request and response headers and the signed contents on stderr")
	fs.Var(&o.sets, "set", "set top-level string field `NAME=VALUE` in the body before signing (repeatable; re-encodes the body)")
	fs.StringVar(&o.field, "field", "", "print only this top-level `NAME` of the response: a string raw, anything else as JSON")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "limit for the whole call, retries included")
	fs.IntVar(&o.retries, "retries", client.DefaultRetries, "extra attempts after a U result or a transport failure (0: none)")
	return fs
}

func runCall(ctx context.Context, e *env, args []string) int {
	var o callOptions
	fs := o.flagSet(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, callUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "ipass call: "+format+"\n", args...)
		return exitUsage
	}
	if len(pos) != 2 {
		return usageErr("want OPERATION and BODY.json (or - for stdin); run ipass call --help")
	}
	op, bodyFile := pos[0], pos[1]
	if err := applyCallEnv(fs, e.getenv); err != nil {
		return usageErr("%v", err)
	}
	body, err := readInput(e, bodyFile)
	if err != nil {
		return usageErr("read body: %v", err)
	}
	if len(o.sets) > 0 {
		if body, err = setFields(body, o.sets); err != nil {
			return usageErr("--set: %v", err)
		}
	}
	cfg, err := o.config(e)
	if err != nil {
		return usageErr("%v", err)
	}
	c, err := client.New(cfg)
	if err != nil {
		return usageErr("%v", sdkFieldsAsFlags(err))
	}
	if o.verbose && o.encrypt {
		printContent(e.stderr, "> request body (plaintext; encrypted on the wire)", body)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := c.Call(ctx, op, body)

	var re *client.ResultError
	switch {
	case err == nil:
	case errors.As(err, &re):
		resp = re.Response
	default:
		var pe *client.ProtocolError
		if errors.As(err, &pe) && (pe.Check == client.CheckSignatureInvalid || pe.Check == client.CheckNoServerKey) {
			fmt.Fprintf(e.stderr, "ipass call: %v\nThe response was NOT accepted: it is not signed by the server key you gave (check --server-public-key).\n", err)
		} else {
			fmt.Fprintf(e.stderr, "ipass call: %v\n", err)
		}
		return exitUsage
	}
	if o.verbose {
		switch {
		case !resp.Verified:
			fmt.Fprintln(e.stderr, "< response signature NOT verified (--insecure-skip-verify)")
		default:
			fmt.Fprintln(e.stderr, "< response signature verified")
		}
		if resp.Encrypted {
			fmt.Fprintln(e.stderr, "< response decrypted")
		}
	} else if !resp.Verified {
		fmt.Fprintln(e.stderr, "ipass call: warning: response signature not verified (--insecure-skip-verify)")
	}
	if re != nil {
		fmt.Fprintf(e.stderr, "ipass call: %v\n", re)
	}
	if o.field != "" {
		if re != nil {
			return exitFailure // the field of a failure is not what the caller wants on stdout
		}
		out, err := topLevelField(resp.Body, o.field)
		if err != nil {
			fmt.Fprintf(e.stderr, "ipass call: --field %s: %v\n", o.field, err)
			return exitUsage
		}
		fmt.Fprintln(e.stdout, out)
		return exitOK
	}
	e.stdout.Write(resp.Body)
	fmt.Fprintln(e.stdout)
	if re != nil {
		return exitFailure
	}
	return exitOK
}

// parseInterspersed parses flags anywhere among the positional arguments,
// so both `call createPass --url U body.json` and `call --url U createPass
// body.json` work. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// fs.Parse consumed a "--" if it stopped there: the rest is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// applyCallEnv sets the flags of callEnvFlags that were not given from
// their IPASS_* variables.
func applyCallEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range callEnvFlags {
		if given[name] {
			continue
		}
		if v := getenv(envName(name)); v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("environment variable %s=%q: %v", envName(name), v, err)
			}
		}
	}
	return nil
}

// config loads the key files and builds the SDK configuration.
func (o *callOptions) config(e *env) (client.Config, error) {
	cfg := client.Config{
		BaseURL:            o.url,
		ClientID:           o.clientID,
		KeyVersion:         o.keyVersion,
		Algorithm:          gateway.Algorithm(o.algorithm),
		InsecureSkipVerify: o.insecure,
		Retries:            o.retries,
	}
	if o.caCert != "" {
		pem, err := os.ReadFile(o.caCert)
		if err != nil {
			return cfg, fmt.Errorf("--ca-cert %s: %v", o.caCert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return cfg, fmt.Errorf("--ca-cert %s: no PEM certificate in it", o.caCert)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		cfg.HTTPClient = &http.Client{Transport: t}
	}
	if o.clientID == "" {
		return cfg, errors.New("--client-id is required")
	}
	if o.keyFile == "" {
		return cfg, errors.New("--key is required")
	}
	key, err := loadKey(o.keyFile)
	if err != nil {
		return cfg, fmt.Errorf("--key %s: %v", o.keyFile, err)
	}
	cfg.PrivateKey = key
	if len(o.serverKeys) == 0 && !o.insecure {
		return cfg, errors.New("--server-public-key is required to verify responses (or --insecure-skip-verify)")
	}
	cfg.ServerPublicKeys = map[gateway.Algorithm]crypto.PublicKey{}
	for _, f := range o.serverKeys {
		pub, err := loadPublicKey(f)
		if err != nil {
			return cfg, fmt.Errorf("--server-public-key %s: %v", f, err)
		}
		alg, err := gateway.AlgorithmOf(pub)
		if err != nil {
			return cfg, fmt.Errorf("--server-public-key %s: %v", f, err)
		}
		if cfg.ServerPublicKeys[alg] != nil {
			return cfg, fmt.Errorf("--server-public-key %s: a second %s key (give one per algorithm)", f, alg)
		}
		cfg.ServerPublicKeys[alg] = pub
	}
	if o.decryptionKey != "" {
		k, err := loadKey(o.decryptionKey)
		if err != nil {
			return cfg, fmt.Errorf("--decryption-key %s: %v", o.decryptionKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return cfg, fmt.Errorf("--decryption-key %s: not an RSA key", o.decryptionKey)
		}
		cfg.DecryptionKey = rk
	}
	if o.encrypt {
		if o.serverEncKey == "" {
			return cfg, errors.New("--encrypt needs --server-encryption-key")
		}
		pub, err := loadPublicKey(o.serverEncKey)
		if err != nil {
			return cfg, fmt.Errorf("--server-encryption-key %s: %v", o.serverEncKey, err)
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return cfg, fmt.Errorf("--server-encryption-key %s: not an RSA key", o.serverEncKey)
		}
		cfg.Encryption = &client.Encryption{ServerKey: rk, KeyVersion: o.encKeyVersion}
	}
	if o.verbose {
		t := http.DefaultTransport.(*http.Transport).Clone()
		cfg.HTTPClient = &http.Client{Transport: &verboseTransport{base: t, w: e.stderr}}
	}
	return cfg, nil
}

// setFields sets top-level string fields of a JSON object and re-encodes
// it compactly, keeping the order of the existing keys (new ones go last).
func setFields(body []byte, sets []string) ([]byte, error) {
	type member struct {
		key string
		val json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("the body is not a JSON object")
	}
	var members []member
	index := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("body: %v", err)
		}
		key := t.(string) // inside an object the decoder only yields string keys here
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("body: %v", err)
		}
		if _, dup := index[key]; dup {
			return nil, fmt.Errorf("body: key %q appears twice", key)
		}
		index[key] = len(members)
		members = append(members, member{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("body: data after the JSON object")
	}
	for _, s := range sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want NAME=VALUE", s)
		}
		v, err := ipass.MarshalJSON(value)
		if err != nil {
			return nil, err
		}
		if i, ok := index[name]; ok {
			members[i].val = v
		} else {
			index[name] = len(members)
			members = append(members, member{name, v})
		}
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		k, err := ipass.MarshalJSON(m.key)
		if err != nil {
			return nil, err
		}
		out.Write(k)
		out.WriteByte(':')
		if err := json.Compact(&out, m.val); err != nil {
			return nil, err
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// topLevelField returns one top-level field of a JSON object for printing:
// a string unquoted, anything else as compact JSON.
func topLevelField(body []byte, name string) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return "", fmt.Errorf("the response is not a JSON object: %v", err)
	}
	raw, ok := obj[name]
	if !ok {
		return "", errors.New("not in the response")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

// verboseTransport prints each exchange on w: request line and headers, the
// content the request signature covers, response status and headers, and
// the content the response signature is verified over.
type verboseTransport struct {
	base http.RoundTripper
	w    io.Writer
}

func (t *verboseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	fmt.Fprintf(t.w, "> %s %s\n", req.Method, req.URL)
	printHeaders(t.w, "> ", req.Header)
	printContent(t.w, "> request signed content", gateway.Content(req.Method, req.URL.EscapedPath(),
		req.Header.Get("Client-Id"), req.Header.Get("Request-Time"), body))
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(t.w, "< %v\n", err)
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return resp, nil // the SDK reports the short body
	}
	fmt.Fprintf(t.w, "< %s %s\n", resp.Proto, resp.Status)
	printHeaders(t.w, "< ", resp.Header)
	clientID := req.Header.Get("Client-Id")
	if ids := resp.Header.Values("Client-Id"); len(ids) > 0 {
		clientID = ids[0]
	}
	printContent(t.w, "< response content to verify", gateway.Content(req.Method, req.URL.EscapedPath(),
		clientID, resp.Header.Get("Response-Time"), raw))
	return resp, nil
}

func printHeaders(w io.Writer, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}

// sdkFieldsAsFlags rewrites an SDK configuration error in the words of this
// command's flags: a CLI user never wrote ServerPublicKeys.
func sdkFieldsAsFlags(err error) string {
	msg := strings.TrimPrefix(err.Error(), "client: ")
	if strings.HasPrefix(msg, "ServerPublicKeys has no ECC224 key") {
		return "--server-public-key: no ECC224 key to verify responses with: add --server-public-key with the server's ECC224 public key (server-ecc-signing.pub.pem in its data dir), or --insecure-skip-verify"
	}
	if strings.HasPrefix(msg, "ServerPublicKeys has no RSA256 key") {
		return "--server-public-key: no RSA256 key to verify responses with: add --server-public-key with the server's RSA256 public key (server-signing.pub.pem in its data dir), or --insecure-skip-verify"
	}
	return strings.NewReplacer(
		"ServerPublicKeys", "--server-public-key",
		"InsecureSkipVerify", "--insecure-skip-verify",
		"DecryptionKey", "--decryption-key",
		"PrivateKey", "--key",
		"Encryption", "--encrypt",
	).Replace(msg)
}

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/ipass-dev/ipass/gateway"
)

func init() {
	register("verify", "check a captured Signature header against the parts of its message", runVerify)
}

const verifyUsage = `Usage: ipass verify --public-key FILE --signature HEADER_VALUE
                    [--method POST] --path PATH --client-id ID --time TIME --body-file FILE|-

Checks the Signature header of a captured request (verify with the client's
public key) or response (with the server's, and the method and path of the
request it answers). Exits 0 and prints "valid" if it verifies.

Otherwise exits 1 and prints why (header unparsable, signature base64 invalid,
algorithm does not match the key, or does not verify), the exact content it
verified against, the algorithm, key version and the key's SHA-256
fingerprint, so you can compare byte for byte with what your code signed.
When a signature does not verify it also says, where it can tell, whether
it was made by this key over other content, and over which common variant
of it (trailing newline, CRLF, re-encoded JSON, no method/path line).

Exit status: 0 valid, 1 not valid, 2 usage (missing flag, unreadable file).

Flags:
`

func runVerify(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var parts messageParts
	keyFile := fs.String("public-key", "", "public key `FILE` (PEM or base64 DER: SPKI or PKCS#1)")
	header := fs.String("signature", "", "the Signature header `value` as received (a leading \"Signature:\" is ignored)")
	verbose := fs.Bool("verbose", false, "print the content, algorithm, key version and fingerprint also when valid")
	parts.register(fs)
	if code, ok := parseFlags(e, fs, verifyUsage, args); !ok {
		return code
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "ipass verify: "+format+"\n", args...)
		return exitUsage
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "signature" })
	if *keyFile == "" || !given {
		return usageErr("--public-key and --signature are required (an empty --signature stands for a missing header)")
	}
	pub, err := loadPublicKey(*keyFile)
	if err != nil {
		return usageErr("--public-key %s: %v", *keyFile, err)
	}
	content, err := parts.content(fs, e)
	if err != nil {
		return usageErr("%v", err)
	}
	if _, err := gateway.ParseTime(parts.time); err != nil {
		// Not a signature matter, but the server would reject it first.
		fmt.Fprintf(e.stderr, "note: --time is not a form the server accepts (%v)\n", err)
	}

	value := strings.TrimSpace(*header)
	if len(value) >= len("Signature:") && strings.EqualFold(value[:len("Signature:")], "Signature:") {
		value = strings.TrimSpace(value[len("Signature:"):])
	}
	v := checkSignature(pub, value, content)
	if v.problem == "" {
		fmt.Fprintln(e.stdout, "valid")
		if *verbose {
			v.report(e.stdout, *keyFile, content)
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "invalid: %s\n", v.problem)
	for _, h := range v.hints {
		fmt.Fprintf(e.stdout, "  %s\n", h)
	}
	v.report(e.stdout, *keyFile, content)
	return exitFailure
}

// verdict is the outcome of one signature check.
type verdict struct {
	problem    string // "" when valid
	hints      []string
	params     gateway.SignatureParams
	parsed     bool
	pub        crypto.PublicKey
	keyAlg     gateway.Algorithm
	keyAlgNote string
}

// checkSignature decides, in the receiver's order: header syntax, base64,
// algorithm against the key, then the signature itself.
func checkSignature(pub crypto.PublicKey, header string, content []byte) verdict {
	v := verdict{pub: pub}
	var err error
	if v.keyAlg, err = gateway.AlgorithmOf(pub); err != nil {
		v.keyAlgNote = err.Error()
	}
	p, err := gateway.ParseSignatureHeader(header)
	if err != nil {
		var ge *gateway.Error
		switch {
		case header == "":
			v.problem = "header unparsable: no Signature header value"
		case errors.As(err, &ge) && ge.Part == "Signature.signature" && ge.Msg != "missing or empty":
			v.problem = "signature base64 invalid: " + err.Error()
		default:
			v.problem = "header unparsable: " + err.Error()
		}
		return v
	}
	v.params, v.parsed = p, true
	if p.Algorithm != v.keyAlg {
		v.problem = fmt.Sprintf("algorithm does not match the key: the header says %s, the key is for %s", p.Algorithm, keyAlgName(v))
		return v
	}
	if err := gateway.Verify(pub, p.Algorithm, content, p.Signature); err != nil {
		v.problem = "does not verify (" + string(p.Algorithm) + " signature over the content below)"
		v.hints = diagnose(pub, p, content)
	}
	return v
}

func keyAlgName(v verdict) string {
	if v.keyAlg == "" {
		return "no algorithm (" + v.keyAlgNote + ")"
	}
	return string(v.keyAlg)
}

func (v verdict) report(w io.Writer, keyFile string, content []byte) {
	if v.parsed {
		fmt.Fprintf(w, "algorithm:   %s (from the header)\n", v.params.Algorithm)
		if v.params.KeyVersion < 0 {
			fmt.Fprintln(w, "key version: none in the header (the receiver uses the latest key)")
		} else {
			fmt.Fprintf(w, "key version: %d\n", v.params.KeyVersion)
		}
	}
	fmt.Fprintf(w, "public key:  %s (%s, %s)\n", gateway.Fingerprint(v.pub), keyAlgName(v), keyFile)
	printContent(w, "content", content)
}

// diagnose looks for the likely cause of a signature that does not verify.
// For RSA it can tell "this key, other content" from "another key": the
// public operation recovers the digest that was signed. For both algorithms
// it tries the content variants that broken signers commonly produce.
func diagnose(pub crypto.PublicKey, p gateway.SignatureParams, content []byte) []string {
	var hints []string
	if k, ok := pub.(*rsa.PublicKey); ok {
		hash, digest := recoverRSADigest(k, p.Signature)
		switch {
		case len(p.Signature) != k.Size():
			return []string{fmt.Sprintf("the signature is %d bytes; this key's signatures are %d: truncated, or made with another key", len(p.Signature), k.Size())}
		case hash == "":
			return []string{"the signature was not made with this key (wrong key pair, or not RSASSA-PKCS1-v1_5)"}
		case hash != "SHA-256":
			return []string{fmt.Sprintf("the signature was made with this key but over a %s digest: sign with SHA-256 (SHA256withRSA)", hash)}
		default:
			want := sha256.Sum256(content)
			hints = append(hints, fmt.Sprintf("the signature was made with this key, over other content: SHA-256 %x, not %x", digest, want))
		}
	}
	for _, vr := range contentVariants(content) {
		if gateway.Verify(pub, p.Algorithm, vr.content, p.Signature) == nil {
			return append(hints, "it verifies over the content with "+vr.name+": the signer used that, or the message changed after signing")
		}
	}
	if len(hints) == 0 {
		hints = append(hints, "signed over other content or with another key (ECDSA signatures cannot tell which)")
	}
	return append(hints, "compare the content below with what the signer signed; the time and Client-Id are signed as text, exactly as sent")
}

// recoverRSADigest applies the RSA public operation to sig and, if the
// result is a PKCS#1 v1.5 signature block, returns its hash and digest.
func recoverRSADigest(k *rsa.PublicKey, sig []byte) (string, []byte) {
	size := k.Size()
	if len(sig) != size {
		return "", nil
	}
	m := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(k.E)), k.N)
	em := m.FillBytes(make([]byte, size))
	if em[0] != 0 || em[1] != 1 {
		return "", nil
	}
	i := 2
	for i < len(em) && em[i] == 0xff {
		i++
	}
	if i < 10 || i >= len(em) || em[i] != 0 {
		return "", nil
	}
	info := em[i+1:]
	for _, d := range []struct {
		name   string
		prefix []byte
		size   int
	}{
		{"SHA-256", []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, 32},
		{"SHA-1", []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}, 20},
		{"SHA-384", []byte{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30}, 48},
		{"SHA-512", []byte{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40}, 64},
		{"MD5", []byte{0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10}, 16},
	} {
		if bytes.HasPrefix(info, d.prefix) && len(info) == len(d.prefix)+d.size {
			return d.name, info[len(d.prefix):]
		}
	}
	return "", nil
}

type contentVariant struct {
	name    string
	content []byte
}

// contentVariants are the contents broken signers commonly sign instead.
// A variant can only verify if it is what was signed, so trying a wrong
// guess (such as a wrong split of the body) is harmless.
func contentVariants(content []byte) []contentVariant {
	head, rest, _ := bytes.Cut(content, []byte("\n")) // "METHOD PATH", "Client-Id.time.body"
	var out []contentVariant
	add := func(name string, parts ...[]byte) {
		c := bytes.Join(parts, nil)
		if !bytes.Equal(c, content) {
			out = append(out, contentVariant{name, c})
		}
	}
	nl := []byte("\n")
	add("no \"METHOD PATH\" line (Client-Id.time.body only)", rest)
	add("CRLF after the path line", head, []byte("\r\n"), rest)
	if i := bytes.IndexByte(head, ' '); i > 0 {
		add("the method in upper case", bytes.ToUpper(head[:i]), head[i:], nl, rest)
		add("the method in lower case", bytes.ToLower(head[:i]), head[i:], nl, rest)
	}
	for _, split := range bodySplits(rest) {
		prefix, body := rest[:split], rest[split:]
		with := func(name string, b []byte) { add(name, head, nl, prefix, b) }
		switch {
		case bytes.HasSuffix(body, []byte("\r\n")):
			with("the body's trailing CRLF removed", body[:len(body)-2])
		case bytes.HasSuffix(body, nl):
			with("the body's trailing newline removed", body[:len(body)-1])
		default:
			with("a newline added after the body", append(bytes.Clone(body), '\n'))
		}
		if bytes.Contains(body, []byte("\r\n")) {
			with("the body's CRLF line ends as LF", bytes.ReplaceAll(body, []byte("\r\n"), nl))
		} else if bytes.Contains(body, nl) {
			with("the body's LF line ends as CRLF", bytes.ReplaceAll(body, nl, []byte("\r\n")))
		}
		var compact bytes.Buffer
		if json.Compact(&compact, body) == nil {
			with("the body as compact JSON (whitespace removed)", compact.Bytes())
			var v any
			if json.Unmarshal(body, &v) == nil {
				if re, err := json.Marshal(v); err == nil {
					with("the body re-encoded by a JSON library (keys sorted, escapes changed)", re)
				}
			}
		}
	}
	return out
}

// bodySplits returns where the body may start in "<Client-Id>.<time>.<body>":
// after the second dot, and after the third (a time with a fraction).
func bodySplits(rest []byte) []int {
	var out []int
	dots := 0
	for i, c := range rest {
		if c == '.' {
			dots++
			if dots == 2 || dots == 3 {
				out = append(out, i+1)
			}
			if dots == 3 {
				break
			}
		}
	}
	return out
}

// loadPublicKey reads a public key file (PEM or bare base64 DER).
func loadPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return gateway.ParsePublicKey(data)
}

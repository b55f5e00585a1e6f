package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
)

// TestServeTLS runs `ipass serve --tls-cert --tls-key` with a self-signed
// certificate: probes and a signed createPass work over HTTPS for a client
// trusting that certificate, and plain HTTP on the same port gets nothing
// from the API.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	dataDir := filepath.Join(dir, "data")
	plainURL, _, stop := startServe(t, dataDir, "--tls-cert", certFile, "--tls-key", keyFile)
	defer stop()
	addr := strings.TrimPrefix(plainURL, "http://")
	base := "https://" + addr

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	defer client.CloseIdleConnections()

	t.Run("healthz", func(t *testing.T) {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "ok\n" || resp.TLS == nil {
			t.Fatalf("healthz: %d %q (TLS %v)", resp.StatusCode, body, resp.TLS != nil)
		}
	})

	t.Run("signed createPass", func(t *testing.T) {
		// The demo tenant (provisioned on first start) and its generated key.
		key := tlsReadKey(t, filepath.Join(dataDir, "demo-client.pem"))
		serverPub, err := gateway.ParsePublicKey(tlsReadFile(t, filepath.Join(dataDir, "server-signing.pub.pem")))
		if err != nil {
			t.Fatal(err)
		}
		const clientID = "2110200000000044"
		body := []byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"TLS-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"TLS-CODE-1"},"dataInfo":{"$points_en_US$":1}}`)
		path := ipasshttp.PathCreatePass
		reqTime := time.Now().UTC().Format(time.RFC3339)
		sig, err := gateway.Sign(key, gateway.RSA256, gateway.Content(http.MethodPost, path, clientID, reqTime, body))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Client-Id", clientID)
		req.Header.Set("Request-Time", reqTime)
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("Signature", gateway.FormatSignatureHeader(gateway.RSA256, 1, sig))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gateway.VerifyMessage(serverPub, http.MethodPost, path, clientID, resp.Header.Get("Response-Time"), raw, resp.Header.Get("Signature")); err != nil {
			t.Fatalf("response signature: %v\n%s", err, raw)
		}
		var out struct {
			ResultInfo struct{ ResultCode, ResultMessage string }
			PassID     string `json:"passId"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		if out.ResultInfo.ResultCode != "SUCCESS" || out.PassID == "" {
			t.Fatalf("createPass over TLS: %s", raw)
		}
	})

	t.Run("ipass call --ca-cert", func(t *testing.T) {
		caFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, tlsReadFile(t, certFile), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"call", "queryPass", "--url", base, "--client-id", "2110200000000044",
			"--key", filepath.Join(dataDir, "demo-client.pem"), "--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem"),
			"--set", "passId=nosuchpass", "--set", "merchantId=2160120036095023", "-"}
		r := cliRun(t, "{}", nil, append(args, "--ca-cert", caFile)...)
		if r.code != exitFailure || !strings.Contains(r.stdout+r.stderr, "PASS_HAS_NOT_EXIST") {
			t.Fatalf("with --ca-cert: %s", r)
		}
		// Without it the certificate is unknown, and the message says so
		// (client.TestCertificateErrorNotRetried checks it is not retried).
		r = cliRun(t, "{}", nil, args...)
		if r.code == exitOK || !strings.Contains(r.stderr, "certificate") {
			t.Fatalf("without --ca-cert: %s", r)
		}
	})

	t.Run("plain HTTP to the TLS port", func(t *testing.T) {
		plain := &http.Client{Timeout: 5 * time.Second}
		resp, err := plain.Get(plainURL + "/healthz")
		if err != nil {
			t.Logf("plain HTTP refused: %v", err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// crypto/tls answers a plaintext HTTP request with a bare 400; it
		// must never reach the handler.
		if resp.StatusCode != http.StatusBadRequest || string(body) == "ok\n" || resp.Header.Get("Signature") != "" {
			t.Fatalf("plain HTTP got %d %q", resp.StatusCode, body)
		}
		t.Logf("plain HTTP: %d %q", resp.StatusCode, body)
	})
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool trusting the certificate.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ipass test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func tlsReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tlsReadKey loads a private key file as the server and SDK do.
func tlsReadKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	k, err := gateway.ParsePrivateKey(tlsReadFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

package main

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The HTTPS setup of docs/sdks.md, run as the guide shows it.
const (
	guideCertCommand  = `openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 365 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"`
	guideServeCommand = `ipass serve --addr 127.0.0.1:8443 --tls-cert tls.crt --tls-key tls.key`
)

// TestSDKGuideTLS: the guide's self-signed certificate serves HTTPS with
// `ipass serve --tls-cert`; it names the host as the Antom Java SDK
// requires (it trusts any certificate but checks the name), a client
// trusting it (ipass call --ca-cert, or .NET with it in the system store)
// gets a verified answer, and client-settings prints the https URL.
func TestSDKGuideTLS(t *testing.T) {
	mustOpenSSL(t)
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "sdks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{guideCertCommand, guideServeCommand} {
		if !strings.Contains(string(guide), c) {
			t.Fatalf("docs/sdks.md does not show the command this test runs:\n%s", c)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", guideCertCommand)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", guideCertCommand, err, out)
	}
	// The guide's serve command without its --addr (startServeArgs picks a
	// free port), with a data dir of its own.
	args := strings.Fields(strings.TrimPrefix(guideServeCommand, "ipass serve --addr 127.0.0.1:8443 "))
	for i := range args {
		if args[i] == "tls.crt" || args[i] == "tls.key" {
			args[i] = filepath.Join(dir, args[i])
		}
	}
	dataDir := filepath.Join(dir, "ipass-data")
	plainURL, _, _ := startServeArgs(t, append([]string{"--data-dir", dataDir, "--db", "sqlite:" + filepath.Join(dataDir, "ipass.db")}, args...)...)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(plainURL, "http://"))

	// As the Java SDK connects: any certificate, but the host name checked.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+port, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	cert := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("the guide's certificate does not name %s: %v", host, err)
		}
	}

	// A client that checks the certificate, trusting it.
	url := "https://localhost:" + port
	r := cliRun(t, `{"merchantId":"2160120036095023","passId":"2025010599999999999999999999999"}`, nil, "call", "queryPass",
		"--url", url, "--ca-cert", filepath.Join(dir, "tls.crt"), "--client-id", "2110200000000044",
		"--key", filepath.Join(dataDir, "demo-client.pem"), "--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem"),
		"--retries", "0", "-")
	if !strings.Contains(r.stdout, `"resultCode":"PASS_HAS_NOT_EXIST"`) {
		t.Fatalf("a signed call over the guide's HTTPS: %s", r)
	}

	r = cliRun(t, "", nil, "admin", "client-settings", "--client", "2110200000000044", "--data-dir", dataDir,
		"--addr", "localhost:"+port, "--tls-cert", filepath.Join(dir, "tls.crt"))
	if r.code != exitOK || !strings.Contains(r.stdout, "gateway URL: "+url+"\n") {
		t.Fatalf("client-settings with --tls-cert: %s", r)
	}
}

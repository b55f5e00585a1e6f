package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// wireRecorder keeps every byte the client reads from the server, so a test
// can see header names as sent: net/http canonicalises them on receipt.
type wireRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

type recordingConn struct {
	net.Conn
	rec *wireRecorder
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rec.mu.Lock()
	c.rec.buf.Write(p[:n])
	c.rec.mu.Unlock()
	return n, err
}

// take returns the header names of the one response recorded since the
// last call, in the order and spelling they were sent.
func (w *wireRecorder) take(t *testing.T) []string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	head, _, ok := bytes.Cut(w.buf.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no complete response head recorded: %q", w.buf.String())
	}
	w.buf.Reset()
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Scan() // status line
	var names []string
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), ":")
		names = append(names, name)
	}
	return names
}

// TestResponseHeaderCaseOnTheWire reads the raw response header names: the
// protocol headers are lower case by default (and before the client is
// known), canonical for a client whose headerCase is canonical, and no
// header is ever sent twice in any spelling.
func TestResponseHeaderCaseOnTheWire(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	rec := &wireRecorder{}
	h.http = &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return recordingConn{c, rec}, err
		},
	}}
	protocol := []string{"Client-Id", "Response-Time", "Signature", "Tracer-Id", "Encrypt"}
	check := func(t *testing.T, names []string, canonical bool) {
		t.Helper()
		seen := map[string]bool{}
		for _, n := range names {
			if seen[strings.ToLower(n)] {
				t.Errorf("header %q sent twice: %q", n, names)
			}
			seen[strings.ToLower(n)] = true
		}
		for _, p := range protocol {
			want := strings.ToLower(p)
			if canonical {
				want = p
			}
			if !slices.Contains(names, want) {
				t.Errorf("raw header names %q lack %q", names, want)
			}
		}
	}
	query := `{"merchantId":"2160120036095023","passId":"nosuchpass"}`

	t.Run("DefaultLower", func(t *testing.T) {
		h := h.in(t)
		h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true}), ipass.CodePassHasNotExist)
		check(t, rec.take(t), false)
	})
	t.Run("UnknownClientLower", func(t *testing.T) {
		h := h.in(t)
		h.must(h.send(req{path: pathOf("queryPass"), body: query, clientID: "9999", encrypt: true}), ipass.CodeInvalidClient)
		names := rec.take(t)
		for _, n := range names {
			if n == "Signature" || n == "Client-Id" {
				t.Errorf("canonical %q before the client is known: %q", n, names)
			}
		}
	})
	if err := h.db.Apply(context.Background(), &ipass.Tenants{Clients: []ipass.Client{{ID: clientA,
		HeaderCase: ipass.HeaderCanonical, Omitted: []string{"name", "rateLimit"}}}}); err != nil {
		t.Fatal(err)
	}
	t.Run("Canonical", func(t *testing.T) {
		h := h.in(t)
		h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true}), ipass.CodePassHasNotExist)
		check(t, rec.take(t), true)
	})
}

// TestInvalidSignatureMessageNamesKeyAndContentHash: the merchant can
// compare the server's SHA-256 of the content with that of what they signed,
// and sees which key the server used.
func TestInvalidSignatureMessageNamesKeyAndContentHash(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	body := `{"merchantId":"2160120036095023","passId":"nosuchpass"}`
	rt := defaultNow.Add(time.Second).Format("2006-01-02T15:04:05.000Z07:00")
	// Signed correctly, but with the other client's key.
	r := h.must(h.send(req{path: pathOf("queryPass"), body: body, requestTime: rt, signAs: clientB + "/RSA256"}), ipass.CodeInvalidSignature)
	sum := sha256.Sum256(gateway.Content(http.MethodPost, pathOf("queryPass"), clientA, rt, []byte(body)))
	c, err := h.db.Client(context.Background(), clientA)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := c.ActiveKey(ipass.AlgorithmRSA256, 1)
	pub, err := gateway.ParsePublicKey([]byte(k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{hex.EncodeToString(sum[:]), gateway.Fingerprint(pub), "RSA256 key version 1"} {
		if !strings.Contains(r.message, want) {
			t.Errorf("message %q lacks %q", r.message, want)
		}
	}

	// Unix seconds in Request-Time get a hint, and both instants are shown
	// as milliseconds with their ISO 8601 date (the seconds as a 1970 one).
	secs := strconv.FormatInt(defaultNow.Unix(), 10)
	r = h.must(h.send(req{path: pathOf("queryPass"), body: body, requestTime: secs}), ipass.CodeRequestTimeExpired)
	for _, want := range []string{
		"Request-Time: " + secs + " (" + time.UnixMilli(defaultNow.Unix()).UTC().Format(time.RFC3339Nano) + ") is outside",
		"server time " + strconv.FormatInt(defaultNow.UnixMilli(), 10) + " (" + defaultNow.UTC().Format(time.RFC3339Nano) + ")",
		"it looks like Unix seconds",
	} {
		if !strings.Contains(r.message, want) {
			t.Errorf("message %q lacks %q", r.message, want)
		}
	}
	// RFC 3339 is shown as sent.
	old := "2020-01-02T03:04:05+08:00"
	r = h.must(h.send(req{path: pathOf("queryPass"), body: body, requestTime: old}), ipass.CodeRequestTimeExpired)
	if !strings.Contains(r.message, "Request-Time: "+old+" is outside") || strings.Contains(r.message, "Unix seconds") {
		t.Errorf("message %q", r.message)
	}
}

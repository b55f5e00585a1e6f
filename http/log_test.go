package http_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// TestOneLogLinePerRequest: each request logs exactly one "request" line
// carrying the Tracer-Id sent back, the Client-Id, path, resultCode, the
// resultMessage sent back and the duration.
func TestOneLogLinePerRequest(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	var logs lockedBuffer
	h.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))

	replies := []reply{
		h.op("createPass", createBody8_1),
		h.op("queryPass", `{"merchantId":"2160400000000022","passId":"1"}`),
	}
	var lines []map[string]any
	for _, raw := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("log line is not JSON: %s", raw)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != len(replies) {
		t.Fatalf("%d request log lines for %d requests:\n%s", len(lines), len(replies), logs.Bytes())
	}
	wantCodes := []ipass.Code{ipass.CodeSuccess, ipass.CodeAccessDenied}
	for i, line := range lines {
		if line["tracer_id"] != replies[i].header.Get("Tracer-Id") || line["client_id"] != clientA ||
			line["result_code"] != string(wantCodes[i]) || line["path"] == "" ||
			line["result_message"] != replies[i].message || replies[i].message == "" {
			t.Fatalf("log line %d = %v; reply Tracer-Id %s code %s", i, line, replies[i].header.Get("Tracer-Id"), replies[i].code)
		}
		if _, ok := line["duration_ms"].(float64); !ok {
			t.Fatalf("log line %d has no duration: %v", i, line)
		}
	}
}

// TestLogLinesAreBounded: an unauthenticated request with a 900 KiB path
// and a 60 KiB Client-Id logs a line of a few KiB, the values cut and
// marked (issue 8, break 6).
func TestLogLinesAreBounded(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	var logs lockedBuffer
	h.srv.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	path := "/" + strings.Repeat("p", 900<<10)
	id := strings.Repeat("c", 60<<10)
	r := h.send(req{path: path, clientID: id, body: `{}`, noSign: true})
	if r.code != ipass.CodeNoInterfaceDef {
		t.Fatalf("got %s", r.code)
	}
	lines := bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n"))
	if len(lines) == 0 {
		t.Fatal("nothing logged")
	}
	for _, line := range lines {
		if len(line) > 4<<10 {
			t.Fatalf("log line of %d bytes: %.300s…", len(line), line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line is not JSON: %.300s", line)
		}
		if m["msg"] == "request" {
			p, _ := m["path"].(string)
			if !strings.HasPrefix(p, "/ppp") || !strings.HasSuffix(p, "…(921601 bytes)") {
				t.Fatalf("path logged as %.300q", p)
			}
		}
	}
}

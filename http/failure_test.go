package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// panickingService stands in for a bug in the business layer, which no real
// store can produce on demand.
type panickingService struct{ ipass.PassService }

func (panickingService) UpdatePass(context.Context, ipass.Caller, []byte) error {
	panic("bug in the business layer")
}

func TestInternalFailuresAreSignedUnknownException(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		h := newHarness(t, sqlstoretest.OpenSQLite(t))
		h.srv.Service = panickingService{h.srv.Service}
		r := h.must(h.send(req{body: `{"merchantId":"2160120036095023"}`}), ipass.CodeUnknownException)
		if r.status != http.StatusInternalServerError || r.message == "" {
			t.Fatalf("status %d message %q", r.status, r.message)
		}
		// The server survived: the next request is answered normally.
		h.must(h.op("queryPass", `{"merchantId":"2160120036095023"}`), ipass.CodeParamIllegal)
	})
	t.Run("E46 database unavailable", func(t *testing.T) {
		h := newHarness(t, sqlstoretest.OpenSQLite(t))
		pass := createMember(t, h)
		if err := h.db.Close(); err != nil {
			t.Fatal(err)
		}
		r := h.must(h.op("updatePass", `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"`+pass+`","status":"CLOSED"}`), ipass.CodeUnknownException)
		if r.status != http.StatusInternalServerError {
			t.Fatalf("HTTP %d", r.status)
		}
		for _, leak := range []string{"sql", "database is closed", "sqlite"} {
			if strings.Contains(r.message, leak) {
				t.Fatalf("internal detail %q leaked to the caller: %q", leak, r.message)
			}
		}
	})
}

package http_test

import (
	"crypto"
	"io"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// waitingSigner signs after a pause, as a signer behind a network (an HSM)
// would: time that is not the server's CPU.
type waitingSigner struct {
	crypto.Signer
	wait time.Duration
}

func (w waitingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	time.Sleep(w.wait)
	return w.Signer.Sign(r, digest, opts)
}

type recordingObserver struct {
	mu       sync.Mutex
	requests map[string]ipass.Code
	crypto   map[ipasshttp.CryptoOp]time.Duration
}

func (o *recordingObserver) ObserveRequest(path string, code ipass.Code, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[path] = code
}

func (o *recordingObserver) ObserveCrypto(op ipasshttp.CryptoOp, _ string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.crypto[op] += d
}

// On Linux the crypto timings are the CPU time of the operation: a signer
// that waits 50 ms is measured at its signing cost, not at 50 ms.
func TestObserverCryptoIsCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("thread CPU time is read on Linux only; elsewhere the timings are wall-clock")
	}
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	obs := &recordingObserver{requests: map[string]ipass.Code{}, crypto: map[ipasshttp.CryptoOp]time.Duration{}}
	const wait = 50 * time.Millisecond
	srv := &ipasshttp.Server{
		Service: h.srv.Service, Tenants: h.srv.Tenants, Gate: h.srv.Gate, WrappedKeys: h.srv.WrappedKeys,
		Keys: h.srv.Keys, Now: h.srv.Now, RequestTimeWindow: h.srv.RequestTimeWindow, Observer: obs,
	}
	srv.Keys.RSASigner = waitingSigner{Signer: h.srv.Keys.RSASigner, wait: wait}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	h.url = ts.URL

	h.op("queryPass", `{"merchantId":"2160120036095023","passId":"2025010500000000000000000000001"}`)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if code, ok := obs.requests[ipasshttp.PathQueryPass]; !ok || code == "" {
		t.Errorf("request not observed: %v", obs.requests)
	}
	sign, verify := obs.crypto[ipasshttp.CryptoSign], obs.crypto[ipasshttp.CryptoVerify]
	if sign <= 0 || sign >= wait/2 {
		t.Errorf("sign measured %s; want its CPU time, well under the signer's %s wait", sign, wait)
	}
	if verify <= 0 {
		t.Errorf("verify measured %s, want > 0", verify)
	}
}

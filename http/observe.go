package http

import (
	"runtime"
	"time"

	"github.com/ipass-dev/ipass"
)

// CryptoOp names a cryptographic operation the server performs per request.
type CryptoOp string

// The operations an [Observer] is told about, timed where the server calls
// them (the crypto.Signer, the gateway verify and RSA_AES functions), so the
// figure is the same whichever implementation sits behind the seam.
const (
	CryptoSign   CryptoOp = "sign"   // the response signature (crypto.Signer.Sign, with SHA-256)
	CryptoVerify CryptoOp = "verify" // the request signature check (with SHA-256)
	CryptoOpen   CryptoOp = "open"   // an encrypted request: RSA unwrap of its AES key and AES-ECB decryption, one uniform step (no padding oracle)
	CryptoSeal   CryptoOp = "seal"   // an encrypted response: fresh AES key, RSA wrap, AES-ECB encrypt
)

// Observer receives the server's own measurements; cmd/ipass plugs in the
// Prometheus exporter, so this package stays free of it. Methods are called
// concurrently and must not block.
type Observer interface {
	// ObserveRequest reports one API request: its path (one of the Path*
	// constants or "other"), its result code and its time in the handler.
	ObserveRequest(path string, code ipass.Code, d time.Duration)
	// ObserveCrypto reports one cryptographic operation: the CPU time its
	// thread spent on it (Linux; elsewhere wall-clock time). alg is RSA256,
	// ECC224 or RSA_AES.
	ObserveCrypto(op CryptoOp, alg string, d time.Duration)
}

func (s *Server) observeRequest(x *exchange, code ipass.Code, start time.Time) {
	if s.Observer == nil {
		return
	}
	path := "other" // unknown paths must not grow the label set
	if _, ok := operationFor(x.path); ok {
		path = x.path
	}
	s.Observer.ObserveRequest(path, code, time.Since(start))
}

// cryptoTimer times one crypto operation: the CPU time of the thread running
// it where the platform can tell (Linux), else wall-clock time. CPU time is
// what a capacity figure needs: wall time would also count the moments the
// thread waited for a core, which a loaded machine makes up most of.
type cryptoTimer struct {
	on    bool
	wall  time.Time
	cpu   time.Duration
	cpuOK bool
}

// cryptoStart pins the goroutine to its thread until cryptoDone, so the
// thread's CPU clock counts this operation and nothing else.
func (s *Server) cryptoStart() cryptoTimer {
	if s.Observer == nil {
		return cryptoTimer{}
	}
	runtime.LockOSThread()
	cpu, ok := threadCPUTime()
	return cryptoTimer{on: true, wall: time.Now(), cpu: cpu, cpuOK: ok}
}

func (s *Server) cryptoDone(t cryptoTimer, op CryptoOp, alg string) {
	if !t.on {
		return
	}
	cpu, ok := threadCPUTime()
	runtime.UnlockOSThread()
	d := time.Since(t.wall)
	if ok && t.cpuOK {
		d = cpu - t.cpu
	}
	s.Observer.ObserveCrypto(op, alg, d)
}

package client_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

func resultBody(status, code, message string) string {
	r := `{"resultStatus":"` + status + `","resultCode":"` + code + `","resultMessage":"` + message + `"}`
	return `{"resultInfo":` + r + `,"result":` + r + `}`
}

var successBody = resultBody("S", "SUCCESS", "success")

// forged is one response of a hostile (or merely broken) server. The zero
// value is a correct signed SUCCESS.
type forged struct {
	status         int                 // HTTP status; default 200
	body           string              // default successBody
	signer         crypto.Signer       // default the server's RSA key
	noSignature    bool                // omit Signature
	noResponseTime bool                // omit Response-Time
	signature      string              // replace the Signature header value
	responseTime   string              // default now, as the server formats it
	clientID       string              // echo this Client-Id instead of the request's
	omitClientID   bool                // send no Client-Id
	tamper         func([]byte) []byte // change the body after signing
	encryptFor     *rsa.PublicKey      // encrypt the body to this key (signed as encrypted)
	extra          http.Header         // added headers
}

func (f forged) write(t *testing.T, w http.ResponseWriter, r *http.Request, k *keys) {
	io.Copy(io.Discard, r.Body)
	body := []byte(f.body)
	if f.body == "" {
		body = []byte(successBody)
	}
	h := w.Header()
	if f.encryptFor != nil {
		sealed, enc, err := gateway.Seal(f.encryptFor, 1, 32, body)
		if err != nil {
			t.Error(err)
		}
		body = sealed
		h.Set("Encrypt", enc)
	}
	clientID := r.Header.Get("Client-Id")
	if f.clientID != "" {
		clientID = f.clientID
	}
	rt := f.responseTime
	if rt == "" {
		rt = gateway.FormatTime(time.Now())
	}
	signer := f.signer
	if signer == nil {
		signer = k.serverRSA
	}
	alg, _ := gateway.AlgorithmOf(signer.Public())
	sig, err := gateway.Sign(signer, alg, gateway.Content(r.Method, r.URL.Path, clientID, rt, body))
	if err != nil {
		t.Error(err)
	}
	if f.tamper != nil {
		body = f.tamper(body)
	}
	if !f.omitClientID {
		h["Client-Id"] = []string{clientID}
	}
	if !f.noResponseTime {
		h.Set("Response-Time", rt)
	}
	if !f.noSignature {
		h.Set("Signature", gateway.FormatSignatureHeader(alg, 1, sig))
	}
	if f.signature != "" {
		h.Set("Signature", f.signature)
	}
	h.Set("Tracer-Id", "0123456789abcdef0123456789abcdef")
	for name, vs := range f.extra {
		h[name] = append(h[name], vs...)
	}
	if f.status == 0 {
		f.status = http.StatusOK
	}
	w.WriteHeader(f.status)
	w.Write(body)
}

// hostile serves reply(n) to the n-th request (from 1) and counts them.
func hostile(t *testing.T, k *keys, reply func(n int32) forged) (string, *atomic.Int32) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(n.Add(1)).write(t, w, r, k)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &n
}

func always(f forged) func(int32) forged { return func(int32) forged { return f } }

func TestHostileResponses(t *testing.T) {
	k := mustKeys(t)
	resultOnly := `{"result":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"}}`
	flipToS := func(b []byte) []byte { return []byte(strings.Replace(string(b), `"F"`, `"S"`, 2)) }
	for _, tc := range []struct {
		name      string
		reply     func(int32) forged
		edit      func(*client.Config)
		check     string     // the ProtocolError check expected; "" if none
		code      ipass.Code // the result expected (SUCCESS: no error)
		attempts  int32      // requests the server must have seen
		wantCause error      // errors.Is target, if any
	}{
		{name: "OK", reply: always(forged{}), code: ipass.CodeSuccess, attempts: 1},
		{name: "OKNoClientIdEchoed", reply: always(forged{omitClientID: true}), code: ipass.CodeSuccess, attempts: 1},
		{name: "OKECC224Response", reply: always(forged{signer: k.serverECC}), code: ipass.CodeSuccess, attempts: 1},
		{name: "OKResultFallback", reply: always(forged{body: resultOnly}), code: ipass.CodeSuccess, attempts: 1},
		{name: "ResultFallbackFailure", reply: always(forged{body: `{"result":{"resultStatus":"F","resultCode":"PARAM_ILLEGAL","resultMessage":"x"}}`}),
			code: ipass.CodeParamIllegal, attempts: 1},
		{name: "SignatureMissing", reply: always(forged{noSignature: true}), check: client.CheckSignatureMissing, attempts: client.DefaultRetries + 1},
		{name: "ResponseTimeMissing", reply: always(forged{noResponseTime: true}), check: client.CheckResponseTimeMissing, attempts: client.DefaultRetries + 1},
		{name: "UnsignedSuccess", reply: always(forged{noSignature: true, noResponseTime: true}), check: client.CheckSignatureMissing, attempts: client.DefaultRetries + 1},
		{name: "UnsignedSuccessInsecure", reply: always(forged{noSignature: true, noResponseTime: true}),
			edit:  func(c *client.Config) { c.InsecureSkipVerify = true },
			check: client.CheckSignatureMissing, attempts: client.DefaultRetries + 1},
		{name: "TamperedBody", reply: always(forged{body: resultBody("F", "PARAM_ILLEGAL", "x"), tamper: flipToS}),
			check: client.CheckSignatureInvalid, attempts: client.DefaultRetries + 1},
		{name: "WrongServerKey", reply: always(forged{signer: k.clientRSA}), check: client.CheckSignatureInvalid, attempts: client.DefaultRetries + 1},
		{name: "NoKeyForResponseAlgorithm", reply: always(forged{signer: k.serverECC}),
			edit:  func(c *client.Config) { delete(c.ServerPublicKeys, gateway.ECC224) },
			check: client.CheckNoServerKey, attempts: 1},
		{name: "SignatureUnparsable", reply: always(forged{signature: "algorithm=MD5withRSA,signature=AAAA"}),
			check: client.CheckSignatureUnparsable, attempts: client.DefaultRetries + 1},
		{name: "SignatureRepeated", reply: always(forged{extra: http.Header{"Signature": {"algorithm=RSA256,signature=AAAA"}}}),
			check: client.CheckHeaderRepeated, attempts: client.DefaultRetries + 1},
		{name: "ClientIdMismatch", reply: always(forged{clientID: "2110200000000055"}), check: client.CheckClientIDMismatch, attempts: client.DefaultRetries + 1},
		{name: "StaleResponseTime", reply: always(forged{responseTime: gateway.FormatTime(time.Now().Add(-10 * time.Minute))}),
			check: client.CheckResponseTimeWindow, attempts: client.DefaultRetries + 1},
		{name: "OKStaleResponseTimeWindowOff", reply: always(forged{responseTime: gateway.FormatTime(time.Now().Add(-10 * time.Minute))}),
			edit: func(c *client.Config) { c.ResponseTimeWindow = -1 }, code: ipass.CodeSuccess, attempts: 1},
		{name: "ResponseTimeUnparsable", reply: always(forged{responseTime: "yesterday"}),
			check: client.CheckResponseTimeUnparsable, attempts: client.DefaultRetries + 1},
		{name: "GarbageJSON", reply: always(forged{body: `{"resultInfo":`}), check: client.CheckBodyNotJSON, attempts: 1},
		{name: "NoResult", reply: always(forged{body: `{"passId":"1"}`}), check: client.CheckNoResult, attempts: 1},
		{name: "BadResultStatus", reply: always(forged{body: resultBody("X", "SUCCESS", "?")}), check: client.CheckResultStatus, attempts: 1},
		{name: "OKEncryptedResponse", reply: always(forged{encryptFor: &k.clientRSA.(*rsa.PrivateKey).PublicKey}),
			code: ipass.CodeSuccess, attempts: 1},
		{name: "EncryptedForAnotherKey", reply: always(forged{encryptFor: &k.serverEnc.PublicKey}), check: client.CheckDecrypt, attempts: client.DefaultRetries + 1},
		{name: "EncryptHeaderGarbage", reply: always(forged{extra: http.Header{"Encrypt": {"algorithm=DES"}}}),
			check: client.CheckDecrypt, attempts: client.DefaultRetries + 1},
		{name: "HTTP500SignedU", reply: always(forged{status: 500, body: resultBody("U", "UNKNOWN_EXCEPTION", "database unavailable")}),
			code: ipass.CodeUnknownException, attempts: client.DefaultRetries + 1},
		// The zero value means no retries, like `ipass call --retries 0`.
		{name: "ZeroRetriesOneAttempt", reply: always(forged{status: 500, body: resultBody("U", "UNKNOWN_EXCEPTION", "x")}),
			edit: func(c *client.Config) { c.Retries = 0 }, code: ipass.CodeUnknownException, attempts: 1},
		{name: "NegativeRetriesOneAttempt", reply: always(forged{status: 500, body: resultBody("U", "UNKNOWN_EXCEPTION", "x")}),
			edit: func(c *client.Config) { c.Retries = -1 }, code: ipass.CodeUnknownException, attempts: 1},
		{name: "UThenSuccess", reply: func(n int32) forged {
			if n < 3 {
				return forged{status: 429, body: resultBody("U", "REQUEST_TRAFFIC_EXCEED_LIMIT", "slow down")}
			}
			return forged{}
		}, code: ipass.CodeSuccess, attempts: 3},
		// The point of retrying an untrusted answer: the next one tells.
		{name: "UnsignedThenSigned", reply: func(n int32) forged {
			if n < 2 {
				return forged{noSignature: true, noResponseTime: true}
			}
			return forged{}
		}, code: ipass.CodeSuccess, attempts: 2},
		{name: "FNotRetried", reply: always(forged{body: resultBody("F", "PASS_STATUS_ILLEGAL", "closed")}),
			code: ipass.CodePassStatusIllegal, attempts: 1},
		{name: "BadSignatureRetried", reply: always(forged{status: 500, body: resultBody("U", "UNKNOWN_EXCEPTION", "x"), signer: k.clientRSA}),
			check: client.CheckSignatureInvalid, attempts: client.DefaultRetries + 1},
		{name: "UnsignedProxy503Retried", reply: always(forged{status: 503, body: "<html>busy</html>", noSignature: true, noResponseTime: true}),
			check: client.CheckSignatureMissing, attempts: client.DefaultRetries + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, count := hostile(t, k, tc.reply)
			c := newClient(t, url, k, tc.edit)
			resp, err := c.Call(context.Background(), client.OpUpdatePass, []byte(`{"merchantId":"2160120036095023"}`))
			if got := count.Load(); got != tc.attempts {
				t.Errorf("server saw %d requests, want %d", got, tc.attempts)
			}
			var pe *client.ProtocolError
			var re *client.ResultError
			switch {
			case tc.check != "":
				if !errors.As(err, &pe) || pe.Check != tc.check {
					t.Fatalf("Call = %v, %v; want ProtocolError %q", resp, err, tc.check)
				}
				if resp != nil {
					t.Errorf("a response came back with the error: %+v", resp)
				}
				if int32(pe.Attempts) != tc.attempts {
					t.Errorf("ProtocolError.Attempts = %d, want %d", pe.Attempts, tc.attempts)
				}
				t.Logf("error: %v", err)
			case tc.code == ipass.CodeSuccess:
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				if resp.Result.Code != ipass.CodeSuccess || resp.Attempts != int(tc.attempts) {
					t.Errorf("response %+v", resp)
				}
			default:
				if !errors.As(err, &re) || re.ResultCode != tc.code {
					t.Fatalf("Call = %v; want ResultError %s", err, tc.code)
				}
				if int32(re.Attempts) != tc.attempts || re.Response == nil || !re.Response.Verified {
					t.Errorf("ResultError %+v", re)
				}
				if re.TracerID != "0123456789abcdef0123456789abcdef" {
					t.Errorf("TracerID %q", re.TracerID)
				}
				t.Logf("error: %v", err)
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	k := mustKeys(t)
	t.Run("ConnectionRefused", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		url := ts.URL
		ts.Close()
		c := newClient(t, url, k, nil)
		_, err := c.Call(context.Background(), client.OpQueryPass, []byte(`{}`))
		var pe *client.ProtocolError
		if !errors.As(err, &pe) || pe.Check != client.CheckTransport || pe.Attempts != client.DefaultRetries+1 || pe.StatusCode != 0 {
			t.Fatalf("Call = %v; want transport ProtocolError after 4 attempts", err)
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		release := make(chan struct{})
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer ts.Close()
		defer close(release)
		c := newClient(t, ts.URL, k, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Call(ctx, client.OpQueryPass, []byte(`{}`))
		var pe *client.ProtocolError
		if !errors.As(err, &pe) || pe.Check != client.CheckTransport || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Call = %v; want transport error wrapping DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Call returned after %s; the deadline was 100ms", d)
		}
	})
	t.Run("DeadlineBeforeBackoff", func(t *testing.T) {
		// Every attempt is U; the backoff (1 s) cannot fit before the
		// deadline, so the call gives up at once with the U result.
		url, count := hostile(t, k, always(forged{status: 500, body: resultBody("U", "UNKNOWN_EXCEPTION", "x")}))
		c := newClient(t, url, k, func(c *client.Config) { c.RetryBackoff = 2 * time.Second })
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Call(ctx, client.OpQueryPass, []byte(`{}`))
		var re *client.ResultError
		if !errors.As(err, &re) || re.ResultStatus != "U" || count.Load() != 1 {
			t.Fatalf("Call = %v after %d requests; want the U result after 1", err, count.Load())
		}
		if d := time.Since(start); d > 400*time.Millisecond {
			t.Errorf("Call waited %s for a retry that could not finish in time", d)
		}
	})
}

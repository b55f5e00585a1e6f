package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// Result is the result object of every response (spec 7.1).
type Result struct {
	Status  string     `json:"resultStatus"`  // S, F or U
	Code    ipass.Code `json:"resultCode"`    // e.g. SUCCESS
	Message string     `json:"resultMessage"` // English, names the field
}

// Response is a verified (and, if it was encrypted, decrypted) response.
type Response struct {
	StatusCode int         // HTTP status
	Header     http.Header // response headers as received
	WireBody   []byte      // body as received and signed (base64 ciphertext when encrypted)
	Body       []byte      // the JSON: WireBody, or its decryption
	Result     Result      // from resultInfo, or result when resultInfo is absent
	TracerID   string      // Tracer-Id header (not signed)
	Encrypted  bool        // the response carried Encrypt and was decrypted
	Verified   bool        // the signature was checked; false only with InsecureSkipVerify
	Attempts   int         // requests sent for this call, retries included
}

// exchange sends one attempt and turns its answer into a verified Response
// (resultStatus S) or an error.
func (c *Client) exchange(ep endpoint, req *http.Request, attempt int) (*Response, error) {
	hr, err := c.hc.Do(req)
	if err != nil {
		return nil, &ProtocolError{Operation: ep.name, Check: CheckTransport, Attempts: attempt, Err: err}
	}
	defer hr.Body.Close()
	fail := func(check string, cause error) error {
		return &ProtocolError{Operation: ep.name, Check: check, StatusCode: hr.StatusCode,
			TracerID: hr.Header.Get("Tracer-Id"), Attempts: attempt, Err: cause}
	}
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fail(CheckTransport, err)
	}
	if len(raw) > maxResponseBytes {
		return nil, fail(CheckBodyTooLarge, fmt.Errorf("over %d bytes", maxResponseBytes))
	}
	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header, WireBody: raw, Body: raw,
		TracerID: hr.Header.Get("Tracer-Id"), Attempts: attempt}
	if check, err := c.verify(req.Method, ep.path, hr.Header, raw); check != "" {
		return nil, fail(check, err)
	}
	resp.Verified = !c.insecure

	if encs := hr.Header.Values("Encrypt"); len(encs) > 0 {
		if len(encs) > 1 {
			return nil, fail(CheckHeaderRepeated, errors.New("header Encrypt given twice"))
		}
		p, err := gateway.ParseEncryptHeader(encs[0])
		if err != nil {
			return nil, fail(CheckDecrypt, err)
		}
		if c.decrypter == nil {
			return nil, fail(CheckDecrypt, errors.New("the response is encrypted but no RSA DecryptionKey is configured"))
		}
		plain, _, err := gateway.Open(c.decrypter, p, raw)
		if err != nil {
			return nil, fail(CheckDecrypt, fmt.Errorf("key of Encrypt keyVersion %d: %w", p.KeyVersion, err))
		}
		resp.Body, resp.Encrypted = plain, true
	}

	var env struct {
		ResultInfo *Result `json:"resultInfo"`
		Result     *Result `json:"result"`
	}
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return nil, fail(CheckBodyNotJSON, err)
	}
	// The pass API documents resultInfo; the real gateway uses result on
	// some APIs (spec 2.11, 7.1).
	r := env.ResultInfo
	if r == nil {
		r = env.Result
	}
	if r == nil {
		return nil, fail(CheckNoResult, nil)
	}
	resp.Result = *r
	switch r.Status {
	case "S":
		return resp, nil
	case "F", "U":
		return nil, &ResultError{Operation: ep.name, ResultStatus: r.Status, ResultCode: r.Code,
			ResultMessage: r.Message, TracerID: resp.TracerID, Attempts: attempt, Response: resp}
	}
	return nil, fail(CheckResultStatus, fmt.Errorf("%.16q (code %.64q)", r.Status, r.Code))
}

// verify applies spec 2.11 item 2 to a response and returns the failed
// check ("" when the response is authentic).
func (c *Client) verify(method, path string, h http.Header, raw []byte) (string, error) {
	sigs, times := h.Values("Signature"), h.Values("Response-Time")
	switch {
	case len(sigs) == 0:
		return CheckSignatureMissing, nil
	case len(times) == 0:
		return CheckResponseTimeMissing, nil
	case len(sigs) > 1:
		return CheckHeaderRepeated, errors.New("header Signature given twice")
	case len(times) > 1:
		return CheckHeaderRepeated, errors.New("header Response-Time given twice")
	}
	// The server echoes our Client-Id, and signs with the empty string only
	// when the request had none; ours always has one.
	clientID := c.clientID
	switch ids := h.Values("Client-Id"); {
	case len(ids) > 1:
		return CheckHeaderRepeated, errors.New("header Client-Id given twice")
	case len(ids) == 1 && ids[0] != c.clientID:
		// Signed, but for another caller: a replay of someone else's answer.
		return CheckClientIDMismatch, fmt.Errorf("got %.64q", ids[0])
	}
	if !c.insecure {
		p, err := gateway.ParseSignatureHeader(sigs[0])
		if err != nil {
			return CheckSignatureUnparsable, err
		}
		pub := c.versioned[p.KeyVersion][p.Algorithm]
		if pub == nil {
			pub = c.serverKeys[p.Algorithm]
		}
		if pub == nil {
			return CheckNoServerKey, fmt.Errorf("response signed with %s", p.Algorithm)
		}
		content := gateway.Content(method, path, clientID, times[0], raw)
		if err := gateway.Verify(pub, p.Algorithm, content, p.Signature); err != nil {
			return CheckSignatureInvalid, err
		}
	}
	t, err := gateway.ParseTime(times[0])
	if err != nil {
		var ge *gateway.Error
		if errors.As(err, &ge) {
			ge.Part = "Response-Time"
		}
		return CheckResponseTimeUnparsable, err
	}
	if c.window > 0 {
		if d := c.now().Sub(t); d > c.window || d < -c.window {
			return CheckResponseTimeWindow, fmt.Errorf("%s is %s from now, window %s", times[0], d.Round(1e6), c.window)
		}
	}
	return "", nil
}

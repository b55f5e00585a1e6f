package http

import (
	"math"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// maxResultMessage caps resultMessage (spec 3.3), in code points.
const maxResultMessage = 512

type resultInfo struct {
	ResultStatus  string `json:"resultStatus"`
	ResultCode    string `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
}

// envelope is every response body (spec 7.1). `result` copies `resultInfo`
// because the official Java SDK reads only `result`.
type envelope struct {
	ResultInfo         resultInfo       `json:"resultInfo"`
	Result             resultInfo       `json:"result"`
	PassID             string           `json:"passId,omitempty"`
	Pass               *ipass.PassView  `json:"pass,omitempty"`
	*ipass.HistoryPage                  // queryPassHistory [ext]: latestVersion, versions, nextFromVersion
	*logPage                            // queryRequestLog [ext]: entries, nextFromId
	Rules              *[]chaosRuleView `json:"rules,omitempty"` // sandboxChaos [ext]
	*clockView                          // sandboxClock [ext]: merchantId, now, offsetMillis
}

// logPage is embedded under a short name, so the envelope's fields keep their alignment.
type logPage = ipass.RequestLogPage

// respond writes the signed (and, where the request was encrypted,
// encrypted) response for err. It never writes an unsigned response: if
// signing is impossible it answers 500 with no body and logs why.
func (s *Server) respond(w http.ResponseWriter, x *exchange, err error) {
	code, body := x.code, x.body // a repeat's kept answer, or this one's
	if body == nil {
		code, body = s.answerBody(x, err)
	}

	h := w.Header()
	contentType := "application/json; charset=UTF-8"
	if x.client != nil && x.encrypted {
		if pub, version, ok := responseKey(s, x.client); ok {
			size := x.aesKeyLen
			if size == 0 {
				// The request's key is recovered only after its signature
				// verified: unwrapping unauthenticated input to pick a key
				// size would make the response a padding oracle.
				size = 32
			}
			timer := s.cryptoStart()
			sealed, encryptHeader, encErr := gateway.Seal(pub, version, size, body)
			s.cryptoDone(timer, CryptoSeal, "RSA_AES")
			if encErr != nil {
				s.logger().Error("encrypt response", "tracer_id", x.tracerID, "err", encErr)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			body = sealed
			contentType = "text/plain; charset=UTF-8"
			setProtocolHeader(h, x.client, "Encrypt", encryptHeader)
		}
	}

	responseTime := gateway.FormatTime(s.now())
	content := gateway.Content(x.method, x.path, x.clientID, responseTime, body)
	alg, signer := x.algorithm, s.Keys.RSASigner
	if alg == gateway.ECC224 && s.Keys.ECCSigner != nil {
		signer = s.Keys.ECCSigner
	} else {
		alg = gateway.RSA256
	}
	content, signed := chaosSigned(x, content)
	timer := s.cryptoStart()
	sig, sErr := gateway.Sign(signer, alg, content)
	s.cryptoDone(timer, CryptoSign, string(alg))
	if sErr != nil {
		s.logger().Error("sign response", "tracer_id", x.tracerID, "err", sErr)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}

	if x.hasClientID {
		setProtocolHeader(h, x.client, "Client-Id", x.clientID)
	}
	setProtocolHeader(h, x.client, "Response-Time", responseTime)
	if signed {
		setProtocolHeader(h, x.client, "Signature", gateway.FormatSignatureHeader(alg, s.Keys.KeyVersion, sig))
	}
	setProtocolHeader(h, x.client, "Tracer-Id", x.tracerID)
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if x.methodBad {
		h.Set("Allow", http.MethodPost)
	}
	if code == ipass.CodeTrafficExceedLimit {
		secs := int(math.Ceil(x.retryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(code.HTTPStatus())
	_, _ = w.Write(body)
}

// answerBody is the response body for err, before encryption and signing.
func (s *Server) answerBody(x *exchange, err error) (ipass.Code, []byte) {
	code := ipass.ErrorCode(err)
	info := resultInfo{
		ResultStatus:  code.Status(),
		ResultCode:    string(code),
		ResultMessage: capMessage(ipass.ErrorMessage(err)),
	}
	env := envelope{ResultInfo: info, Result: info}
	if err == nil {
		env.PassID, env.Pass, env.Rules, env.clockView = x.passID, x.pass, x.rules, x.clock
		if env.HistoryPage = x.history; x.history != nil {
			env.PassID = x.history.PassID // the envelope's passId shadows the page's
		}
		env.logPage = x.logPage
	}
	body, mErr := ipass.MarshalJSON(env)
	if mErr != nil {
		s.logger().Error("marshal response", "tracer_id", x.tracerID, "err", mErr)
		return ipass.CodeUnknownException, []byte(`{"resultInfo":{"resultStatus":"U","resultCode":"UNKNOWN_EXCEPTION","resultMessage":"internal server error"},"result":{"resultStatus":"U","resultCode":"UNKNOWN_EXCEPTION","resultMessage":"internal server error"}}`)
	}
	return code, body
}

func capMessage(m string) string {
	if utf8.RuneCountInString(m) <= maxResultMessage {
		return m
	}
	r := []rune(m)
	return string(r[:maxResultMessage-1]) + "…"
}

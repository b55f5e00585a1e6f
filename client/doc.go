// Package client is the merchant SDK of the iPass pass-management Open API:
// typed createPass, updatePass, queryPass and queryPassHistory calls, and a
// raw [Client.Call], that sign (and optionally encrypt) every request and
// verify (and decrypt) every response as docs/api.md ("Response headers, and
// verifying a response") requires. It speaks to any
// gateway of that protocol: an ipass server or the real AlipayHK one.
//
// [Client] here is the SDK, a caller of the API. It is not [ipass.Client],
// the server's domain record of a registered API caller and its keys.
//
// # What a call does
//
// Each attempt signs the exact body bytes it sends with a fresh
// Request-Time (spec 2.9: the server refuses a signed content it has seen
// before, so a retry must never reuse one). The response must carry both
// Signature and Response-Time; its content is rebuilt from the request's
// method and path, the response Client-Id (or the one sent), Response-Time
// and the raw body, and verified with the server key of the algorithm the
// response names. Only then is an Encrypt-ed body decrypted and the result
// read, from resultInfo or, failing that, result.
//
// A call returns nil error only for resultStatus S. An F or U result is a
// *[ResultError]; a response that cannot be trusted or read, or no response
// at all, is a *[ProtocolError] naming the failed check. A response that
// fails verification is never returned as a result.
//
// # Retries
//
// Calls are retried, re-signed each time, on U results and on transport
// failures only, never on F: createPass is idempotent on (merchantId,
// bizSerialId) and updatePass recognises an exact retry (spec 4.4, 5.6), so
// a retry cannot apply a change twice. The wait between attempts grows
// exponentially with jitter and never outlives the context's deadline.
//
// The zero [Config] makes no retries (one attempt), exactly like
// `ipass call --retries 0`; set Config.Retries to [DefaultRetries] (what
// `ipass call` uses by default) or any other count to get them.
//
// A Client is safe for concurrent use; create one per configuration and
// reuse it so that HTTP connections are reused.
package client

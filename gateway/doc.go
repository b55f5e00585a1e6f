// Package gateway implements the open-API gateway protocol of the AlipayHK
// iPass API (spec section 2): the content to be signed, the Signature and
// Encrypt headers, RSA256/ECC224 signatures, RSA_AES body encryption, the
// Request-Time forms and key parsing.
//
// It is pure: it knows bytes, keys and key versions, not passes, HTTP
// routing or storage. Stateful checks (client registry, time window, replay,
// rate limits) belong to the server, which combines these functions in the
// order of spec 2.10. All functions are safe for concurrent use.
//
// # Protocol in brief
//
// The sender signs
//
//	<METHOD> <PATH>\n<Client-Id>.<Request-Time>.<body>
//
// (Response-Time for responses, with the request's method and path), see
// [Content], and sends
//
//	Signature: algorithm=RSA256,keyVersion=1,signature=<url-escaped base64>
//
// RSA256 is RSASSA-PKCS1-v1_5 with SHA-256; ECC224 is ECDSA P-224 over the
// SHA-256 digest, DER-encoded. An encrypted body is base64(AES-ECB(PKCS#7-padded
// JSON)) under a fresh AES key that travels RSA-PKCS#1-v1.5-wrapped in
//
//	Encrypt: algorithm=RSA_AES,keyVersion=1,symmetricKey=<url-escaped base64>
//
// and the signature covers the base64 ciphertext, not the JSON. The receiver
// verifies first and decrypts second.
//
// Failures that reach the wire are *[Error] values whose [Reason] is the
// resultCode and whose Part names the failing header item.
//
// # Pitfalls
//
//   - Percent-decode signature and symmetricKey values with url.PathUnescape
//     semantics, never url.QueryUnescape: senders that skip URL-escaping send
//     plain base64, and QueryUnescape turns its '+' into ' '. The official
//     Go SDK makes this mistake.
//   - Never parse and re-serialise JSON before verifying or after signing.
//     The signature covers the exact wire bytes: whitespace, key order,
//     \uXXXX and \/ escapes. encoding/json changes all of these (it also
//     escapes &, < and >).
//   - The time in the content is the header text as sent, not the instant:
//     2024-05-22T01:14:04Z and 2024-05-22T06:44:04+05:30 sign differently.
//   - ECC224 hashes with SHA-256, not SHA-224; ECDSA truncates the 32-byte
//     digest to the curve size itself, so pass the whole digest. Signatures
//     are not normalised to low-S and must not be required to be.
//   - The Signature header's signature item is written last: the official Go
//     SDK reads everything after "signature=" as the value.
//   - Go deprecates PKCS#1 v1.5 encryption for its decryption oracle. RSA_AES
//     requires it, so verify the signature before [UnwrapKey].
package gateway

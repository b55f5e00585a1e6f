package ipass

// Caller is the authenticated origin of a request, known once the gateway
// has verified its signature.
type Caller struct {
	ClientID string // the verified Client-Id
	TracerID string // this request's Tracer-Id (stored in the pass history)
}

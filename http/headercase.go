package http

import (
	"net/http"
	"strings"

	"github.com/ipass-dev/ipass"
)

// setProtocolHeader sets one of the protocol response headers (Client-Id,
// Response-Time, Signature, Tracer-Id, Encrypt), spelled as the client's
// headerCase setting says: lower case unless the client is set to
// canonical. The map key is written directly because http.Header.Set would
// canonicalise it; net/http sends the name as the key spells it on HTTP/1.1
// (HTTP/2 lower-cases every name anyway). Before the client is known the
// default, lower case, applies. The canonical spelling of the name is
// deleted first so that no protocol header is ever sent twice.
func setProtocolHeader(h http.Header, c *ipass.Client, canonical, value string) {
	name := strings.ToLower(canonical)
	if c != nil && c.HeaderCase == ipass.HeaderCanonical {
		name = canonical
	}
	delete(h, canonical)
	delete(h, strings.ToLower(canonical))
	h[name] = []string{value}
}

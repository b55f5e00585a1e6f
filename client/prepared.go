package client

import (
	"context"
	"net/http"
)

// Prepared is one signed request, built ahead of the moment it is sent so
// that a load generator keeps the signature (an RSA private-key operation)
// out of the latency it measures. It can be sent once.
type Prepared struct {
	ep  endpoint
	req *http.Request
}

// Prepare signs body as a request of operation (as for [Client.Call]) with a
// Request-Time of now, sealing it first when Encryption is configured. Send
// it soon: the gateway refuses a Request-Time outside its window (usually
// five minutes).
func (c *Client) Prepare(ctx context.Context, operation string, body []byte) (*Prepared, error) {
	ep, err := c.lookup(operation)
	if err != nil {
		return nil, err
	}
	wire, encHeader, err := c.seal(ep, body)
	if err != nil {
		return nil, err
	}
	req, err := c.prepare(ctx, ep, wire, encHeader, c.requestTime())
	if err != nil {
		return nil, err
	}
	return &Prepared{ep: ep, req: req}, nil
}

// Send sends p once, with no retry, and checks the answer as [Client.Call]
// does: the verified response for resultStatus S, *[ResultError] for F and
// U, *[ProtocolError] for a failed check or transport failure.
func (c *Client) Send(p *Prepared) (*Response, error) {
	return c.exchange(p.ep, p.req, 1)
}

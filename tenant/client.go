// Package tenant calls the REST web services of a SuperOffice tenant.
package tenant

import (
	"context"
	"errors"
)

// Client calls one tenant's web API. (Skeleton: issue 4 implements it.)
type Client struct{}

// RequestOption changes one request made with Do.
type RequestOption func(*requestOptions)

type requestOptions struct {
	idempotent bool
}

// Idempotent marks a POST as safe to retry (it only reads, or repeating it
// does no harm), so it is retried like a GET.
func Idempotent() RequestOption { return func(o *requestOptions) { o.idempotent = true } }

// Do sends a request to path, relative to the client's BaseURL (such as
// "v1/Contact/5" or "v1/Agents/Contact/GetContact?contactId=5"). A non-nil
// in is sent as JSON. out decides how the response is read: nil discards
// it, *[]byte reads raw bytes (Accept: application/octet-stream),
// *io.ReadCloser hands over the open body (the caller closes it), anything
// else is decoded from JSON.
func (c *Client) Do(ctx context.Context, method, path string, in, out any, opts ...RequestOption) error {
	return errors.New("tenant: not implemented yet")
}

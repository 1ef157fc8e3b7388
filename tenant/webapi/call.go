package webapi

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"

	"github.com/go-superoffice/superoffice/tenant"
)

// errNoClient is returned by the services of an API not made with New.
var errNoClient = errors.New("webapi: no tenant client (use webapi.New)")

// options are the request options of a call: read-only agent methods are
// marked idempotent so that the tenant client retries them like GETs.
func options(read bool) []tenant.RequestOption {
	if read {
		return []tenant.RequestOption{tenant.Idempotent()}
	}
	return nil
}

// call sends one request and decodes the JSON result into a T. Every
// generated method with a JSON result is one call of it, which keeps the
// generated code small: the compiler shares one body among all pointer
// results.
func call[T any](ctx context.Context, c *tenant.Client, method, path string, in any, read bool) (T, error) {
	var out T
	if c == nil {
		return out, errNoClient
	}
	if err := c.Do(ctx, method, path, in, &out, options(read)...); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// exec sends one request whose result is discarded.
func exec(ctx context.Context, c *tenant.Client, method, path string, in any, read bool) error {
	if c == nil {
		return errNoClient
	}
	return c.Do(ctx, method, path, in, nil, options(read)...)
}

// callBytes sends one request and returns the raw response body, asked for
// as application/octet-stream.
func callBytes(ctx context.Context, c *tenant.Client, method, path string, in any, read bool) ([]byte, error) {
	if c == nil {
		return nil, errNoClient
	}
	var b []byte
	if err := c.Do(ctx, method, path, in, &b, options(read)...); err != nil {
		return nil, err
	}
	return b, nil
}

// callReader sends one request and hands over the open response body.
func callReader(ctx context.Context, c *tenant.Client, method, path string, in any, read bool) (io.ReadCloser, error) {
	if c == nil {
		return nil, errNoClient
	}
	var rc io.ReadCloser
	if err := c.Do(ctx, method, path, in, &rc, options(read)...); err != nil {
		return nil, err
	}
	return rc, nil
}

// withQuery appends the one query parameter an agent method has (always a
// numeric id), URL-encoded.
func withQuery(path, key string, v int64) string {
	return path + "?" + url.Values{key: {strconv.FormatInt(v, 10)}}.Encode()
}

// pathInt is a REST path parameter, escaped.
func pathInt(v int64) string { return url.PathEscape(strconv.FormatInt(v, 10)) }

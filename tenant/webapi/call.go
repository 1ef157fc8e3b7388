package webapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// callBytes sends one request and returns the response body, asked for as
// application/octet-stream. Some methods answer a JSON string of base64
// instead: that is returned decoded (see binaryBody).
func callBytes(ctx context.Context, c *tenant.Client, method, path string, in any, read bool) ([]byte, error) {
	if c == nil {
		return nil, errNoClient
	}
	var b []byte
	if err := c.Do(ctx, method, path, in, &b, options(read)...); err != nil {
		return nil, err
	}
	return binaryBody(b), nil
}

// callReader sends one request and hands over the open response body, as
// it arrives; a body that starts with a quote is read whole first, to
// decode it should it be a JSON string of base64 (see binaryBody).
func callReader(ctx context.Context, c *tenant.Client, method, path string, in any, read bool) (io.ReadCloser, error) {
	if c == nil {
		return nil, errNoClient
	}
	var rc io.ReadCloser
	if err := c.Do(ctx, method, path, in, &rc, options(read)...); err != nil {
		return nil, err
	}
	br := bufio.NewReader(rc)
	if first, err := br.Peek(1); err != nil || first[0] != '"' {
		return readCloser{br, rc}, nil // raw bytes (or nothing): as they arrive
	}
	b, err := io.ReadAll(br)
	if err != nil {
		_ = rc.Close()
		return nil, fmt.Errorf("webapi: %s %s: read response: %w", method, path, err)
	}
	return readCloser{bytes.NewReader(binaryBody(b)), rc}, nil
}

// readCloser reads from one reader and closes another: the response body
// under a buffer.
type readCloser struct {
	io.Reader
	io.Closer
}

// binaryBody is the content of a binary response b: b itself, or, when b
// is a JSON string of base64 (which some methods send although
// application/octet-stream was asked for), the bytes it encodes, decoded
// by encoding/json. Raw content that is, in its entirety, one quoted
// base64 text would be taken for JSON; no file the web API serves (an
// image, a document, an archive) has that shape.
func binaryBody(b []byte) []byte {
	t := bytes.TrimRight(b, " \t\r\n")
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return b
	}
	var d []byte
	if err := json.Unmarshal(t, &d); err != nil {
		return b // not JSON after all: raw content that starts with a quote
	}
	return d
}

// withQuery appends the one query parameter an agent method has (always a
// numeric id), URL-encoded.
func withQuery(path, key string, v int64) string {
	return path + "?" + url.Values{key: {strconv.FormatInt(v, 10)}}.Encode()
}

// pathInt is a REST path parameter, escaped.
func pathInt(v int64) string { return url.PathEscape(strconv.FormatInt(v, 10)) }

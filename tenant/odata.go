package tenant

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-superoffice/superoffice/internal/httpx"
)

// ListOptions are the OData query options of a list (archive) request.
// The zero value lists the server's default columns, unfiltered, in the
// server's order, one server page at a time.
type ListOptions struct {
	// Select names the columns to return, such as "contactId", "name",
	// "category"; empty means the server's default columns.
	Select []string
	// Filter is a SuperOffice $filter, such as "name begins 'Acme'" or
	// "contactId gt 10 and name contains 'AS'".
	Filter string
	// OrderBy is a $orderby, such as "name desc,contactId".
	OrderBy string
	// Top limits how many rows are returned in all; 0 means no limit.
	Top int
	// Skip skips that many rows first.
	Skip int
	// PageSize, when positive, makes All ask for pages of that many rows
	// with $top/$skip, for servers that send no odata.nextLink; 0 leaves
	// paging to the server's odata.nextLink.
	PageSize int
}

// query renders the options; top, when positive, overrides Top.
func (o *ListOptions) query(top, skip int) string {
	var parts []string
	add := func(k, v string) {
		parts = append(parts, k+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
	}
	if len(o.Select) > 0 {
		add("$select", strings.Join(o.Select, ","))
	}
	if o.Filter != "" {
		add("$filter", o.Filter)
	}
	if o.OrderBy != "" {
		add("$orderby", o.OrderBy)
	}
	if top > 0 {
		add("$top", strconv.Itoa(top))
	}
	if skip > 0 {
		add("$skip", strconv.Itoa(skip))
	}
	return strings.Join(parts, "&")
}

func (o *ListOptions) validate() error {
	switch {
	case o.Top < 0 || o.Skip < 0 || o.PageSize < 0:
		return errors.New("tenant: ListOptions.Top, Skip and PageSize must not be negative")
	}
	for _, s := range o.Select {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, ",&") {
			return errors.New("tenant: ListOptions.Select holds an empty or malformed column name")
		}
	}
	return nil
}

// Page is one page of an OData list.
type Page[T any] struct {
	// Value holds the rows.
	Value []T `json:"value"`
	// NextLink is the server's link to the next page; empty on the last.
	NextLink string `json:"odata.nextLink"`
	// Metadata is the server's odata.metadata link.
	Metadata string `json:"odata.metadata"`

	url *url.URL // the URL that answered, for a relative NextLink
}

// list fetches one page from ref.
func list[T any](ctx context.Context, c *Client, ref *url.URL) (*Page[T], error) {
	var p Page[T]
	u, err := c.do(ctx, http.MethodGet, ref, nil, &p, requestOptions{})
	if err != nil {
		return nil, err
	}
	p.url = u
	return &p, nil
}

// List returns the first page of the OData list at path (such as
// "v1/Contact" or "v1/Person"), relative to the client's BaseURL, each row
// decoded from JSON into a T: a struct with the columns asked for in
// opts.Select (json tags with their camelCase names, such as
// `json:"contactId"`), or map[string]any for every column. opts may be
// nil. Next returns the following pages; All walks them all.
func List[T any](ctx context.Context, c *Client, path string, opts *ListOptions) (*Page[T], error) {
	o := ListOptions{}
	if opts != nil {
		o = *opts
	}
	ref, err := listRef(path, &o)
	if err != nil {
		return nil, err
	}
	ref.RawQuery = o.query(o.Top, o.Skip)
	return list[T](ctx, c, ref)
}

// listRef checks a list's path and options; the path carries no query,
// as the options make it.
func listRef(path string, o *ListOptions) (*url.URL, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	ref, err := relativeRef(path)
	if err != nil {
		return nil, err
	}
	if ref.RawQuery != "" || ref.ForceQuery {
		return nil, fmt.Errorf("tenant: list path %q has a query: put $select, $filter... in ListOptions", pathOnly(path))
	}
	return ref, nil
}

// Next returns the page after p (from List or Next), following its
// odata.nextLink, or nil, nil after the last one.
func Next[T any](ctx context.Context, c *Client, p *Page[T]) (*Page[T], error) {
	if p == nil {
		return nil, errors.New("tenant: Next: nil page (pass the page List or Next returned)")
	}
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if p.NextLink == "" {
		return nil, nil
	}
	ref, err := c.linkRef(ctx, p.NextLink, p.url)
	if err != nil {
		return nil, err
	}
	return list[T](ctx, c, ref)
}

// linkRef vets a next link: it must be on an owned host; when it lies
// under the base URL it becomes relative again, so that a tenant that
// moves between pages is followed.
func (c *Client) linkRef(ctx context.Context, link string, from *url.URL) (*url.URL, error) {
	l, err := url.Parse(link)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL is the link, query unredacted
		}
		return nil, &Error{Method: http.MethodGet, URL: "odata.nextLink", cause: err}
	}
	if from != nil {
		l = from.ResolveReference(l)
	}
	base, _, err := c.currentBase(ctx)
	if err != nil {
		return nil, err
	}
	if !l.IsAbs() {
		l = base.ResolveReference(l)
	}
	if !c.owns(l, base) {
		return nil, &Error{Method: http.MethodGet, URL: httpx.RedactURL(l), kind: ErrForeignHost}
	}
	if p, bp := l.EscapedPath(), base.EscapedPath(); strings.HasPrefix(p, bp) {
		rel, err := url.Parse(strings.TrimPrefix(p, bp))
		if err == nil && !rel.IsAbs() {
			rel.RawQuery = l.RawQuery
			return rel, nil
		}
	}
	return l, nil
}

// All iterates over every row of the OData list at path, as List decodes
// them, fetching pages as it goes: it follows odata.nextLink, or with
// opts.PageSize asks for pages of that size with $top and $skip. It stops
// at the first error, which it yields, and after opts.Top rows when Top is
// set. opts may be nil.
func All[T any](ctx context.Context, c *Client, path string, opts *ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		ref, err := listRef(path, &o)
		if err != nil {
			yield(zero, err)
			return
		}
		served, skip := 0, o.Skip
		ask := func() int { // $top for the next request
			switch {
			case o.PageSize > 0 && o.Top > 0:
				return min(o.PageSize, o.Top-served)
			case o.PageSize > 0:
				return o.PageSize
			}
			return o.Top
		}
		page := func(top, skip int) (*Page[T], error) {
			r := *ref
			r.RawQuery = o.query(top, skip)
			return list[T](ctx, c, &r)
		}
		top := ask()
		p, err := page(top, skip)
		seen := map[string]bool{} // the pages read, so that a link back ends the list
		for {
			if err != nil {
				yield(zero, err)
				return
			}
			k := hostKey(p.url) + p.url.EscapedPath() + "?" + p.url.RawQuery
			if seen[k] {
				yield(zero, &Error{Method: http.MethodGet, URL: path, cause: errors.New("odata.nextLink leads back to a page already read")})
				return
			}
			seen[k] = true
			for _, row := range p.Value {
				if !yield(row, nil) {
					return
				}
				served++
				if o.Top > 0 && served >= o.Top {
					return
				}
			}
			switch {
			case p.NextLink != "":
				if len(p.Value) == 0 {
					// Server-driven paging fills its pages; links from
					// empty ones could lead on for ever.
					yield(zero, &Error{Method: http.MethodGet, URL: path, cause: errors.New("odata.nextLink on a page without rows")})
					return
				}
				p, err = Next(ctx, c, p)
			case o.PageSize > 0 && len(p.Value) == top && top > 0:
				skip += len(p.Value)
				top = ask()
				p, err = page(top, skip)
			default:
				return
			}
		}
	}
}

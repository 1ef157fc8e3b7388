package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"strconv"
)

// entityService is the REST shape that ContactsService and PersonsService
// share: entities E at path (v1/Contact...), rows R in its list. The typed
// services wrap it so that their API and docs can stay entity-specific.
type entityService[E, R any] struct {
	path string       // "v1/Contact"
	noun string       // "contact", for error messages
	id   func(*E) int // the entity's id field; 0 for a new one
}

func (s entityService[E, R]) badID(id int) error {
	return errors.New("tenant: " + s.noun + " id must be positive, not " + strconv.Itoa(id))
}

func (s entityService[E, R]) defaults(ctx context.Context, c *Client) (*E, error) {
	var e E
	if err := c.Do(ctx, http.MethodGet, s.path+"/default", nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

func (s entityService[E, R]) get(ctx context.Context, c *Client, id int) (*E, error) {
	if id <= 0 {
		return nil, s.badID(id)
	}
	var e E
	if err := c.Do(ctx, http.MethodGet, s.path+"/"+strconv.Itoa(id), nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

func (s entityService[E, R]) create(ctx context.Context, c *Client, e *E) (*E, error) {
	switch {
	case e == nil:
		return nil, errors.New("tenant: Create: nil " + s.noun)
	case s.id(e) != 0:
		return nil, errors.New("tenant: Create: " + s.noun + " has an id already; use Update")
	}
	var out E
	if err := c.Do(ctx, http.MethodPost, s.path, e, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (s entityService[E, R]) update(ctx context.Context, c *Client, e *E) (*E, error) {
	switch {
	case e == nil:
		return nil, errors.New("tenant: Update: nil " + s.noun)
	case s.id(e) <= 0:
		return nil, errors.New("tenant: Update: " + s.noun + " has no id; use Create")
	}
	var out E
	if err := c.Do(ctx, http.MethodPut, s.path+"/"+strconv.Itoa(s.id(e)), e, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (s entityService[E, R]) delete(ctx context.Context, c *Client, id int) error {
	if id <= 0 {
		return s.badID(id)
	}
	return c.Do(ctx, http.MethodDelete, s.path+"/"+strconv.Itoa(id), nil, nil)
}

func (s entityService[E, R]) list(ctx context.Context, c *Client, opts *ListOptions) (*Page[R], error) {
	return firstPage[R](ctx, c, s.path, opts)
}

func (s entityService[E, R]) all(ctx context.Context, c *Client, opts *ListOptions) iter.Seq2[R, error] {
	return all[R](ctx, c, s.path, opts)
}

// decodeEntity decodes the JSON object b into a fresh P (an entity's
// method-less twin, so json does not recurse into UnmarshalJSON) and
// returns with it the members known lacks, for the entity's Extra.
func decodeEntity[P any](b []byte, known map[string]bool) (P, Extra, error) {
	var p P
	// First, as extraFields checks b's structure but not its literals.
	if err := json.Unmarshal(b, &p); err != nil {
		return p, nil, err
	}
	extra, err := extraFields(b, known)
	return p, extra, err
}

// encodeEntity encodes p (an entity's method-less twin) with extra's
// members appended.
func encodeEntity[P any](p P, extra Extra, known map[string]bool) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return withExtra(b, extra, known)
}

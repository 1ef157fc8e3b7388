package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-superoffice/superoffice/internal/jsonobj"
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

// entityDecoder is implemented by this package's entities only: their
// decoder validates its whole input, so Client.decode can hand them the
// body without encoding/json's own passes over it. Other Unmarshalers
// keep encoding/json's validation.
type entityDecoder interface{ decodeJSON([]byte) error }

// entityEncoder is implemented by this package's entities only: their
// encoding is compact, HTML-escaped JSON already, as json.Marshal would
// make it, so Client.Do sends it without json.Marshal's copy and check.
type entityEncoder interface{ encodeJSON() ([]byte, error) }

var (
	_ entityDecoder = (*Contact)(nil)
	_ entityDecoder = (*Person)(nil)
	_ entityEncoder = (*Contact)(nil)
	_ entityEncoder = (*Person)(nil)
)

// fieldIndex maps the JSON names (lower case) of t's fields to their
// index, for decodeMembers, which tracks the fields seen in a uint64.
func fieldIndex(t reflect.Type) map[string]int {
	if t.NumField() > 64 {
		panic("tenant: " + t.Name() + " has more than 64 fields")
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[strings.ToLower(name)] = i
	}
	return m
}

// errSlowPath makes decodeFast leave the input to decodeEntity.
var errSlowPath = errors.New("tenant: input for the reflective decoder")

// deepValue is the length from which a member's value might nest deeper
// than encoding/json allows (10000 levels, the object's own included): a
// level takes two bytes at least.
const deepValue = 2 * (10000 - 1)

// decodeFast decodes the JSON object b as decodeEntity does, in one pass
// over b for the common case: ASCII names, each field once, literals of
// the field's type. Anything else, errors included, goes to decodeEntity,
// so that the result and the error are the reflective decoder's.
func decodeFast[P any](b []byte, index map[string]int, known map[string]bool) (P, Extra, error) {
	p, extra, err := decodeMembers[P](b, index)
	if err != nil {
		return decodeEntity[P](b, known)
	}
	return p, extra, nil
}

// decodeMembers is decodeFast's one pass; any error means "ask
// decodeEntity".
func decodeMembers[P any](b []byte, index map[string]int) (P, Extra, error) {
	var p P
	extra, err := decodeObject(reflect.ValueOf(&p).Elem(), b, index, true)
	return p, extra, err
}

// decodeObject sets the fields of the zero struct v (index is its
// fieldIndex) from the JSON object b, and returns the members without a
// field if keep (an entity's Extra), else checks and drops them.
func decodeObject(v reflect.Value, b []byte, index map[string]int, keep bool) (Extra, error) {
	var seen uint64
	var extra Extra
	err := jsonobj.Members(b, func(name, value []byte) error {
		if len(value) >= deepValue {
			return errSlowPath
		}
		i, ok, err := lookupField(name, index)
		if err != nil {
			return err
		}
		if !ok {
			// Members checked the value's structure, not its literals.
			if !json.Valid(value) {
				return errSlowPath
			}
			if !keep {
				return nil
			}
			if extra == nil {
				extra = Extra{}
			}
			extra[string(name)] = append(json.RawMessage(nil), value...)
			return nil
		}
		// encoding/json decodes a repeat into what the first one made
		// (merging objects, reusing slice elements): leave that to it.
		if seen&(1<<i) != 0 {
			return errSlowPath
		}
		seen |= 1 << i
		return setField(v.Field(i), value)
	})
	return extra, err
}

// lookupField finds the field of the member name as encoding/json does:
// the exact name, else any case. Only ASCII names are matched here, as
// encoding/json folds some non-ASCII letters to ASCII ones ("ſ" to "s").
// A control character is an error that Members does not see in a name.
func lookupField(name []byte, index map[string]int) (int, bool, error) {
	var lower [64]byte
	if len(name) > len(lower) {
		return 0, false, errSlowPath
	}
	for j, c := range name {
		if c >= utf8.RuneSelf || c < ' ' {
			return 0, false, errSlowPath
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[j] = c
	}
	i, ok := index[string(lower[:len(name)])]
	return i, ok, nil
}

var timeType = reflect.TypeFor[Time]()

// nestedIndex has the fieldIndex of the structs that entities point to,
// which setField decodes as it decodes an entity. Their fields are
// strings, ints and bools.
var nestedIndex = map[reflect.Type]map[string]int{}

func init() {
	for _, t := range []reflect.Type{reflect.TypeFor[Associate](), reflect.TypeFor[ListItem](),
		reflect.TypeFor[Country](), reflect.TypeFor[ContactRef]()} {
		nestedIndex[t] = fieldIndex(t)
	}
}

// setField sets the zero field f from the valid-structured JSON value.
// Scalars and the structs of nestedIndex are decoded here, the rest by
// encoding/json; a literal of another type is an error for encoding/json,
// which decodeEntity then reports. Null leaves a scalar as it is, as
// encoding/json does.
func setField(f reflect.Value, value []byte) error {
	null := string(value) == "null"
	switch f.Kind() {
	case reflect.String:
		if null {
			return nil
		}
		s, err := jsonobj.Unquote(value) // an error for any other type
		if err != nil {
			return err
		}
		f.SetString(s)
		return nil
	case reflect.Int:
		if null {
			return nil
		}
		n, ok := parseInt(value)
		if !ok || f.OverflowInt(n) {
			return errSlowPath
		}
		f.SetInt(n)
		return nil
	case reflect.Bool:
		switch string(value) {
		case "true":
			f.SetBool(true)
		case "false", "null":
		default:
			return errSlowPath
		}
		return nil
	case reflect.Pointer:
		if null {
			return nil
		}
		index, ok := nestedIndex[f.Type().Elem()]
		if !ok || value[0] != '{' {
			break
		}
		p := reflect.New(f.Type().Elem())
		if _, err := decodeObject(p.Elem(), value, index, false); err != nil {
			return err
		}
		f.Set(p)
		return nil
	case reflect.Slice:
		if string(value) == "[]" {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0)) // not nil, as encoding/json makes it
			return nil
		}
	case reflect.Struct:
		if f.Type() == timeType {
			// Time reads nothing but null and string literals, which
			// Unquote checks.
			return f.Addr().Interface().(*Time).UnmarshalJSON(value)
		}
	}
	return json.Unmarshal(value, f.Addr().Interface())
}

// parseInt parses a JSON integer without fraction or exponent, of at most
// 18 digits (which cannot overflow an int64); anything else is not ok.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

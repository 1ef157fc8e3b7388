package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrMalformedEvent: the body is not a SuperOffice webhook payload (not a
// JSON object, or a member of the wrong type, or no Event name).
var ErrMalformedEvent = errors.New("webhook: malformed event")

// TestEvent is the Event name of the test SuperOffice POSTs when a
// webhook is saved; a receiver answers it 200 and otherwise ignores it.
const TestEvent = "test"

// Event is one webhook delivery, SuperOffice's WebhookPayload. It is a
// hint that something changed: re-read the entity through the API rather
// than trust its values, and reconcile after gaps, since SuperOffice
// never replays an event it discarded.
type Event struct {
	// EventID is a GUID; every retry of a delivery carries the same one,
	// so receivers drop an EventID they have handled.
	EventID string `json:"EventId"`
	// Timestamp is when the event happened, in UTC.
	Timestamp time.Time
	// Changes are the database column names that changed ("name",
	// "updated"); empty for the test event.
	Changes []string
	// Event is the event name, "<entity>.<event>": "contact.created",
	// "person.deleted", "webhook7.stopped", "test". Names this package
	// does not know are passed through.
	Event string
	// PrimaryKey is the id of the row the event is about (0 for the test).
	PrimaryKey int64
	// Entity is the table: "contact", "person", "test".
	Entity string
	// ContextIdentifier is the tenant, "Cust12345".
	ContextIdentifier string
	// ChangedByAssociateID is the associate whose change fired the event.
	ChangedByAssociateID int64 `json:"ChangedByAssociateId"`
	// WebhookName is the Name of the webhook that delivered it.
	WebhookName string
	// FieldValues are non-sensitive columns of the row (since NetServer
	// 11), as sent: some deliveries encode them ("[I:6]"), others send
	// plain JSON. Decode them with DecodeValues. Empty when absent.
	FieldValues json.RawMessage
	// Values are the columns of a deleted row, as sent; decode them with
	// DecodeValues. Empty when absent.
	Values json.RawMessage

	body []byte // the payload as parsed, for Extra
}

// Extra returns every other member of the payload, by its name as sent:
// the webhook's Properties are added to each payload this way, and
// members of later versions arrive here rather than being lost. It
// decodes them from the body Parse was given on each call (most receivers
// never ask, so Parse does not); nil when there are none.
func (e *Event) Extra() map[string]json.RawMessage {
	var extra map[string]json.RawMessage
	if len(e.body) == 0 || json.Unmarshal(e.body, &extra) != nil {
		return nil
	}
	for k := range extra {
		for _, known := range knownMembers {
			if strings.EqualFold(k, known) {
				delete(extra, k)
				break
			}
		}
	}
	if len(extra) == 0 {
		return nil
	}
	return extra
}

// IsTest reports whether e is the test event SuperOffice sends when a
// webhook is saved.
func (e *Event) IsTest() bool { return strings.EqualFold(e.Event, TestEvent) }

// knownMembers are Event's JSON names, for telling Extra apart.
var knownMembers = []string{"EventId", "Timestamp", "Changes", "Event", "PrimaryKey", "Entity",
	"ContextIdentifier", "ChangedByAssociateId", "WebhookName", "FieldValues", "Values"}

// stamp is a payload time: RFC 3339 with any number of fractional digits,
// or the same without an offset, which the web API uses for UTC.
type stamp time.Time

// UnmarshalJSON reads a JSON string time; null leaves s zero.
func (s *stamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var v string
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		v = string(b[1 : n-1]) // the common case: no escapes to undo
	} else if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("the Timestamp is not a JSON string: %w", err)
	}
	t, err := parseISOTime(v)
	if err != nil {
		return fmt.Errorf("the Timestamp %q is not an ISO 8601 time", truncate(v))
	}
	*s = stamp(t)
	return nil
}

// parseISOTime reads an ISO 8601 time with or without an offset; without
// one it is UTC. Fractional seconds of any length are accepted.
func parseISOTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", v)
}

// Parse decodes a webhook body, which Verify must have accepted first. It
// accepts members it does not know (see Event.Extra) and event names it
// does not know, and fails only for a body that is not a JSON object of
// the payload's shape or has no Event name. The Event keeps body for
// Extra: do not change it afterwards.
func Parse(body []byte) (*Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformedEvent)
	}
	// Event's members, but a Timestamp that also takes a time without an
	// offset (read as UTC): the outer field hides the embedded one.
	type members Event
	e := &Event{body: trimmed}
	w := struct {
		*members
		Timestamp stamp
	}{members: (*members)(e)}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	if e.Event == "" {
		return nil, fmt.Errorf("%w: no Event name", ErrMalformedEvent)
	}
	e.Timestamp = time.Time(w.Timestamp)
	e.FieldValues, e.Values = nullToEmpty(e.FieldValues), nullToEmpty(e.Values)
	return e, nil
}

func nullToEmpty(r json.RawMessage) json.RawMessage {
	if string(r) == "null" {
		return nil
	}
	return r
}

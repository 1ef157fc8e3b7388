package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

const (
	sessionsTable = "sessions"
	sessionColumn = "data"
	sessionIDSize = 32 // bytes of randomness: 256 bits
)

// SessionData is what the web app keeps about a signed-in browser. The whole struct is
// stored as one sealed JSON value, so every field, not only the tokens, is private to
// the holder of the seal key and bound to its session id.
type SessionData struct {
	UserName          string    `json:"user_name,omitempty"`
	Email             string    `json:"email,omitempty"`
	ContextIdentifier string    `json:"context_id,omitempty"`
	AssociateID       int       `json:"associate_id,omitempty"`
	IsAdministrator   bool      `json:"is_administrator,omitempty"`
	AccessToken       string    `json:"access_token,omitempty"`
	RefreshToken      string    `json:"refresh_token,omitempty"`
	IDToken           string    `json:"id_token,omitempty"`
	TokenExpiry       time.Time `json:"token_expiry,omitzero"`
	CSRFToken         string    `json:"csrf_token,omitempty"`
	// Values holds anything else the app wants to keep (a flash message, a return URL).
	Values map[string]string `json:"values,omitempty"`
}

// String describes the session data without its tokens.
func (d SessionData) String() string {
	return "session of " + d.UserName + " (" + d.ContextIdentifier + ")"
}

// GoString is String, so that %#v cannot print a token either.
func (d SessionData) GoString() string { return d.String() }

// sessionJSON is SessionData without its methods: the store's own, complete encoding.
type sessionJSON SessionData

// MarshalJSON encodes the session data without AccessToken, RefreshToken, IDToken and
// CSRFToken, so that a SessionData logged or rendered as JSON cannot leak them. The
// store keeps them: it seals its own, complete encoding.
func (d SessionData) MarshalJSON() ([]byte, error) {
	d.AccessToken, d.RefreshToken, d.IDToken, d.CSRFToken = "", "", "", ""
	return json.Marshal(sessionJSON(d))
}

// LogValue logs the session data without its tokens.
func (d SessionData) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", d.UserName), slog.String("context_id", d.ContextIdentifier))
}

// Session is a stored session.
type Session struct {
	// ID is the value for the cookie. It is a bearer secret: never log it.
	ID        string
	Data      SessionData
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// NewSessionID returns a random 256-bit id, URL-safe base64 without padding.
func NewSessionID() string {
	b := make([]byte, sessionIDSize)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionKey is the row key: the SHA-256 of the id, so that reading the table does not
// hand out live session ids. ok is false for anything that is not a session id.
func sessionKey(id string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != sessionIDSize {
		return "", false
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), true
}

func (s *Store) sealSession(key string, d SessionData) ([]byte, error) {
	b, err := json.Marshal(sessionJSON(d))
	if err != nil {
		return nil, err
	}
	return s.seal.seal(b, sessionsTable, sessionColumn, key), nil
}

func (s *Store) openSession(key string, sealed []byte) (SessionData, error) {
	var d sessionJSON
	b, err := s.seal.open(sealed, sessionsTable, sessionColumn, key)
	if err != nil {
		return SessionData{}, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return SessionData{}, ErrSealBroken
	}
	return SessionData(d), nil
}

// CreateSession stores data under a new random id, valid for ttl, and returns the id.
func (s *Store) CreateSession(ctx context.Context, data SessionData, ttl time.Duration) (string, error) {
	const op = "create session"
	if ttl <= 0 {
		return "", invalid(op, "ttl must be positive")
	}
	id := NewSessionID()
	key, _ := sessionKey(id)
	sealed, err := s.sealSession(key, data)
	if err != nil {
		return "", wrap(op, err)
	}
	now := s.now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, data, created_at, updated_at, expires_at)
		VALUES ($1, $2, $3, $3, $4)`, key, sealed, micros(now), micros(now.Add(ttl)))
	if err != nil {
		return "", wrap(op, err)
	}
	return id, nil
}

// Session returns the session with this id. A malformed, unknown or expired id is
// ErrNotFound; the id is never part of an error.
func (s *Store) Session(ctx context.Context, id string) (*Session, error) {
	const op = "session"
	key, ok := sessionKey(id)
	if !ok {
		return nil, wrap(op, ErrNotFound)
	}
	sess, err := s.loadSession(ctx, s.db, key)
	if err != nil {
		return nil, wrap(op, err)
	}
	sess.ID = id
	return sess, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) loadSession(ctx context.Context, q queryer, key string) (*Session, error) {
	var sealed []byte
	var created, updated, expires int64
	err := q.QueryRowContext(ctx, `SELECT data, created_at, updated_at, expires_at FROM sessions
		WHERE id_hash = $1 AND expires_at > $2`, key, micros(s.now())).Scan(&sealed, &created, &updated, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d, err := s.openSession(key, sealed)
	if err != nil {
		return nil, err
	}
	return &Session{Data: d, CreatedAt: fromMicros(created), UpdatedAt: fromMicros(updated), ExpiresAt: fromMicros(expires)}, nil
}

// UpdateSession replaces the data of a live session (after a token refresh, say). A
// positive ttl also moves its expiry to now+ttl; zero keeps it. ErrNotFound when the
// session is gone or expired.
func (s *Store) UpdateSession(ctx context.Context, id string, data SessionData, ttl time.Duration) error {
	const op = "update session"
	key, ok := sessionKey(id)
	if !ok {
		return wrap(op, ErrNotFound)
	}
	sealed, err := s.sealSession(key, data)
	if err != nil {
		return wrap(op, err)
	}
	now := s.now()
	var expires int64 // 0: keep
	if ttl > 0 {
		expires = micros(now.Add(ttl))
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET data = $2, updated_at = $3,
		expires_at = CASE WHEN CAST($4 AS BIGINT) > 0 THEN CAST($4 AS BIGINT) ELSE expires_at END
		WHERE id_hash = $1 AND expires_at > $3`, key, sealed, micros(now), expires)
	if err != nil {
		return wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(op, err)
	} else if n == 0 {
		return wrap(op, ErrNotFound)
	}
	return nil
}

// RotateSession moves a live session to a new id and returns it; the old id stops
// working. Call it at sign-in, so that an id planted before sign-in is worth nothing
// after. The data is re-sealed under the new id (the seal is bound to the id). A
// positive ttl sets the new expiry to now+ttl; zero keeps the old one.
func (s *Store) RotateSession(ctx context.Context, oldID string, ttl time.Duration) (string, error) {
	const op = "rotate session"
	oldKey, ok := sessionKey(oldID)
	if !ok {
		return "", wrap(op, ErrNotFound)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", wrap(op, err)
	}
	defer tx.Rollback()
	sess, err := s.loadSession(ctx, tx, oldKey)
	if err != nil {
		return "", wrap(op, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, oldKey); err != nil {
		return "", wrap(op, err)
	}
	newID := NewSessionID()
	newKey, _ := sessionKey(newID)
	sealed, err := s.sealSession(newKey, sess.Data)
	if err != nil {
		return "", wrap(op, err)
	}
	now := s.now()
	expires := sess.ExpiresAt
	if ttl > 0 {
		expires = now.Add(ttl)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, data, created_at, updated_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, newKey, sealed, micros(sess.CreatedAt), micros(now), micros(expires)); err != nil {
		return "", wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return "", wrap(op, err)
	}
	return newID, nil
}

// DeleteSession removes a session (sign-out). Deleting an unknown id is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	key, ok := sessionKey(id)
	if !ok {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, key)
	return wrap("delete session", err)
}

// DeleteExpiredSessions removes sessions that expired by now and reports how many.
// Expired sessions are already invisible; this only reclaims their space.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	const op = "delete expired sessions"
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(s.now()))
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(op, err)
}

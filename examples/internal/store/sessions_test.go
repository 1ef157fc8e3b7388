package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleSession() SessionData {
	return SessionData{
		UserName:          "Ada Admin",
		Email:             "ada@example.com",
		ContextIdentifier: "Cust12345",
		AssociateID:       5,
		IsAdministrator:   true,
		AccessToken:       "SECRET-access",
		RefreshToken:      "SECRET-refresh",
		TokenExpiry:       time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
		CSRFToken:         "SECRET-csrf",
		Values:            map[string]string{"return": "/tenants"},
	}
}

func TestSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		ctx := context.Background()
		s := db.open(t)
		data := sampleSession()
		id, err := s.CreateSession(ctx, data, time.Hour)
		require.NoError(t, err)
		require.Len(t, id, 43, "id length") // 32 bytes, base64url without padding
		sess, err := s.Session(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, data, sess.Data)
		assert.Equal(t, id, sess.ID)
		assert.Equal(t, db.clock.Now().Add(time.Hour), sess.ExpiresAt)

		// Nothing readable at rest, not even the id.
		var key string
		var raw []byte
		require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT id_hash, data FROM sessions`).Scan(&key, &raw))
		require.NotContains(t, key, id, "session id stored in the clear")
		require.NotContains(t, string(raw), "SECRET", "session stored in the clear")
		require.NotContains(t, string(raw), "Ada", "session stored in the clear")

		// Update, keeping and then moving the expiry.
		data.AccessToken = "SECRET-access-2"
		require.NoError(t, s.UpdateSession(ctx, id, data, 0))
		got, err := s.Session(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "SECRET-access-2", got.Data.AccessToken, "after update")
		require.Equal(t, sess.ExpiresAt, got.ExpiresAt, "after update")
		db.clock.Advance(30 * time.Minute)
		require.NoError(t, s.UpdateSession(ctx, id, data, 2*time.Hour))
		got, err = s.Session(ctx, id)
		require.NoError(t, err)
		require.Equal(t, db.clock.Now().Add(2*time.Hour), got.ExpiresAt, "expiry not moved")

		// Rotation: the old id stops working, the new one carries the data.
		newID, err := s.RotateSession(ctx, id, 0)
		require.NoError(t, err)
		require.NotEqual(t, id, newID, "rotation kept the id")
		_, err = s.Session(ctx, id)
		require.ErrorIs(t, err, ErrNotFound, "old id after rotation")
		rotated, err := s.Session(ctx, newID)
		require.NoError(t, err)
		assert.Equal(t, data, rotated.Data, "rotated session")
		assert.Equal(t, sess.CreatedAt, rotated.CreatedAt, "rotated session")
		_, err = s.RotateSession(ctx, id, 0)
		require.ErrorIs(t, err, ErrNotFound, "rotate a dead id")

		// The seal is bound to the session: another session's data copied over fails.
		otherID, err := s.CreateSession(ctx, SessionData{UserName: "Mallory"}, time.Hour)
		require.NoError(t, err)
		newKey, _ := sessionKey(newID)
		otherKey, _ := sessionKey(otherID)
		_, err = s.DB().ExecContext(ctx, `UPDATE sessions SET data = (SELECT data FROM sessions WHERE id_hash = $1) WHERE id_hash = $2`, otherKey, newKey)
		require.NoError(t, err)
		_, err = s.Session(ctx, newID)
		require.ErrorIs(t, err, ErrSealBroken, "swapped session data")
		require.NotContains(t, err.Error(), newID, "the error names the session")
		require.NotContains(t, err.Error(), newKey, "the error names the session")

		// Expiry: gone without a sleep, and gone for update and rotation too.
		db.clock.Advance(time.Hour)
		_, err = s.Session(ctx, otherID)
		require.ErrorIs(t, err, ErrNotFound, "expired session")
		require.ErrorIs(t, s.UpdateSession(ctx, otherID, data, time.Hour), ErrNotFound, "update expired session")
		n, err := s.DeleteExpiredSessions(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "sessions deleted")

		// Sign-out.
		require.NoError(t, s.DeleteSession(ctx, newID))
		_, err = s.Session(ctx, newID)
		require.ErrorIs(t, err, ErrNotFound, "deleted session")
		require.NoError(t, s.DeleteSession(ctx, newID), "delete twice")
	})
}

func TestSessionBadInput(t *testing.T) {
	s := newSQLiteDB(t).open(t)
	ctx := context.Background()
	for _, id := range []string{"", "x", "not base64 !!", strings.Repeat("A", 43) + "=", NewSessionID()[:40], NewSessionID()} {
		_, err := s.Session(ctx, id)
		assert.ErrorIs(t, err, ErrNotFound, "Session(%q)", id)
		assert.ErrorIs(t, s.UpdateSession(ctx, id, SessionData{}, 0), ErrNotFound, "UpdateSession(%q)", id)
		_, err = s.RotateSession(ctx, id, 0)
		assert.ErrorIs(t, err, ErrNotFound, "RotateSession(%q)", id)
		assert.NoError(t, s.DeleteSession(ctx, id), "DeleteSession(%q)", id)
	}
	_, err := s.CreateSession(ctx, SessionData{}, 0)
	assert.ErrorIs(t, err, ErrInvalid, "CreateSession ttl 0")
}

func TestSessionDataNotPrintable(t *testing.T) {
	d := sampleSession()
	j, err := json.Marshal(map[string]any{"d": d, "p": &d})
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "session", d, "list", []SessionData{d})
	out := fmt.Sprintf("%v %+v %#v %s", d, d, d, d) + string(j) + buf.String()
	require.Contains(t, string(j), "Cust12345", "json lost the non-secret fields")
	require.NotContains(t, out, "SECRET", "printable")
}

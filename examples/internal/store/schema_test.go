package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PrivateSchema refuses what it cannot do before touching any database.
func TestPrivateSchemaRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ dsn, prefix string }{
		{"/tmp/app.db", "demo_"},
		{"sqlite:app.db", "demo_"},
		{"postgres://app:SECRET@127.0.0.1:1/crm", "Demo"},
		{"postgres://app:SECRET@127.0.0.1:1/crm", "demo; DROP TABLE tenants; --"},
		{"postgres://app:SECRET@[::1/crm", "demo_"},
	} {
		_, _, err := PrivateSchema(ctx, tc.dsn, tc.prefix)
		if assert.ErrorIs(t, err, ErrInvalid, "PrivateSchema(%q, %q)", tc.dsn, tc.prefix) {
			assert.NotContains(t, err.Error(), "SECRET", "PrivateSchema(%q, %q) leaks the password", tc.dsn, tc.prefix)
		}
	}
}

// A store in a private schema sees only its own rows, in either form of
// DSN, and the schema is gone once dropped.
func TestPrivateSchemaKeepsApart(t *testing.T) {
	base := postgresDSN(t) // for the skip; the schemas below are made from TEST_DATABASE_URL
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace
	keyword := fmt.Sprintf("host=%s port=%s user='%s' dbname='%s'", u.Hostname(), u.Port(), quote(u.User.Username()), quote(strings.TrimPrefix(u.Path, "/")))
	if pw, ok := u.User.Password(); ok {
		keyword += " password='" + quote(pw) + "'"
	}
	if mode := q.Get("sslmode"); mode != "" {
		keyword += " sslmode=" + mode
	}
	ctx := context.Background()
	for name, dsn := range map[string]string{"url": u.String(), "keyword": keyword} {
		t.Run(name, func(t *testing.T) {
			a, dropA, err := PrivateSchema(ctx, dsn, "t_a_")
			require.NoError(t, err)
			b, dropB, err := PrivateSchema(ctx, dsn, "t_b_")
			require.NoError(t, err)
			defer dropB(ctx)
			key := GenerateSealKey()
			sa, err := Open(ctx, a, key)
			require.NoError(t, err)
			mustUpsert(t, sa, approval(1))
			sa.Close()
			sb, err := Open(ctx, b, key)
			require.NoError(t, err)
			defer sb.Close()
			n, err := sb.Counts(ctx, time.Time{})
			require.NoError(t, err)
			require.Zero(t, n.Total, "the other schema sees tenants: %+v", n)
			require.NoError(t, dropA(ctx))
			schema := a[strings.LastIndex(a, "t_a_"):]
			schema, _, _ = strings.Cut(schema, "&")
			var left int
			require.NoError(t, sb.DB().QueryRowContext(ctx, `SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, schema).Scan(&left))
			require.Zero(t, left, "schema %s is left after the drop", schema)
		})
	}
}

// A PostgreSQL connection string that does not parse is reported without
// its password, in every spelling libpq's keyword form allows; pgx's own
// redaction misses some.
func TestUnparsableDSNKeepsItsPassword(t *testing.T) {
	for _, dsn := range []string{
		`host=127.0.0.1 port=1 user=u password = s3cretpw dbname=x sslmode=bogus`,
		`host=127.0.0.1 port=1 user=u password='s3c\'ret pw9x' dbname=x sslmode=bogus`,
		`postgres://u:s3cretpw@127.0.0.1:1/x?sslmode=bogus`,
	} {
		_, err := OpenConfig(context.Background(), Config{DSN: dsn, SealKey: GenerateSealKey()})
		_, _, err2 := PrivateSchema(context.Background(), dsn, "t_")
		for _, err := range []error{err, err2} {
			if assert.ErrorContains(t, err, "sslmode is invalid", dsn) {
				assert.NotContains(t, err.Error(), "s3c", "%s: the error leaks the password", dsn)
				assert.NotContains(t, err.Error(), "pw9x", "%s: the error leaks the password", dsn)
			}
		}
	}
}

package superidtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Assigned associate ids are unique in a tenant, whatever ids were given
// or users replaced before.
func TestAddUserAssignsUniqueAssociateIDs(t *testing.T) {
	f := newAPIFixture(t) // u@example.com gets 5
	require.NoError(t, f.e.AddUser(User{Username: "a@example.com", Password: "pw", ContextIdentifier: apiCtx, AssociateID: 7}))
	require.NoError(t, f.e.AddUser(User{Username: "u@example.com", Password: "pw", ContextIdentifier: apiCtx})) // replaced
	require.NoError(t, f.e.AddUser(User{Username: "b@example.com", Password: "pw", ContextIdentifier: apiCtx}))
	require.NoError(t, f.e.AddUser(User{Username: "c@example.com", Password: "pw", ContextIdentifier: apiCtx}))
	seen := map[int]string{}
	for name, u := range f.e.users {
		other, dup := seen[u.AssociateID]
		assert.False(t, dup, "%s and %s both have associate id %d", name, other, u.AssociateID)
		seen[u.AssociateID] = name
		assert.NotEqual(t, SystemUserAssociateID, u.AssociateID, "%s has the system user's associate id", name)
	}
}

// Initials are whole letters, also for names that start with a letter
// outside ASCII.
func TestInitialsOfNonASCIINames(t *testing.T) {
	f := newAPIFixture(t)
	require.NoError(t, f.e.AddUser(User{Username: "oyvind@example.no", Password: "pw", ContextIdentifier: apiCtx, FullName: "øyvind Åsen"}))
	assert.Equal(t, "ØÅ", f.e.users["oyvind@example.no"].Initials)
}

package superoffice_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's quick start is createCompanies of example_test.go, word for
// word, so that it compiles and Example runs it.
func TestREADMEQuickStartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	example, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "## Quick start\n")
	require.True(t, ok, "README has no Quick start section")
	_, code, ok := strings.Cut(section, "```go\n")
	require.True(t, ok, "the Quick start has no Go code")
	code, _, ok = strings.Cut(code, "```")
	require.True(t, ok, "the Quick start's code is not closed")
	require.Contains(t, code, "func createCompanies(")
	assert.Contains(t, string(example), code)
}

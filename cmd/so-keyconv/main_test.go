package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/systemuser"
)

func TestRun(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	xmlKey, err := encodeXML(key)
	require.NoError(t, err)
	for _, elem := range []string{"Modulus", "Exponent", "P", "Q", "DP", "DQ", "InverseQ", "D"} {
		assert.Contains(t, string(xmlKey), "<"+elem+">", "XML lacks <%s>", elem)
	}
	for _, c := range []struct {
		args   []string
		header string
	}{
		{nil, "-----BEGIN PRIVATE KEY-----"},
		{[]string{"-pkcs1"}, "-----BEGIN RSA PRIVATE KEY-----"},
		{[]string{"-xml"}, "<RSAKeyValue>"},
	} {
		var out bytes.Buffer
		require.NoError(t, run(c.args, bytes.NewReader(xmlKey), &out), "%v", c.args)
		assert.True(t, strings.HasPrefix(out.String(), c.header), "%v: output starts %.30q", c.args, out.String())
		back, err := systemuser.ParsePrivateKey(out.Bytes())
		if assert.NoError(t, err, "%v", c.args) {
			assert.True(t, back.Equal(key), "%v: output does not hold the key", c.args)
		}
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "key.xml")
	outFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(in, xmlKey, 0o600))
	require.NoError(t, run([]string{"-in", in, "-out", outFile}, nil, nil))
	st, err := os.Stat(outFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Error(t, run([]string{"-in", in, "-out", outFile}, nil, nil), "overwrote an existing file")

	var out bytes.Buffer
	err = run(nil, strings.NewReader("not a key"), &out)
	assert.ErrorIs(t, err, systemuser.ErrInvalidKey)
	assert.ErrorContains(t, err, "systemuser: private key")
	assert.Zero(t, out.Len(), "output for bad input")
	assert.Error(t, run([]string{"-xml", "-pkcs1"}, nil, nil), "accepted -xml with -pkcs1")
}

// -h asks for the usage, which is not a failure: the exit status is 0, as
// with every Go command that uses the flag package's default handling.
func TestHelpIsNotAnError(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		assert.NoError(t, run([]string{arg}, strings.NewReader(""), &out), arg)
		assert.Zero(t, out.Len(), "%s wrote %q to standard output", arg, out.String())
	}
}

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-superoffice/superoffice/systemuser"
)

func TestRun(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	xmlKey, err := systemuser.EncodeXML(key)
	if err != nil {
		t.Fatal(err)
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
		if err := run(c.args, bytes.NewReader(xmlKey), &out); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !strings.HasPrefix(out.String(), c.header) {
			t.Errorf("%v: output starts %.30q", c.args, out.String())
		}
		back, err := systemuser.ParsePrivateKey(out.Bytes())
		if err != nil || !back.Equal(key) {
			t.Errorf("%v: output does not hold the key: %v", c.args, err)
		}
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "key.xml")
	outFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(in, xmlKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-in", in, "-out", outFile}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(outFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("output file: %v %v", st, err)
	}
	if err := run([]string{"-in", in, "-out", outFile}, nil, nil); err == nil {
		t.Error("overwrote an existing file")
	}
	var out bytes.Buffer
	err = run(nil, strings.NewReader("not a key"), &out)
	if err == nil || out.Len() != 0 || !strings.Contains(err.Error(), "systemuser: private key") {
		t.Errorf("bad input: %v, output %q", err, out.String())
	}
	if err := run([]string{"-xml", "-pkcs1"}, nil, nil); err == nil {
		t.Error("accepted -xml with -pkcs1")
	}
}

// -h asks for the usage, which is not a failure: the exit status is 0, as
// with every Go command that uses the flag package's default handling.
func TestHelpIsNotAnError(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out bytes.Buffer
		if err := run([]string{arg}, strings.NewReader(""), &out); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
		if out.Len() != 0 {
			t.Errorf("%s wrote %q to standard output", arg, out.String())
		}
	}
}

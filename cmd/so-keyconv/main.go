// Command so-keyconv converts the RSA private key that the SuperOffice
// developer portal hands out (.NET <RSAKeyValue> XML) to PEM, and back.
//
// Usage:
//
//	so-keyconv [-pkcs1 | -xml] [-in file] [-out file]
//
// It reads the key from -in (default: standard input), in any form
// systemuser.ParsePrivateKey accepts (XML, PKCS#1 or PKCS#8 PEM or DER),
// checks it, and writes it to -out (default: standard output) as PKCS#8
// PEM, as PKCS#1 PEM with -pkcs1, or as .NET XML with -xml. The output file
// is created with mode 0600; an existing one is not overwritten.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/go-superoffice/superoffice/systemuser"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "so-keyconv:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("so-keyconv", flag.ContinueOnError)
	in := fs.String("in", "", "key file to read (default: standard input)")
	out := fs.String("out", "", "file to write, mode 0600, not overwritten (default: standard output)")
	pkcs1 := fs.Bool("pkcs1", false, "write PKCS#1 (RSA PRIVATE KEY) instead of PKCS#8 PEM")
	toXML := fs.Bool("xml", false, "write .NET <RSAKeyValue> XML instead of PEM")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the usage is printed; asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 || (*pkcs1 && *toXML) {
		return fmt.Errorf("usage: so-keyconv [-pkcs1 | -xml] [-in file] [-out file]")
	}

	var data []byte
	var err error
	if *in == "" {
		data, err = io.ReadAll(io.LimitReader(stdin, 2<<20))
	} else {
		data, err = os.ReadFile(*in)
	}
	if err != nil {
		return err
	}
	key, err := systemuser.ParsePrivateKey(data)
	if err != nil {
		return err
	}
	var enc []byte
	switch {
	case *toXML:
		enc, err = encodeXML(key)
		enc = append(enc, '\n')
	case *pkcs1:
		enc, err = encodePKCS1PEM(key)
	default:
		enc, err = encodePEM(key)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(enc)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(enc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

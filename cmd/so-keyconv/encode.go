package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"math/big"
)

// The encoders take a key from systemuser.ParsePrivateKey, which has
// checked it: two primes, consistent.

// encodePEM returns key as a PKCS#8 "PRIVATE KEY" PEM block, the form
// OpenSSL and most non-.NET tools expect.
func encodePEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, errors.New("cannot encode the key as PKCS#8")
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// encodePKCS1PEM returns key as a PKCS#1 "RSA PRIVATE KEY" PEM block, the
// form older tools (and SuperOffice's own RSA XML converter) produce.
func encodePKCS1PEM(key *rsa.PrivateKey) ([]byte, error) {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
}

// rsaKeyValue is the .NET RSA.ToXmlString(true) form.
type rsaKeyValue struct {
	XMLName  xml.Name `xml:"RSAKeyValue"`
	Modulus  string
	Exponent string
	P        string
	Q        string
	DP       string
	DQ       string
	InverseQ string
	D        string
}

// encodeXML returns key in the .NET <RSAKeyValue> XML form, the one the
// SuperOffice developer portal hands out (and .NET code reads with
// RSA.FromXmlString).
func encodeXML(key *rsa.PrivateKey) ([]byte, error) {
	key.Precompute()
	// .NET pads each CRT value to half the modulus size and D to its full
	// size; readers (ParsePrivateKey and .NET's) accept either.
	half := (key.N.BitLen() + 15) / 16
	full := (key.N.BitLen() + 7) / 8
	enc := func(x *big.Int, size int) string {
		return base64.StdEncoding.EncodeToString(x.FillBytes(make([]byte, max(size, (x.BitLen()+7)/8))))
	}
	return xml.Marshal(rsaKeyValue{
		Modulus:  enc(key.N, full),
		Exponent: enc(big.NewInt(int64(key.E)), 0),
		P:        enc(key.Primes[0], half),
		Q:        enc(key.Primes[1], half),
		DP:       enc(key.Precomputed.Dp, half),
		DQ:       enc(key.Precomputed.Dq, half),
		InverseQ: enc(key.Precomputed.Qinv, half),
		D:        enc(key.D, full),
	})
}

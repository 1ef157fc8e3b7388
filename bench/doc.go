// Package bench compares superid's id_token check with go-oidc's and with
// the bare RSA check, in a module of its own so that go-oidc never enters
// the library's go.mod. It holds benchmarks only:
//
//	cd bench && go test -run XXX -bench . -benchmem
package bench

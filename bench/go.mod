module github.com/go-superoffice/superoffice/bench

go 1.25.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-superoffice/superoffice v0.0.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/MicahParks/keyfunc/v3 v3.9.2 // indirect
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/go-superoffice/superoffice => ../

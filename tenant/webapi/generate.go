package webapi

//go:generate go run ./internal/gen -spec spec/spec.json -out .

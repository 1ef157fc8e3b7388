package webapi

import (
	"context"
	"errors"
	"strings"
)

// CreateCompany creates a company the documented way: the default entity
// (GET v1/Contact/default), which carries the server's defaults (owner,
// country, ...), with its Name set, saved (POST v1/Contact). It returns the
// company as saved, with its ContactID. Like every POST it is sent once,
// never retried, as a retry could create the company twice.
//
// To set more than the name, take the same steps: GetDefault, change the
// entity, Post.
func (s ContactRestAPI) CreateCompany(ctx context.Context, name string) (*ContactEntity, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("webapi: CreateCompany: empty name")
	}
	c, err := s.GetDefault(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("webapi: CreateCompany: GET v1/Contact/default answered null")
	}
	c.Name = name
	return s.Post(ctx, c)
}

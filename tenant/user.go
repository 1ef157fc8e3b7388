package tenant

import (
	"context"
	"net/http"
)

// Principal is who the credentials act as: the web API's
// SoPrincipalCarrier (v1/User/currentPrincipal).
type Principal struct {
	UserType                  string // InternalAssociate, SystemAssociate...
	Associate                 string // the associate's (login) name
	AssociateID               int    `json:"AssociateId"`
	IsPerson                  bool
	PersonID                  int `json:"PersonId"`
	ContactID                 int `json:"ContactId"`
	CountryID                 int `json:"CountryId"`
	HomeCountryID             int `json:"HomeCountryId"`
	GroupID                   int `json:"GroupId"`
	BusinessID                int `json:"BusinessId"`
	CategoryID                int `json:"CategoryId"`
	RoleID                    int `json:"RoleId"`
	RoleName                  string
	FullName                  string
	Email                     string `json:"EMailAddress"`
	FunctionRights            []string
	SecondaryGroups           []int
	DatabaseContextIdentifier string // the tenant, CustNNNNN
	UserName                  string
}

// UserService answers questions about the calling user.
type UserService struct{ c *Client }

// CurrentPrincipal returns who the client's credentials act as.
func (s *UserService) CurrentPrincipal(ctx context.Context) (*Principal, error) {
	var p Principal
	if err := s.client().Do(ctx, http.MethodGet, "v1/User/currentPrincipal", nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *UserService) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

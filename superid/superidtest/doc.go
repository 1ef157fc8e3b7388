// Package superidtest is a faithful, in-process emulator of SuperOffice
// Online: SuperID (OpenID Connect discovery, JWKS, sign-in, tokens), the
// partner system-user exchange, the tenant state API and a tenant REST API.
//
// It answers on the same paths and with the same wire formats as the real
// service (string iat and string custom claims, x5t-only key ids, tickets
// inside system-user JWTs), so code that passes against it is code that
// talks to SuperOffice. Partners use it in their own tests:
//
//	srv := superidtest.NewServer()
//	defer srv.Close()
//	srv.RegisterApp(superidtest.App{ClientID: "app", ClientSecret: "secret", ...})
//
// Faults can be injected per endpoint (a status, a delay, a tenant state),
// and every request received is recorded for assertions.
//
// # What the tenant API emulates
//
// Contacts and persons by REST (GET/PUT/DELETE .../Contact/{id}, POST
// .../Contact, .../default, and the same for Person), the few Agents
// methods tenant/webapi's examples use, User/currentPrincipal, and the
// unauthenticated version document at GET {Api}. Dates go without an
// offset unless the request sends "SO-TimeZone: <tz>,includeTZOffset";
// the emulator keeps UTC, so the offset it adds is always Z.
//
// The OData lists (GET .../v1/Contact and .../v1/Person) support a subset
// of what SuperOffice documents (REST reference, v1ContactEntity_GetAll):
//
//   - $select: plain column names (contactId, name, department, orgNr,
//     number1, number2, category, categoryId, business, businessId,
//     country, countryId, associateId, createdBy, createdDate,
//     updatedDate; for persons personId, firstname, middleName, lastname,
//     fullName, title, email, phone, contactId, contactName, associateId,
//     createdBy, createdDate, updatedDate), and category/id, business/id
//     and country/id for a contact's list items. SuperOffice documents
//     category/id as a $select column but not how the row names it; the
//     emulator answers the item's id under the path, spelled as in the
//     documentation's example ("category/id", whatever case was asked).
//     Paths are accepted in $select only, and list/value is refused with
//     400: it is not documented, so what it would return is a guess.
//   - $filter: conditions joined by "and" only, with eq, ne, lt, le, gt,
//     ge, is, isNot (numbers and strings) and begins, notBegins, contains,
//     notContains (strings, case-insensitive). The date operators (before,
//     date, after, dateBetween) are refused with 400: SuperOffice names
//     them but documents neither the date format, nor the time zone, nor
//     how dateBetween takes its two bounds, and an emulator that guessed
//     would pass code the real service rejects. Unary operators (today,
//     thisWeek, ...), "or" and functions such as startswith(a,b) are
//     refused with 400 too.
//   - $orderby (or $orderBy), $top, $skip, and paging with an absolute
//     odata.nextLink.
//   - $entities, $mode, $options, $context, $format, $jsonSafe and $output
//     are ignored.
package superidtest

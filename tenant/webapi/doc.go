// Package webapi is the whole tenant web API of SuperOffice CRM Online,
// typed: every carrier type, enum and service of the Agents API and the
// six entity REST services, generated from spec/spec.json (taken from
// SuperOffice's npm package @superoffice/webapi 12.4.1514, ISC license).
// Every call goes through a tenant.Client, so authentication, errors,
// retries and the tenant's base URL are the tenant package's.
//
// This package holds the one model of every entity (ContactEntity,
// PersonEntity...) and of web API dates (Time). A company is created one
// way, as the system user and as the signed-in user alike (only the
// client's tenant.Credentials differ):
//
//	api := webapi.New(client) // client is a *tenant.Client
//	company, err := api.Contact.CreateCompany(ctx, "Example AS")
//
// CreateCompany takes the documented path: GET v1/Contact/default (the
// server's defaults), set the name, POST v1/Contact. To set more than the
// name, take those steps by hand with Contact.GetDefault and Contact.Post.
// UserAgent.CurrentPrincipal tells who the credentials act as. The OData
// lists, which the Agents API lacks, are read with tenant.List and
// tenant.All into a row type of the caller's.
//
// # Services
//
// API has one field per service: agents under their own name
// (api.ContactAgent, api.AIAgent), REST services under the entity's name
// (api.Contact, api.Person) with methods GetDefault, GetByID, Post,
// PutByID, PatchByID and DeleteByID. Methods take ctx first, then the
// path or query parameter, then the body, in one of three forms:
//
//   - a bare body is the value itself: an entity to save, an id array for
//     Get*List, JSON Patch operations;
//   - an object body of two or more fields is a request struct, passed by
//     value, whose fields are the body's keys, set by name
//     (ContactAgent.Merge takes a ContactMergeRequest), so two ids or two
//     bools cannot be swapped; a field left unset is sent as its zero value
//     or left out, as its comment says;
//   - an object body of one field, which has no order to get wrong, is
//     one Go parameter (ContactAgent.GetPersons(ctx, contactID)), still
//     sent as an object ({"ContactId":5}), as the API expects.
//
// A method returning binary content returns []byte (sent with
// Accept: application/octet-stream) and has a Reader variant returning the
// open body as an io.ReadCloser. Some methods answer a JSON string of
// base64 instead; both variants return the bytes it encodes.
//
// Each service's documentation links to SuperOffice's REST reference.
//
// # Naming rule
//
// Every Go name comes from the spec name by one rule: split the name into
// words (at lower-to-upper changes, before the last capital of a capital
// run followed by a lower-case letter, at underscores), write each word
// that is a Go initialism in capitals (ID, URL, HTTP, API, HTML, UI, ...:
// the golint list; "Ids" becomes "IDs"), capitalise the first letter of
// the others, and join. So ContactId is ContactID, GetContactUrl is
// GetContactURL, WebApiPatchOperation is WebAPIPatchOperation, and
// ContactRestApi is ContactRestAPI. Parameters use the same words with the
// first in lower case (contactEntityID, ids). The wire name is the JSON
// tag, so the Go name never changes what is sent. Enum members are
// constants named enum + member (ETableRightSelect). A request struct is
// named by the same rule from the package's name for the request object
// (Contact_MergeRequest is ContactMergeRequest); should that name be
// taken by another Go name of the package, the first free one of the name
// followed by 2, 3, ... is used (no name of this spec version needs it).
//
// # Types
//
// A type that extends another embeds it (most embed Carrier, which adds
// TableRight and FieldProperties). Single nested objects are pointers; a
// missing or null one is nil. Arrays hold values. Pointers, slices, maps,
// binary content, enums and any are left out of JSON when zero (nil, "");
// numbers, strings, bools, dates and timespans are always sent, as the
// server sends them. A slice or map that is empty but not nil, as decoding
// [] or {} leaves it, is sent as [] or {}: what was read is written back,
// and saving an empty list clears it (a person's last email), while a list
// never set is left out.
//
// Numbers: the spec says only "number". A number whose name ends in the
// word Id, Ids or Count (a field, a parameter, or a method for its result)
// is an int64; every other number is a float64, which holds any JSON
// number the server may send.
//
// Dates are Time: the server's offset-less form ("2002-08-07T14:52:00"),
// read into the location Unspecified and sent back the same way, values
// with an offset (as sent with SO-TimeZone: tz,includeTZOffset; "-0500"
// without a colon is written back so), values without seconds, and
// "0001-01-01T00:00:00" as the zero Time. A date that cannot be read fails
// the response with a *json.UnmarshalTypeError naming its field
// ("Consents.Updated"), as does an enum that is neither name nor number. Durations are TimeSpan, sent in
// .NET's "c" form ("1.02:03:04"). Binary content in JSON is []byte (base64
// on the wire). Dictionaries are maps with string keys; integer-keyed ones
// (IntStringDictionary) keep their keys as decimal strings.
//
// Enums are typed strings with a constant per member; a name this package
// does not know passes through unchanged. A number, which .NET writes for
// a value that has no name, is read as the name of the member with that
// code, else as its decimal text ("42"), which is written back as a
// string. Flag enums hold member names
// joined by ", " ("Select, Update"), as the server writes them; Has and
// Bits read them by bit value, Flags joins members, and a number (as the
// JavaScript client sends) is read as the names of its bits, with bits no
// member names kept as a number ("Select, 65536"). The server reads names
// or one integer but not a mix, so such a value is sent as one integer.
//
// Four polymorphic bases (FieldInfoBase, WorkflowStepBase,
// WorkflowStepOptionBase, BoardViewSettingsBase) are interfaces
// (FieldInfo, WorkflowStep, WorkflowStepOption, BoardViewSettings)
// implemented by the base and each subtype; in fields they are held by
// AnyFieldInfo and friends, which decode the subtype named by the
// discriminator field and fill that field in when encoding.
//
// # Retries
//
// Agent methods are all POSTs. Those that only read are marked
// idempotent, so the tenant client retries them like GETs: their name
// starts with the word Get, Find, Is, Has, Can or Search, and the next
// word is not Next or New (GetNextInQueue hands out work, GetNewMail
// fetches mail), and Or does not join a write verb
// (GetOrRegisterAccessGatewayInfo registers). A few such names change
// state all the same and are not retried: GetChatbotResponse keeps the
// turn, GetTempTileSelection and GetSecondaryTempTileSelection create a
// selection. Every other agent method, and the REST services, follow
// the tenant client's rule for their verb. Each method's documentation
// says when it is retried like a GET.
//
// # Regenerating
//
// go generate ./tenant/webapi/... runs internal/gen, which writes the
// *_gen.go files from spec/spec.json and nothing else, byte for byte the
// same each time. The generated tests call every method against a
// recording server and round-trip every type and request struct through
// JSON, with samples built from the spec.
package webapi

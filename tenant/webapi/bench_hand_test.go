package webapi

// The comparison for BenchmarkDecodeContactEntity: the same fields as the generated
// ContactEntity and the types it holds, written once outside the generator (with a
// throwaway script over the spec's field lists) in plain Go types: dates, timespans and
// enums as strings, no embedding, no custom decoding, as one would without a generator.

type handContactEntity struct {
	FieldProperties       map[string]handFieldProperty `json:"FieldProperties"`
	TableRight            *handTableRight              `json:"TableRight"`
	ActiveErpLinks        float64                      `json:"ActiveErpLinks"`
	ActiveInterests       float64                      `json:"ActiveInterests"`
	ActiveStatusMonitorId int64                        `json:"ActiveStatusMonitorId"`
	Address               *handAddress                 `json:"Address"`
	Associate             *handAssociate               `json:"Associate"`
	BounceEmails          []string                     `json:"BounceEmails"`
	Business              *handBusiness                `json:"Business"`
	Category              *handCategory                `json:"Category"`
	ContactId             int64                        `json:"ContactId"`
	Country               *handCountry                 `json:"Country"`
	CreatedBy             *handAssociate               `json:"CreatedBy"`
	CreatedDate           string                       `json:"CreatedDate"`
	CustomFields          map[string]string            `json:"CustomFields"`
	CustomerLanguage      *handCustomerLanguage        `json:"CustomerLanguage"`
	DbiAgentId            int64                        `json:"DbiAgentId"`
	DbiKey                string                       `json:"DbiKey"`
	DbiLastModified       string                       `json:"DbiLastModified"`
	DbiLastSyncronized    string                       `json:"DbiLastSyncronized"`
	Deleted               float64                      `json:"Deleted"`
	Department            string                       `json:"Department"`
	Description           string                       `json:"Description"`
	Domains               []string                     `json:"Domains"`
	Emails                []handEntityElement          `json:"Emails"`
	ExtraFields           map[string]string            `json:"ExtraFields"`
	Faxes                 []handEntityElement          `json:"Faxes"`
	GroupId               int64                        `json:"GroupId"`
	Interests             []handSelectableMDOListItem  `json:"Interests"`
	Kananame              string                       `json:"Kananame"`
	Name                  string                       `json:"Name"`
	NoMailing             bool                         `json:"NoMailing"`
	Number1               string                       `json:"Number1"`
	Number2               string                       `json:"Number2"`
	OrgNr                 string                       `json:"OrgNr"`
	Persons               []handPerson                 `json:"Persons"`
	Phones                []handEntityElement          `json:"Phones"`
	Source                float64                      `json:"Source"`
	SupportAssociate      *handAssociate               `json:"SupportAssociate"`
	SupportPerson         *handPerson                  `json:"SupportPerson"`
	TicketPriority        *handTicketPriority          `json:"TicketPriority"`
	UpdatedBy             *handAssociate               `json:"UpdatedBy"`
	UpdatedDate           string                       `json:"UpdatedDate"`
	Urls                  []handEntityElement          `json:"Urls"`
	UserDefinedFields     map[string]string            `json:"UserDefinedFields"`
	UtmParameters         *handSavedUtmParameters      `json:"UtmParameters"`
	Xstop                 bool                         `json:"Xstop"`
}

type handFieldProperty struct {
	FieldLength float64         `json:"FieldLength"`
	FieldRight  *handFieldRight `json:"FieldRight"`
	FieldType   string          `json:"FieldType"`
}

type handFieldRight struct {
	Mask   string `json:"Mask"`
	Reason string `json:"Reason"`
}

type handTableRight struct {
	Mask   string `json:"Mask"`
	Reason string `json:"Reason"`
}

type handAddress struct {
	FieldProperties  map[string]handFieldProperty `json:"FieldProperties"`
	TableRight       *handTableRight              `json:"TableRight"`
	Formatted        string                       `json:"Formatted"`
	LocalizedAddress [][]handLocalizedField       `json:"LocalizedAddress"`
	Postal           *handStructuredAddress       `json:"Postal"`
	Street           *handStructuredAddress       `json:"Street"`
	Wgs84Latitude    float64                      `json:"Wgs84Latitude"`
	Wgs84Longitude   float64                      `json:"Wgs84Longitude"`
}

type handLocalizedField struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	AddressType     string                       `json:"AddressType"`
	Label           string                       `json:"Label"`
	Name            string                       `json:"Name"`
	Tooltip         string                       `json:"Tooltip"`
	Value           string                       `json:"Value"`
	ValueLength     float64                      `json:"ValueLength"`
}

type handStructuredAddress struct {
	Address1  string `json:"Address1"`
	Address2  string `json:"Address2"`
	Address3  string `json:"Address3"`
	AtypeIdx  string `json:"AtypeIdx"`
	City      string `json:"City"`
	County    string `json:"County"`
	Formatted string `json:"Formatted"`
	State     string `json:"State"`
	Zipcode   string `json:"Zipcode"`
}

type handAssociate struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	AssociateId     int64                        `json:"AssociateId"`
	CustomFields    map[string]string            `json:"CustomFields"`
	Deleted         bool                         `json:"Deleted"`
	EjUserId        int64                        `json:"EjUserId"`
	ExtraFields     map[string]string            `json:"ExtraFields"`
	FormalName      string                       `json:"FormalName"`
	FullName        string                       `json:"FullName"`
	GroupIdx        float64                      `json:"GroupIdx"`
	Name            string                       `json:"Name"`
	PersonId        int64                        `json:"PersonId"`
	Rank            float64                      `json:"Rank"`
	Tooltip         string                       `json:"Tooltip"`
	Type            string                       `json:"Type"`
	UserName        string                       `json:"UserName"`
}

type handBusiness struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	Id              int64                        `json:"Id"`
	Tooltip         string                       `json:"Tooltip"`
	Value           string                       `json:"Value"`
}

type handCategory struct {
	FieldProperties  map[string]handFieldProperty `json:"FieldProperties"`
	TableRight       *handTableRight              `json:"TableRight"`
	CategoryGroup    string                       `json:"CategoryGroup"`
	Deleted          bool                         `json:"Deleted"`
	EnableLeadStatus bool                         `json:"EnableLeadStatus"`
	Id               int64                        `json:"Id"`
	Rank             float64                      `json:"Rank"`
	Tooltip          string                       `json:"Tooltip"`
	Value            string                       `json:"Value"`
}

type handCountry struct {
	FieldProperties         map[string]handFieldProperty `json:"FieldProperties"`
	TableRight              *handTableRight              `json:"TableRight"`
	AddressLayoutId         int64                        `json:"AddressLayoutId"`
	CountryId               int64                        `json:"CountryId"`
	CurrencyId              int64                        `json:"CurrencyId"`
	Deleted                 bool                         `json:"Deleted"`
	DialInPrefix            string                       `json:"DialInPrefix"`
	DomainName              string                       `json:"DomainName"`
	DomesticAddressLayoutId int64                        `json:"DomesticAddressLayoutId"`
	EnglishName             string                       `json:"EnglishName"`
	ForeignAddressLayoutId  int64                        `json:"ForeignAddressLayoutId"`
	ImageDescription        string                       `json:"ImageDescription"`
	InterAreaPrefix         string                       `json:"InterAreaPrefix"`
	Name                    string                       `json:"Name"`
	OrgNrText               string                       `json:"OrgNrText"`
	Rank                    float64                      `json:"Rank"`
	ThreeLetterISOCountry   string                       `json:"ThreeLetterISOCountry"`
	Tooltip                 string                       `json:"Tooltip"`
	TwoLetterISOCountry     string                       `json:"TwoLetterISOCountry"`
	ZipPrefix               string                       `json:"ZipPrefix"`
}

type handCustomerLanguage struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	Id              int64                        `json:"Id"`
	Tooltip         string                       `json:"Tooltip"`
	Value           string                       `json:"Value"`
}

type handEntityElement struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	Description     string                       `json:"Description"`
	StrippedValue   string                       `json:"StrippedValue"`
	Value           string                       `json:"Value"`
}

type handSelectableMDOListItem struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	ChildItems      []handSelectableMDOListItem  `json:"ChildItems"`
	ColorBlock      float64                      `json:"ColorBlock"`
	Deleted         bool                         `json:"Deleted"`
	ExtraInfo       string                       `json:"ExtraInfo"`
	FullName        string                       `json:"FullName"`
	Hidden          bool                         `json:"Hidden"`
	IconHint        string                       `json:"IconHint"`
	Id              int64                        `json:"Id"`
	LastChanged     string                       `json:"LastChanged"`
	Name            string                       `json:"Name"`
	Rank            float64                      `json:"Rank"`
	Selected        bool                         `json:"Selected"`
	StyleHint       string                       `json:"StyleHint"`
	ToolTip         string                       `json:"ToolTip"`
	Type            string                       `json:"Type"`
}

type handPerson struct {
	FieldProperties    map[string]handFieldProperty `json:"FieldProperties"`
	TableRight         *handTableRight              `json:"TableRight"`
	ActiveErpLinks     float64                      `json:"ActiveErpLinks"`
	ActiveInterests    float64                      `json:"ActiveInterests"`
	AssociateId        int64                        `json:"AssociateId"`
	AssociateName      string                       `json:"AssociateName"`
	CategoryName       string                       `json:"CategoryName"`
	ContactCountryId   int64                        `json:"ContactCountryId"`
	ContactDepartment  string                       `json:"ContactDepartment"`
	ContactFax         string                       `json:"ContactFax"`
	ContactFullName    string                       `json:"ContactFullName"`
	ContactId          int64                        `json:"ContactId"`
	ContactName        string                       `json:"ContactName"`
	ContactOrgNr       string                       `json:"ContactOrgNr"`
	ContactPhone       string                       `json:"ContactPhone"`
	CountryId          int64                        `json:"CountryId"`
	Description        string                       `json:"Description"`
	DirectPhone        string                       `json:"DirectPhone"`
	Email              string                       `json:"Email"`
	EmailName          string                       `json:"EmailName"`
	FaxPhone           string                       `json:"FaxPhone"`
	Firstname          string                       `json:"Firstname"`
	FormalName         string                       `json:"FormalName"`
	FullName           string                       `json:"FullName"`
	Kanafname          string                       `json:"Kanafname"`
	Kanalname          string                       `json:"Kanalname"`
	Lastname           string                       `json:"Lastname"`
	MiddleName         string                       `json:"MiddleName"`
	MobilePhone        string                       `json:"MobilePhone"`
	Mrmrs              string                       `json:"Mrmrs"`
	PersonId           int64                        `json:"PersonId"`
	PersonNumber       string                       `json:"PersonNumber"`
	Position           string                       `json:"Position"`
	Post1              string                       `json:"Post1"`
	Post2              string                       `json:"Post2"`
	Post3              string                       `json:"Post3"`
	Rank               float64                      `json:"Rank"`
	Retired            float64                      `json:"Retired"`
	SupportAssociateId int64                        `json:"SupportAssociateId"`
	SupportLanguageId  int64                        `json:"SupportLanguageId"`
	TicketPriorityId   int64                        `json:"TicketPriorityId"`
	Title              string                       `json:"Title"`
	UsePersonAddress   bool                         `json:"UsePersonAddress"`
}

type handTicketPriority struct {
	FieldProperties map[string]handFieldProperty `json:"FieldProperties"`
	TableRight      *handTableRight              `json:"TableRight"`
	Id              int64                        `json:"Id"`
	Tooltip         string                       `json:"Tooltip"`
	Value           string                       `json:"Value"`
}

type handSavedUtmParameters struct {
	FieldProperties          map[string]handFieldProperty `json:"FieldProperties"`
	TableRight               *handTableRight              `json:"TableRight"`
	Campaign                 string                       `json:"Campaign"`
	Content                  string                       `json:"Content"`
	FirsttouchCampaign       string                       `json:"FirsttouchCampaign"`
	FirsttouchContent        string                       `json:"FirsttouchContent"`
	FirsttouchMedium         string                       `json:"FirsttouchMedium"`
	FirsttouchReferrerDomain string                       `json:"FirsttouchReferrerDomain"`
	FirsttouchSource         string                       `json:"FirsttouchSource"`
	FirsttouchTerm           string                       `json:"FirsttouchTerm"`
	FormName                 string                       `json:"FormName"`
	Medium                   string                       `json:"Medium"`
	ReferrerDomain           string                       `json:"ReferrerDomain"`
	Source                   string                       `json:"Source"`
	Term                     string                       `json:"Term"`
}

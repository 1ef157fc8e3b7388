package spec

import (
	"strings"
	"unicode"
)

// initialisms are the words Go spells in capitals (the golint list). A
// word of a spec name that is one of these, in any case, is written in
// capitals; "Ids" becomes "IDs".
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true,
	"EOF": true, "GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true,
	"IP": true, "JSON": true, "LHS": true, "QPS": true, "RAM": true, "RHS": true,
	"RPC": true, "SLA": true, "SMTP": true, "SQL": true, "SSH": true, "TCP": true,
	"TLS": true, "TTL": true, "UDP": true, "UI": true, "UID": true, "UUID": true,
	"URI": true, "URL": true, "UTF8": true, "VM": true, "XML": true, "XMPP": true,
	"XSRF": true, "XSS": true,
}

// Words splits a spec name into words: at a lower-to-upper change, before
// the last capital of a run of capitals followed by a lower-case letter
// ("HTMLBody" is HTML, Body), and at underscores. Digits stay with the word
// before them.
func Words(s string) []string {
	var words []string
	rs := []rune(s)
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, string(rs[start:end]))
		}
		start = end
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '_' || r == '-' || r == ' ' || r == '.' {
			flush(i)
			start = i + 1
			continue
		}
		if i == start {
			continue
		}
		prev := rs[i-1]
		switch {
		case unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
			flush(i)
		case unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
			flush(i)
		}
	}
	flush(len(rs))
	return words
}

// GoName is the naming rule: split the spec name into words (see Words),
// write each word that is a Go initialism in capitals ("Id" -> "ID", "Url"
// -> "URL", "Ids" -> "IDs") and every other word with its first letter in
// capitals, and join them. A name that would start with a digit gets an
// "X" in front.
func GoName(s string) string {
	out := goWords(Words(s))
	if out == "" || unicode.IsDigit([]rune(out)[0]) {
		out = "X" + out
	}
	return out
}

func goWords(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		up := strings.ToUpper(w)
		switch {
		case initialisms[up]:
			b.WriteString(up)
		case strings.HasSuffix(up, "S") && initialisms[up[:len(up)-1]] && len(w) > 2:
			b.WriteString(up[:len(up)-1] + "s")
		default:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			b.WriteString(string(r))
		}
	}
	return b.String()
}

// ParamName is GoName with the first word all in lower case
// ("contactEntityID", "ids", "url"), for parameters.
func ParamName(s string) string {
	ws := Words(s)
	if len(ws) == 0 {
		return "x"
	}
	out := strings.ToLower(ws[0]) + goWords(ws[1:])
	if unicode.IsDigit([]rune(out)[0]) {
		out = "x" + out
	}
	return out
}

// lastWord is the last word of a name, as Words splits it.
func lastWord(s string) string {
	ws := Words(s)
	if len(ws) == 0 {
		return ""
	}
	return ws[len(ws)-1]
}

// IsInteger is the numeric rule. The spec has only "number", so the
// generator decides: a number whose name (field wire name, parameter name,
// or the method name for a result) ends in the word Id, Ids or Count is an
// int64 (these are int32 keys and counts on the server); every other
// number is a float64, which decodes any JSON number the server sends.
func IsInteger(name string) bool {
	switch strings.ToLower(lastWord(name)) {
	case "id", "ids", "count", "counts":
		return true
	}
	return false
}

// readVerbs are the first words of agent methods that only read.
var readVerbs = map[string]bool{
	"Get": true, "Find": true, "Is": true, "Has": true, "Can": true, "Search": true,
}

// writeVerbs are the verbs that, joined to a read verb by Or, say the
// method writes when what it looks for is not there: GetOrRegister...
// registers, GetOrCreate... creates. Or between nouns
// (FindContactOrPersonByEmailName) says nothing of the kind.
var writeVerbs = map[string]bool{
	"Add": true, "Create": true, "Insert": true, "Make": true, "Register": true,
	"Save": true, "Set": true, "Update": true,
}

// notReadOnly are agent methods named like reads that change state, which
// no word rule catches without also catching reads: a retry of one of
// these repeats the change.
var notReadOnly = map[string]bool{
	// Keeps the turn under the ChatId it is given (GetChatbotTurns reads
	// them back), so a retry adds the prompt twice.
	"GetChatbotResponse": true,
	// Each call creates a temporary selection and returns its id. Temp is
	// no rule: GetTempFile and GetEMailFromTemp read a temporary file by
	// the name CreateTempFile gave it.
	"GetTempTileSelection":          true,
	"GetSecondaryTempTileSelection": true,
}

// ReadOnly is the retry rule for agent methods, which are all POSTs: a
// method whose name starts with the word Get, Find, Is, Has, Can or Search
// only reads, so it is retried like a GET; except when the next word is
// Next or New (GetNextInQueue hands out work, GetNewMail fetches mail),
// when Or joins a write verb (GetOrRegisterAccessGatewayInfo), and the
// methods of notReadOnly, which may change state. Every other agent method
// follows the POST rule.
func ReadOnly(method string) bool {
	ws := Words(method)
	if len(ws) == 0 || !readVerbs[ws[0]] || notReadOnly[method] {
		return false
	}
	if len(ws) > 1 && (ws[1] == "Next" || ws[1] == "New") {
		return false
	}
	for i := 1; i+1 < len(ws); i++ {
		if ws[i] == "Or" && writeVerbs[ws[i+1]] {
			return false
		}
	}
	return true
}

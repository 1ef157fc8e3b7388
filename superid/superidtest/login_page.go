package superidtest

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// Pages. They are small and plain so a browser test can drive them: the
// inputs have ids username and password, the buttons signin, approve and
// deny.

type field struct{ Name, Value string }

type pageData struct {
	Action, Flow, Username, App, Tenant, Error string
	Fields                                     []field
	Users                                      []User // listed on the sign-in and approve pages
}

// maxPageUsers caps the users the pages list: a few to pick from, not a
// load test's thousands.
const maxPageUsers = 20

// pageUsersLocked is the registered users by user name, for the pages:
// the emulator's users are test fixtures, their passwords public.
func (e *Emulator) pageUsersLocked() []User {
	if len(e.users) > maxPageUsers {
		return nil
	}
	us := make([]User, 0, len(e.users))
	for _, u := range e.users {
		us = append(us, *u)
	}
	slices.SortFunc(us, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	return us
}

func writePage(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = t.Execute(w, d)
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{block "title" .}}SuperID{{end}} - SuperOffice Online emulator</title>
<style>
:root { --fg: #1d2330; --muted: #5b6475; --bg: #f4f6f9; --card: #fff; --line: #dde2ea; --accent: #0b6e4f; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: .75rem 1.5rem; background: #16324f; color: #fff; font-weight: 600; }
main { max-width: 32rem; margin: 1.5rem auto; padding: 0 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
.card h1, .card h2 { margin-top: .25rem; }
.card.failed { border-left: 4px solid var(--bad); }
label { display: block; color: var(--muted); font-size: .85rem; }
input[type=email], input[type=password] { width: 100%; font: inherit; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 6px; color: var(--fg); }
button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--fg); border: 1px solid var(--line); }
#error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
code { font-size: .9em; background: #eef1f5; padding: 0 .25em; border-radius: 3px; }
.sub { color: var(--muted); font-size: .85em; }
</style></head><body>
<header>SuperOffice Online <span class="sub">(emulator)</span></header>
<main>`

const pageFoot = `</main></body></html>
`

// usersCard lists the users the emulator knows, with their passwords: it
// is a stand-in for tests and local runs, whose users are public.
const usersCard = `{{with .Users}}
<section class="card" id="users">
<h2>Users of this emulator</h2>
<table>
<thead><tr><th>User name</th><th>Password</th><th>Role</th></tr></thead>
<tbody>
{{range .}}<tr><td><code>{{.Username}}</code></td><td><code>{{.Password}}</code></td><td>{{if .Administrator}}administrator of {{.ContextIdentifier}}: approves apps{{else}}user of {{.ContextIdentifier}}{{end}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}`

var (
	signInTemplate = template.Must(template.New("signin").Parse(pageHead + `
<section class="card">
<h1>Sign in to SuperOffice</h1>
<p>{{.App}} wants you to sign in.</p>
{{with .Error}}<p id="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<p><label for="username">User name</label>
<input id="username" name="username" type="email" autocomplete="username" required value="{{.Username}}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button id="signin" type="submit" name="action" value="signin">Sign in</button></p>
</form>
</section>` + usersCard + pageFoot))

	approveTemplate = template.Must(template.New("approve").Parse(pageHead + `
<section class="card">
<h1>Approve {{.App}}</h1>
<p>{{.App}} asks for access to {{.Tenant}}, including a system user that works when nobody is signed in.
As an administrator you may approve it for everyone in {{.Tenant}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="flow" value="{{.Flow}}">
<p><button id="approve" type="submit" name="action" value="approve">Approve</button>
<button id="deny" class="secondary" type="submit" name="action" value="deny">Deny</button></p>
</form>
</section>` + usersCard + pageFoot))

	errorTemplate = template.Must(template.New("error").Parse(pageHead + `
<section class="card failed">
<h1>Sign-in problem</h1>
<p id="error" role="alert">{{.Error}}</p>
</section>` + pageFoot))

	formPostTemplate = template.Must(template.New("formpost").Parse(pageHead + `
<h1>Returning to the application</h1>
<form id="response" method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button id="continue" type="submit">Continue</button></noscript>
</form>
<script>document.getElementById("response").submit()</script>` + pageFoot))
)

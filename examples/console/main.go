// Command console is the partner service of SuperOffice's system user
// scenario (steps 7 to 10): it polls the database for tenants that have
// approved the app, exchanges each tenant's system user token for a ticket
// (signed with the app's private key, the returned JWT validated), checks
// the tenant's state and calls its web services: by default it creates a
// company named SuperId-<unix seconds> in every tenant, on a schedule.
//
//	go run ./examples/console                 # local mode: the web app's emulator and ./data
//	go run ./examples/console -once           # one cycle, then a summary
//	go run ./examples/console -demo 100 -once # its own emulator and 100 demo tenants
//
// With SUPEROFFICE_ENV, SUPEROFFICE_CLIENT_ID, SUPEROFFICE_CLIENT_SECRET,
// SUPEROFFICE_PRIVATE_KEY_FILE, SUPEROFFICE_REDIRECT_URL and DATABASE_URL
// it works for real SuperOffice Online tenants. Several instances can share
// one PostgreSQL database. SIGINT or SIGTERM stop it cleanly. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// After the first signal, a second one kills the process the usual way.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		os.Exit(1)
	}
}

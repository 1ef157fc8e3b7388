// Command gen generates package webapi from spec/spec.json. Run it with
// go generate in tenant/webapi; its output depends only on the spec, so
// running it twice gives the same files byte for byte.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

func main() {
	specPath := flag.String("spec", "spec/spec.json", "the spec to generate from")
	outDir := flag.String("out", ".", "the package directory to write")
	flag.Parse()
	if err := run(*specPath, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(specPath, outDir string) error {
	s, err := spec.Load(specPath)
	if err != nil {
		return err
	}
	files, err := Generate(s)
	if err != nil {
		return err
	}
	// Remove generated files the spec no longer produces, so that a renamed
	// service leaves nothing behind.
	old, _ := filepath.Glob(filepath.Join(outDir, "*"+genSuffix))
	oldTests, _ := filepath.Glob(filepath.Join(outDir, "*"+genTestSuffix))
	for _, f := range append(old, oldTests...) {
		if _, keep := files[filepath.Base(f)]; !keep {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(outDir, n)
		if cur, err := os.ReadFile(p); err == nil && string(cur) == string(files[n]) {
			continue // unchanged: keep the mtime, so builds stay cached
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

const (
	genSuffix     = "_gen.go"
	genTestSuffix = "_gen_test.go"
)

// fileName is the generated file of a service: "agent_contact_gen.go".
func fileName(sv *spec.Service) string {
	base := strings.TrimSuffix(strings.TrimSuffix(sv.Name, "Agent"), "RestApi")
	var parts []string
	for _, w := range spec.Words(base) {
		parts = append(parts, strings.ToLower(w))
	}
	return sv.Kind + "_" + strings.Join(parts, "") + genSuffix
}

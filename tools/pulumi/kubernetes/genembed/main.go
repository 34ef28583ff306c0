// Command genembed prepares the build of the Kubernetes provider binary.
//
// The provider's main package, cmd/pulumi-resource-kubernetes, go:embeds two
// files that are generated at release time and are not in the module zip. This
// writes them the way the provider's own cmd/pulumi-resource-kubernetes/
// generate.go does (the committed schema.json with its "version" field set,
// re-marshalled through schema.PackageSpec; terraform-mapping.json
// re-marshalled), copies the package's main.go next to them, and writes a
// `go build -overlay` file that places all three in a package directory of
// this module that does not exist on disk (the go command refuses overlays of
// files in the module cache):
//
//	go run ./genembed -version 4.25.0 -out DIR
//	go build -overlay DIR/overlay.json -o BIN/pulumi-resource-kubernetes ./cmd/pulumi-resource-kubernetes
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const (
	cmdPkg = "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
	// The package directory, relative to this module's root, that the
	// overlay creates.
	localPkg = "cmd/pulumi-resource-kubernetes"
)

func main() {
	version := flag.String("version", "", "provider version to write into the schema, e.g. 4.25.0")
	out := flag.String("out", "", "directory for main.go, the two embedded files and overlay.json")
	flag.Parse()
	if *version == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(strings.TrimPrefix(*version, "v"), *out); err != nil {
		log.Fatalf("genembed: %v", err)
	}
}

func run(version, out string) error {
	// Where the provider's cmd package is, in the module cache. `go list -e`
	// because the package does not load cleanly until the embeds exist.
	dirOut, err := exec.Command("go", "list", "-e", "-f", "{{.Dir}}", cmdPkg).Output()
	if err != nil {
		return fmt.Errorf("go list %s: %w", cmdPkg, err)
	}
	pkgDir := strings.TrimSpace(string(dirOut))
	if pkgDir == "" {
		return fmt.Errorf("go list %s: no directory", cmdPkg)
	}
	goMod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	modRoot := filepath.Dir(strings.TrimSpace(string(goMod)))
	if modRoot == "." || modRoot == "" {
		return fmt.Errorf("run genembed inside its module (tools/pulumi/kubernetes)")
	}
	localDir := filepath.Join(modRoot, filepath.FromSlash(localPkg))
	if _, err := os.Stat(localDir); err == nil {
		return fmt.Errorf("%s exists on disk; the overlay needs it absent", localDir)
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	schemaJSON, err := os.ReadFile(filepath.Join(pkgDir, "schema.json"))
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(schemaJSON, &spec); err != nil {
		return fmt.Errorf("cannot deserialize schema: %w", err)
	}
	spec.Version = version
	schemaEmbed, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("cannot reserialize schema: %w", err)
	}

	mappingJSON, err := os.ReadFile(filepath.Join(pkgDir, "terraform-mapping.json"))
	if err != nil {
		return err
	}
	var mapping any
	if err := json.Unmarshal(mappingJSON, &mapping); err != nil {
		return fmt.Errorf("cannot deserialize terraform mapping: %w", err)
	}
	mappingEmbed, err := json.Marshal(mapping)
	if err != nil {
		return fmt.Errorf("cannot reserialize terraform mapping: %w", err)
	}

	mainGo, err := os.ReadFile(filepath.Join(pkgDir, "main.go"))
	if err != nil {
		return err
	}

	replace := map[string]string{}
	for name, data := range map[string][]byte{
		"main.go":                      mainGo,
		"schema-embed.json":            schemaEmbed,
		"terraform-mapping-embed.json": mappingEmbed,
	} {
		path := filepath.Join(out, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		replace[filepath.Join(localDir, name)] = path
	}
	overlay, err := json.MarshalIndent(map[string]any{"Replace": replace}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "overlay.json"), append(overlay, '\n'), 0o644)
}

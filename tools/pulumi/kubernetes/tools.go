//go:build tools

// Package tools pins the Pulumi Kubernetes provider that scripts/tools.sh
// builds. The provider's main package, cmd/pulumi-resource-kubernetes, embeds
// schema-embed.json and terraform-mapping-embed.json, which are generated at
// release time and are not in the module zip, so it cannot be imported or
// built from the module cache as it is; its imports are pinned here instead.
// scripts/tools.sh runs ./genembed, which writes the two files and a copy of
// the package's main.go plus an overlay file, and then builds the package
// with `go build -overlay`.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

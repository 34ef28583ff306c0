//go:build tools

// Package tools pins the Pulumi CLI (engine) that scripts/tools.sh builds:
//
//	go build -C tools/pulumi/cli -o BIN/pulumi \
//	  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.260.0" \
//	  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)

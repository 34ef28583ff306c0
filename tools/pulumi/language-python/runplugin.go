// Copyright 2026, the kubeflow-pulumi authors. Licensed under the Apache
// License, Version 2.0.

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// defaultPluginVirtualenv is the virtualenv of a plugin whose runtime options
// name none: plugins never run in the ambient Python (as with Pulumi's own host).
const defaultPluginVirtualenv = "venv"

// RunPlugin runs a plugin written in Python: the engine calls it for a policy
// pack (kind "analyzer", a directory with PulumiPolicy.yaml) and for a
// directory-based provider (PulumiPlugin.yaml). The directory's __main__.py
// runs as `python -u <dir> <args>` in the plugin's virtualenv, in the
// engine's working directory and environment. -u matters: a policy pack
// announces its gRPC port on stdout without flushing it. What the plugin
// prints is streamed back as it comes; its exit code ends the stream.
//
// Pulumi's own host can also run a buildable package without __main__.py
// through `python -m pulumi.run.plugin`; this host runs plugin directories
// only, and says so.
func (h *pythonHost) RunPlugin(req *pulumirpc.RunPluginRequest, stream pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	server := &oneSenderAtATime{LanguageRuntime_RunPluginServer: stream}
	cmd, err := pluginCommand(req, server)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("RunPlugin: %s (in %s)", strings.Join(cmd.Args, " "), cmd.Dir)

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && exitErr.ExitCode() >= 0 {
			// Flush what the plugin printed before the exit code ends the stream.
			if cerr := closer.Close(); cerr != nil {
				return cerr
			}
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())}, //nolint:gosec
			})
		}
		return fmt.Errorf("running the Python plugin in %s: %w", cmd.Dir, err)
	}
	return closer.Close()
}

// oneSenderAtATime serialises Send: exec.Cmd copies the plugin's stdout and
// stderr to their writers from two goroutines, and a gRPC stream takes one
// sender at a time (two first messages at once fail one of them with
// "transport: SendHeader called multiple times").
type oneSenderAtATime struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	mu sync.Mutex
}

// Send sends one message once no other Send is under way.
func (s *oneSenderAtATime) Send(response *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.LanguageRuntime_RunPluginServer.Send(response)
}

// pluginCommand is the command line, directory and environment of a plugin run.
func pluginCommand(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) (*exec.Cmd, error) {
	o, err := parseProgramInfo(req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	if o.virtualenv == "" && (o.toolchain == "" || strings.EqualFold(o.toolchain, "pip")) {
		o.virtualenv = defaultPluginVirtualenv
	}
	mainPy := filepath.Join(o.programDir, "__main__.py")
	if _, err := os.Stat(mainPy); err != nil {
		return nil, fmt.Errorf("the Python plugin in %s has no __main__.py (%w); this language host runs "+
			"plugin directories only: add a __main__.py that starts the plugin", o.programDir, err)
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return nil, err
	}
	ctx := server.Context()
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, fmt.Errorf("the Python plugin in %s cannot run: %w\n(or run `pulumi install` in %s)",
			o.programDir, err, o.programDir)
	}
	cmd, err := tc.Command(ctx, append([]string{"-u", o.programDir}, req.GetArgs()...)...)
	if err != nil {
		return nil, err
	}
	cmd.Dir = req.GetPwd()
	if cmd.Dir == "" {
		cmd.Dir = o.programDir
	}
	// The engine's environment first; the toolchain's (an activated virtualenv) wins where both
	// set a variable (for duplicate keys exec uses the last value).
	env := append([]string{}, req.GetEnv()...)
	if cmd.Env != nil {
		env = append(env, cmd.Env...)
	} else if len(env) == 0 {
		env = os.Environ()
	}
	cmd.Env = env
	return cmd, nil
}

// Copyright 2026, the kubeflow-pulumi authors. Licensed under the Apache
// License, Version 2.0.

// Command pulumi-language-python is the Python language host that the Pulumi
// engine starts for `runtime: python` projects.
//
// It stands in for Pulumi's own host (module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), which
// the Go module proxy here does not serve. Everything that decides how a
// program runs is Pulumi's, from github.com/pulumi/pulumi/sdk/v3 at the same
// release: the gRPC protocol (proto/go), the Python toolchain handling
// (python/toolchain: pip with or without a virtualenv, poetry, uv) and the
// pulumi-language-python-exec shim, which scripts/tools.sh copies next to this
// binary from the SDK module's python/cmd folder. This host implements what
// `pulumi preview|up|destroy|refresh|install|about|plugin ls` need:
//
//   - Handshake, GetPluginInfo, Cancel
//   - GetRequiredPackages / GetRequiredPlugins: the pulumi-plugin.json files of
//     the installed Python packages (so a missing provider plugin is reported
//     before the program runs)
//   - Run: python -u pulumi-language-python-exec ... with the program's
//     config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, optionally after
//     mypy or pyright (runtime option `typechecker`)
//   - InstallDependencies, About, GetProgramDependencies
//   - RunPlugin: a Python plugin directory (a CrossGuard policy pack, whose
//     PulumiPolicy.yaml names runtime python) run as python -u <dir> args...
//     in its own virtualenv (default "venv" in the plugin directory), its
//     output streamed back to the engine (see runplugin.go)
//
// Code generation, packing and linking (GeneratePackage, GenerateProgram,
// GenerateProject, Pack, Link, Template) are not implemented: they answer
// codes.Unimplemented.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

const (
	// The exec shim lives next to this binary, named after it plus this suffix.
	execSuffix = "-exec"
	// The Python SDK reads the stack's config and its secret keys from these.
	configVar           = "PULUMI_CONFIG"
	configSecretKeysVar = "PULUMI_CONFIG_SECRET_KEYS"
	// pulumi-language-python-exec exits with this code after it has shown the
	// user an actionable message; the engine then bails without a stack trace.
	exitCodeUserMessageShown = 32
)

func main() {
	// -v and --logtostderr are registered by the logging package (glog).
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	executor := flag.String("use-executor", "",
		"Use this pulumi-language-python-exec instead of the one next to this binary")
	flag.String("root", "", "Project root directory (accepted for compatibility; the engine sends it over RPC)")
	flag.Parse()

	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-python", "pulumi-language-python", *tracing)

	execPath := *executor
	if execPath == "" {
		var err error
		if execPath, err = findExecutor(); err != nil {
			cmdutil.Exit(err)
		}
	}

	host := &pythonHost{exec: execPath, tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The engine reads the port from the first line of our stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

// findExecutor returns pulumi-language-python-exec next to this binary (the
// way Pulumi's own host finds it), else the first one on PATH.
func findExecutor() (string, error) {
	name := "pulumi-language-python" + execSuffix
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		candidate := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("could not find %s next to this binary or on PATH "+
			"(scripts/tools.sh copies it from the pulumi sdk/v3 module's python/cmd folder): %w", name, err)
	}
	return path, nil
}

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec    string
	tracing string

	mu            sync.Mutex
	engineAddress string
}

func (h *pythonHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *pythonHost) getEngineAddress() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *pythonHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version.Version, "v")}, nil
}

func (h *pythonHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// programOptions are the runtime options of Pulumi.yaml that concern us
// (runtime: {name: python, options: {virtualenv, toolchain, typechecker}}).
type programOptions struct {
	root, programDir, entryPoint string
	virtualenv                   string
	toolchain                    string
	typechecker                  string
}

func parseProgramInfo(info *pulumirpc.ProgramInfo, fallbackDir string) (programOptions, error) {
	o := programOptions{
		root:       info.GetRootDirectory(),
		programDir: info.GetProgramDirectory(),
		entryPoint: info.GetEntryPoint(),
	}
	if o.programDir == "" {
		o.programDir = fallbackDir
	}
	if o.root == "" {
		o.root = o.programDir
	}
	if o.entryPoint == "" {
		o.entryPoint = "."
	}
	fields := info.GetOptions().GetFields()
	for key, dest := range map[string]*string{
		"virtualenv":  &o.virtualenv,
		"toolchain":   &o.toolchain,
		"typechecker": &o.typechecker,
	} {
		v, ok := fields[key]
		if !ok {
			continue
		}
		s, ok := v.GetKind().(*structpb.Value_StringValue)
		if !ok {
			return o, fmt.Errorf("python runtime option %q must be a string", key)
		}
		*dest = s.StringValue
	}
	return o, nil
}

func (o programOptions) resolveToolchain() (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{
		Root:       o.root,
		ProgramDir: o.programDir,
		Virtualenv: o.virtualenv,
	}
	switch strings.ToLower(o.toolchain) {
	case "", "auto":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return nil, fmt.Errorf("unknown python toolchain %q (want pip, poetry or uv)", o.toolchain)
	}
	return toolchain.ResolveToolchain(opts)
}

// pluginFilesScript prints the pulumi-plugin.json files of the importable
// top-level packages (each Pulumi provider SDK ships one in its package
// directory). Looking in each sys.path directory's subdirectories is fast;
// reading every distribution's RECORD is not.
const pluginFilesScript = `
import json, os, sys
found = []
for entry in sys.path:
    if not entry or not os.path.isdir(entry):
        continue
    try:
        names = sorted(os.listdir(entry))
    except OSError:
        continue
    for name in names:
        path = os.path.join(entry, name, "pulumi-plugin.json")
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    found.append(json.load(f))
            except Exception as e:
                print("skipping %s: %s" % (path, e), file=sys.stderr)
json.dump(found, sys.stdout)
`

type pulumiPluginJSON struct {
	Resource         bool   `json:"resource"`
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   string `json:"value"` // base64
	} `json:"parameterization"`
}

func (h *pythonHost) requiredPackages(ctx context.Context, info *pulumirpc.ProgramInfo,
) ([]*pulumirpc.PackageDependency, error) {
	o, err := parseProgramInfo(info, "")
	if err != nil {
		return nil, err
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginFilesScript)
	if err != nil {
		return nil, err
	}
	cmd.Dir = o.programDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the installed Pulumi packages with %s: %w: %s",
			cmd.Path, err, strings.TrimSpace(stderr.String()))
	}
	var plugins []pulumiPluginJSON
	if err := json.Unmarshal(out, &plugins); err != nil {
		return nil, fmt.Errorf("reading the pulumi-plugin.json files: %w", err)
	}
	seen := map[string]bool{}
	var deps []*pulumirpc.PackageDependency
	for _, p := range plugins {
		if !p.Resource || p.Name == "" {
			continue
		}
		dep := &pulumirpc.PackageDependency{
			Kind:    "resource",
			Name:    p.Name,
			Version: p.Version,
			Server:  p.Server,
		}
		key := p.Name + "@" + p.Version
		if pz := p.Parameterization; pz != nil {
			value, err := base64.StdEncoding.DecodeString(pz.Value)
			if err != nil {
				return nil, fmt.Errorf("parameterization value of package %s: %w", pz.Name, err)
			}
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: pz.Name, Version: pz.Version, Value: value,
			}
			key += "/" + pz.Name + "@" + pz.Version
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		deps = append(deps, dep)
	}
	return deps, nil
}

func (h *pythonHost) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *pythonHost) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, d := range deps {
		if d.Parameterization != nil {
			continue
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: d.Name, Kind: d.Kind, Version: d.Version, Server: d.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	o, err := parseProgramInfo(req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return nil, err
	}
	if o.virtualenv != "" {
		if err := tc.ValidateVenv(ctx); err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf(
				"the virtual environment %q of this project is not usable (run `pulumi install`): %v",
				o.virtualenv, err)}, nil
		}
	}

	if resp := h.typecheck(ctx, tc, o); resp != nil {
		return resp, nil
	}

	cmd, err := tc.Command(ctx, h.execArgs(req, o)...)
	if err != nil {
		return nil, err
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	if cfg := req.GetConfig(); cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration: %w", err)
		}
		env = append(env, configVar+"="+string(b))
	}
	if keys := req.GetConfigSecretKeys(); keys != nil {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
		}
		env = append(env, configSecretKeysVar+"="+string(b))
	}
	cmd.Env = env
	cmd.Dir = o.programDir
	// The engine shows what the program prints, attributed to the stack.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	logging.V(5).Infof("language host launching process: %s %s", cmd.Path, strings.Join(cmd.Args[1:], " "))

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeUserMessageShown {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: "Program exited with non-zero exit code: " + strconv.Itoa(exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// execArgs is the command line of pulumi-language-python-exec (see its
// argparse definition in the SDK).
func (h *pythonHost) execArgs(req *pulumirpc.RunRequest, o programOptions) []string {
	args := []string{"-u", h.exec}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.getEngineAddress())
	add("project", req.GetProject())
	add("root_directory", o.root)
	add("stack", req.GetStack())
	add("pwd", o.programDir)
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	args = append(args, o.entryPoint)
	return append(args, req.GetArgs()...)
}

// typecheck runs mypy or pyright on the program when the project asks for it,
// and returns a failed RunResponse when the check fails.
func (h *pythonHost) typecheck(ctx context.Context, tc toolchain.Toolchain, o programOptions) *pulumirpc.RunResponse {
	var module string
	switch strings.ToLower(o.typechecker) {
	case "":
		return nil
	case "mypy":
		module = "mypy"
	case "pyright":
		module = "pyright"
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("unknown typechecker %q (want mypy or pyright)", o.typechecker)}
	}
	cmd, err := tc.ModuleCommand(ctx, module, o.programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("cannot run %s: %v", module, err)}
	}
	cmd.Dir = o.programDir
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("%s failed: %v", module, err)}
	}
	return nil
}

// streamWriter sends what is written to it as stdout or stderr of an
// InstallDependencies stream.
type streamWriter struct {
	mu     *sync.Mutex
	stream pulumirpc.LanguageRuntime_InstallDependenciesServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := append([]byte(nil), p...)
	resp := &pulumirpc.InstallDependenciesResponse{Stdout: data}
	if w.stderr {
		resp = &pulumirpc.InstallDependenciesResponse{Stderr: data}
	}
	if err := w.stream.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *pythonHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	o, err := parseProgramInfo(req.GetInfo(), req.GetDirectory())
	if err != nil {
		return err
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var stdout, stderr io.Writer = streamWriter{&mu, stream, false}, streamWriter{&mu, stream, true}
	return tc.InstallDependencies(stream.Context(), o.programDir, req.GetUseLanguageVersionTools(),
		true /*showOutput*/, stdout, stderr)
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	o, err := parseProgramInfo(req.GetInfo(), "")
	if err != nil {
		return nil, err
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
	}, nil
}

func (h *pythonHost) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	o, err := parseProgramInfo(req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	tc, err := o.resolveToolchain()
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(pkgs))
	for _, p := range pkgs {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *pythonHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

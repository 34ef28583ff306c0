// Copyright 2026, the kubeflow-pulumi authors. Licensed under the Apache
// License, Version 2.0.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// A plugin that shows its arguments, working directory, interpreter and one
// variable of the engine's environment, then exits with code 3.
const pluginMain = `import os, sys
print("args", sys.argv[1:])
print("cwd", os.getcwd())
print("prefix", sys.prefix)
print("engine-var", os.environ.get("KFP_TEST_VAR"))
sys.stderr.write("to stderr\n")
sys.exit(3)
`

// runPlugin starts the host's gRPC server on loopback and runs one plugin
// through a real client, returning stdout, stderr and the exit code.
func runPlugin(t *testing.T, req *pulumirpc.RunPluginRequest) (string, string, int32, error) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pulumirpc.RegisterLanguageRuntimeServer(srv, &pythonHost{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	stream, err := pulumirpc.NewLanguageRuntimeClient(conn).RunPlugin(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	exitCode := int32(0)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stdout.String(), stderr.String(), exitCode, nil
		}
		if err != nil {
			return stdout.String(), stderr.String(), -1, err
		}
		switch out := msg.GetOutput().(type) {
		case *pulumirpc.RunPluginResponse_Stdout:
			stdout.Write(out.Stdout)
		case *pulumirpc.RunPluginResponse_Stderr:
			stderr.Write(out.Stderr)
		case *pulumirpc.RunPluginResponse_Exitcode:
			exitCode = out.Exitcode
		}
	}
}

func pluginDir(t *testing.T, withVenv bool) string {
	t.Helper()
	return pluginDirWith(t, pluginMain, withVenv)
}

// pluginDirWith is a plugin directory whose __main__.py is main, with a
// virtualenv in venv/ if withVenv.
func pluginDirWith(t *testing.T, main string, withVenv bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "__main__.py"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	if withVenv {
		python, err := exec.LookPath("python3")
		if err != nil {
			t.Fatal("python3 is needed to make the plugin's virtualenv: ", err)
		}
		out, err := exec.Command(python, "-m", "venv", "--without-pip", filepath.Join(dir, "venv")).CombinedOutput()
		if err != nil {
			t.Fatalf("python3 -m venv: %v: %s", err, out)
		}
	}
	return dir
}

func request(dir, pwd string, options map[string]any) *pulumirpc.RunPluginRequest {
	opts, err := structpb.NewStruct(options)
	if err != nil {
		panic(err)
	}
	return &pulumirpc.RunPluginRequest{
		Pwd:  pwd,
		Args: []string{"127.0.0.1:1234"},
		Env:  append(os.Environ(), "KFP_TEST_VAR=from-engine"),
		Kind: "analyzer",
		Info: &pulumirpc.ProgramInfo{
			RootDirectory: dir, ProgramDirectory: dir, EntryPoint: ".", Options: opts,
		},
	}
}

func TestRunPluginRunsMainInTheDefaultVirtualenv(t *testing.T) {
	dir := pluginDir(t, true)
	pwd := t.TempDir()
	stdout, stderr, code, err := runPlugin(t, request(dir, pwd, map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3 (the plugin's)", code)
	}
	for _, want := range []string{
		"args ['127.0.0.1:1234']",
		"cwd " + pwd,
		"prefix " + filepath.Join(dir, "venv"),
		"engine-var from-engine",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "to stderr\n" {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestRunPluginUsesTheVirtualenvOption(t *testing.T) {
	dir := pluginDir(t, true)
	if err := os.Rename(filepath.Join(dir, "venv"), filepath.Join(dir, "env-elsewhere")); err != nil {
		t.Fatal(err)
	}
	stdout, _, _, err := runPlugin(t, request(dir, dir, map[string]any{"virtualenv": "env-elsewhere"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "prefix "+filepath.Join(dir, "env-elsewhere")) {
		t.Errorf("not run in env-elsewhere:\n%s", stdout)
	}
}

func TestRunPluginWithoutVirtualenvSaysHowToInstall(t *testing.T) {
	dir := pluginDir(t, false)
	_, _, _, err := runPlugin(t, request(dir, dir, map[string]any{}))
	if err == nil || !strings.Contains(err.Error(), "pulumi install") || !strings.Contains(err.Error(), "venv") {
		t.Fatalf("want an error naming the virtualenv and `pulumi install`, got %v", err)
	}
}

func TestRunPluginWithoutMainPySaysSo(t *testing.T) {
	dir := pluginDir(t, true)
	if err := os.Remove(filepath.Join(dir, "__main__.py")); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := runPlugin(t, request(dir, dir, map[string]any{}))
	if err == nil || !strings.Contains(err.Error(), "__main__.py") {
		t.Fatalf("want an error naming __main__.py, got %v", err)
	}
}

// A plugin that writes to stdout and stderr at once, as a policy pack does when
// it announces its port while it logs.
const chattyPluginMain = `import sys, threading
def write(stream, name):
    for i in range(200):
        stream.write(f"{name} {i}\n")
        stream.flush()
both = [threading.Thread(target=write, args=(s, n)) for s, n in ((sys.stdout, "out"), (sys.stderr, "err"))]
for t in both: t.start()
for t in both: t.join()
`

func TestRunPluginStreamsStdoutAndStderrWrittenAtOnce(t *testing.T) {
	dir := pluginDirWith(t, chattyPluginMain, true)
	stdout, stderr, code, err := runPlugin(t, request(dir, dir, map[string]any{}))
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	for name, got := range map[string]string{"out": stdout, "err": stderr} {
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 200 {
			t.Fatalf("%s: %d lines, want 200", name, len(lines))
		}
		for i, line := range lines {
			if want := fmt.Sprintf("%s %d", name, i); line != want {
				t.Fatalf("%s: line %d is %q, want %q", name, i, line, want)
			}
		}
	}
}

// overlapDetector is a RunPlugin stream whose Send takes a while and records
// whether a second Send began before the first had returned, and what was sent.
type overlapDetector struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	ctx                    context.Context
	inSend                 atomic.Bool
	overlaps               atomic.Int32
	stdout, stderr, exited atomic.Int32
}

func (d *overlapDetector) Context() context.Context { return d.ctx }

func (d *overlapDetector) Send(response *pulumirpc.RunPluginResponse) error {
	if !d.inSend.CompareAndSwap(false, true) {
		d.overlaps.Add(1)
		return nil
	}
	defer d.inSend.Store(false)
	switch response.GetOutput().(type) {
	case *pulumirpc.RunPluginResponse_Stdout:
		d.stdout.Add(1)
	case *pulumirpc.RunPluginResponse_Stderr:
		d.stderr.Add(1)
	case *pulumirpc.RunPluginResponse_Exitcode:
		d.exited.Add(1)
	}
	time.Sleep(5 * time.Millisecond)
	return nil
}

func TestRunPluginNeverSendsTwoMessagesAtOnce(t *testing.T) {
	dir := pluginDirWith(t, chattyPluginMain, true)
	stream := &overlapDetector{ctx: context.Background()}
	if err := (&pythonHost{}).RunPlugin(request(dir, dir, map[string]any{}), stream); err != nil {
		t.Fatal(err)
	}
	if n := stream.overlaps.Load(); n != 0 {
		t.Errorf("%d sends began while another was under way", n)
	}
	// The plugin ran to its end (no exit code is sent for 0) and wrote to both streams.
	if stream.exited.Load() != 0 || stream.stdout.Load() == 0 || stream.stderr.Load() == 0 {
		t.Errorf("stdout %d, stderr %d, exit code messages %d: want stdout and stderr, no exit code",
			stream.stdout.Load(), stream.stderr.Load(), stream.exited.Load())
	}
}

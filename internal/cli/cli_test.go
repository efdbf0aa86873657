package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/cli"
	"github.com/hesar/hesar/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

// run invokes the CLI as a user would, with stdin, and returns its exit
// code and output.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestEveryCommandExplainsItself(t *testing.T) {
	code, out, _ := run(t, "", "--help")
	if code != 0 || !strings.Contains(out, "Usage: hesar <command>") {
		t.Fatalf("hesar --help: %d %s", code, out)
	}
	for _, cmd := range []string{"serve", "migrate", "workspace create", "workspace list", "user create", "token create", "bench", "version"} {
		args := append(strings.Fields(cmd), "--help")
		code, _, errOut := run(t, "", args...)
		if code != 0 || !strings.Contains(errOut, "Usage: hesar "+strings.Fields(cmd)[0]) || !strings.Contains(errOut, "Flags:") {
			t.Errorf("hesar %s --help: exit %d\n%s", cmd, code, errOut)
		}
		if !strings.Contains(out, strings.Fields(cmd)[0]) {
			t.Errorf("top-level help does not list %q", cmd)
		}
	}
	if code, _, errOut := run(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "workspace"); code != 2 || !strings.Contains(errOut, "workspace create") {
		t.Errorf("bare group: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "user", "create", "--bogus"); code != 2 || !strings.Contains(errOut, "bogus") {
		t.Errorf("bad flag: %d %s", code, errOut)
	}
}

// TestFirstAdminFromTheCommandLine follows the README: workspace, admin
// with the password on stdin, token; then the token works against the API.
func TestFirstAdminFromTheCommandLine(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, _ := testutil.NewDatabase(t, kind)
			data := t.TempDir()
			common := []string{"--data", data, "--database-url", url}
			with := func(args ...string) []string { return append(args, common...) }

			code, out, errOut := run(t, "", with("workspace", "create", "--slug", "acme", "--name", "Acme")...)
			if code != 0 || !strings.Contains(out, "workspace acme created") {
				t.Fatalf("workspace create: %d %s %s", code, out, errOut)
			}
			if !strings.Contains(errOut, "generated a new master key") {
				t.Errorf("first command does not warn about the new master key: %s", errOut)
			}
			if fi, err := os.Stat(filepath.Join(data, "master.key")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("master key file: %v %v", fi, err)
			}
			if code, _, errOut := run(t, "", with("workspace", "create", "--slug", "acme", "--name", "Again")...); code != 1 || !strings.Contains(errOut, "already exists") {
				t.Errorf("duplicate slug: %d %s", code, errOut)
			}
			if code, _, errOut := run(t, "", with("workspace", "create", "--slug", "Bad Slug!", "--name", "x")...); code != 1 || !strings.Contains(errOut, "--slug") {
				t.Errorf("bad slug: %d %s", code, errOut)
			}
			if code, _, errOut := run(t, "short\n", with("user", "create", "--workspace", "acme", "--email", "a@acme.test", "--name", "A", "--role", "admin")...); code != 1 || !strings.Contains(errOut, "at least 12") {
				t.Errorf("short password accepted: %d %s", code, errOut)
			}
			code, out, errOut = run(t, "a long enough passphrase\n", with("user", "create", "--workspace", "acme", "--email", "Admin@Acme.test", "--name", "Admin", "--role", "admin")...)
			if code != 0 || !strings.Contains(out, "role admin") {
				t.Fatalf("user create: %d %s %s", code, out, errOut)
			}
			if strings.Contains(out+errOut, "a long enough passphrase") {
				t.Errorf("password echoed to output")
			}
			code, out, errOut = run(t, "", with("token", "create", "--workspace", "acme", "--user", "admin@acme.test", "--name", "laptop")...)
			token := strings.TrimSpace(out)
			if code != 0 || !strings.HasPrefix(token, "hsr_") {
				t.Fatalf("token create: %d %q %s", code, out, errOut)
			}
			a, err := app.Open(context.Background(), app.Config{DataDir: data, DatabaseURL: url}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			p, err := a.Identity.Authenticate(context.Background(), token)
			if err != nil || p.Scope.Role != "admin" {
				t.Errorf("CLI token does not authenticate as the admin: %+v %v", p, err)
			}
			code, out, _ = run(t, "", with("migrate", "--status")...)
			if code != 0 || !regexp.MustCompile(`current (\d+)\nlatest  (\d+)`).MatchString(out) {
				t.Errorf("migrate --status: %d %s", code, out)
			}
		})
	}
}

func TestWrongMasterKeyIsRefusedWithAClearMessage(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := run(t, "", "workspace", "create", "--data", data, "--slug", "one", "--name", "One"); code != 0 {
		t.Fatal(errOut)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	code, _, errOut := run(t, "", "workspace", "list", "--data", data, "--master-key-file", other)
	if code != 1 || !strings.Contains(errOut, "master key does not match") {
		t.Errorf("wrong master key: %d %s", code, errOut)
	}
}

// TestServeStartsAndShutsDownGracefully runs 'hesar serve' on a free port,
// waits for readiness, and stops it like SIGTERM would.
func TestServeStartsAndShutsDownGracefully(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn"},
			cli.Stdio{In: strings.NewReader(""), Out: io.Discard, Err: pw})
		pw.Close()
	}()
	// Should the announcement never come, stop serve so the scan below
	// ends instead of waiting forever.
	stop := time.AfterFunc(30*time.Second, cancel)
	defer stop.Stop()
	addr := ""
	sawFirstSteps := false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if m := regexp.MustCompile(`listening on http://(\S+)`).FindStringSubmatch(line); m != nil {
			addr = m[1]
		}
		// The first steps repeat serve's storage flags after each
		// command's name, so they work when pasted.
		if strings.Contains(line, "workspace create --data "+strconv.Quote(data)+" --slug") {
			sawFirstSteps = true
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if addr == "" || !sawFirstSteps {
		t.Fatalf("serve did not announce its address and first steps")
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d after shutdown", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

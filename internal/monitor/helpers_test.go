package monitor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/geodb"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

// Addresses of the test world (internal/testutil/geodb).
const (
	tehranIP  = "198.51.100.7"
	tehranIP2 = "198.51.100.8"
	karajIP   = "192.0.2.10"
	berlinIP  = "203.0.113.9"
	firefox   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chrome    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)

var (
	worldOnce sync.Once
	world     *geoip.DB
)

func places(t testing.TB) *geoip.DB {
	worldOnce.Do(func() {
		path := filepath.Join(os.TempDir(), "hesar-monitor-world-"+time.Now().Format("150405.000000")+".mmdb")
		if err := geodb.Write(path, geodb.World); err != nil {
			t.Fatal(err)
		}
		var err error
		if world, err = geoip.Open(path); err != nil {
			t.Fatal(err)
		}
		os.Remove(path) // the reader has it mapped
	})
	return world
}

// accounts answers the monitor from identity, as the wiring will. Users
// read English mail unless locales names another language for them.
type accounts struct {
	a       *app.App
	ws      string
	locales map[int64]string
}

func (x accounts) Contact(ctx context.Context, ws int64, kind access.ActorKind, id int64) (monitor.Contact, error) {
	if kind != access.ActorUser {
		return monitor.Contact{}, errors.New("test accounts know users only")
	}
	u, err := x.a.Identity.GetUser(ctx, access.System(ws), id)
	if err != nil {
		return monitor.Contact{}, err
	}
	locale := "en"
	if l, ok := x.locales[id]; ok {
		locale = l
	}
	return monitor.Contact{Email: u.Email, Name: u.Name, Locale: locale, Workspace: x.ws}, nil
}

func (x accounts) Admins(ctx context.Context, ws int64) ([]int64, error) {
	users, err := x.a.Identity.ListUsers(ctx, access.System(ws), 0, 500)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, u := range users {
		if u.Role == access.RoleAdmin && !u.Disabled {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// responder records what the monitor asked for.
type responder struct {
	mu    sync.Mutex
	calls []string
}

func (r *responder) record(what string, kind access.ActorKind, id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, what+" "+string(kind)+":"+itoa(id))
	return nil
}
func (r *responder) RevokeSessions(_ context.Context, _ int64, k access.ActorKind, id int64) error {
	return r.record("revoke", k, id)
}
func (r *responder) Lock(_ context.Context, _ int64, k access.ActorKind, id int64) error {
	return r.record("lock", k, id)
}
func (r *responder) RequireMFA(_ context.Context, _ int64, k access.ActorKind, id int64) error {
	return r.record("mfa", k, id)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one test's workspace (the fixture's users) and monitor.
type env struct {
	t     *testing.T
	a     *app.App
	f     *testutil.Fixture
	m     *monitor.Monitor
	clock *clock
	resp  *responder
	ws    int64
	// locales sets a user's mail language (default English).
	locales map[int64]string
}

// base is a fixed Sunday 10:00 in Tehran, so business hours are known.
var base = time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)

func newEnv(t *testing.T, a *app.App, opts ...func(*monitor.Options)) *env {
	t.Helper()
	f := testutil.NewFixture(t, a)
	e := &env{t: t, a: a, f: f, clock: &clock{t: base}, resp: &responder{}, ws: f.WS.ID, locales: map[int64]string{}}
	o := monitor.Options{DB: a.DB, Keys: a.Keys, Mail: a.Mail, Places: places(t), Accounts: accounts{a: a, ws: f.WS.Name, locales: e.locales},
		Responder: e.resp, DescribeDevice: identity.DescribeDevice, Now: e.clock.Now, SessionsURL: "https://hesar.test/account/sessions"}
	for _, fn := range opts {
		fn(&o)
	}
	m, err := monitor.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// observe feeds observations and processes them.
func (e *env) observe(obs ...monitor.Observation) {
	e.t.Helper()
	for _, o := range obs {
		if o.WorkspaceID == 0 {
			o.WorkspaceID = e.ws
		}
		e.m.Observe(ctx, o)
	}
	if err := e.m.Flush(ctx); err != nil {
		e.t.Fatalf("flush: %v", err)
	}
}

func (e *env) alerts(rule string) []monitor.Alert {
	e.t.Helper()
	as, err := e.m.Alerts(ctx, e.ws, monitor.Filter{Rule: rule})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

func (e *env) settings(change func(*monitor.Settings)) {
	e.t.Helper()
	s, err := e.m.Settings(ctx, e.ws)
	if err != nil {
		e.t.Fatal(err)
	}
	change(&s)
	if err := e.m.SetSettings(ctx, e.ws, s); err != nil {
		e.t.Fatalf("set settings: %v", err)
	}
}

func failed(at time.Time, ip string, kind access.ActorKind, id int64) monitor.Observation {
	return monitor.Observation{Type: monitor.SignInFailed, At: at, IP: ip, UserAgent: firefox, TargetKind: string(kind), TargetID: id,
		Details: map[string]string{"reason": "bad_password"}}
}

func signin(at time.Time, id int64, ip, ua string, session int64) monitor.Observation {
	return monitor.Observation{Type: monitor.SignIn, At: at, ActorKind: access.ActorUser, ActorID: id, IP: ip, UserAgent: ua, SessionID: session}
}

func view(at time.Time, id, ticket int64) monitor.Observation {
	return monitor.Observation{Type: monitor.AccessView, At: at, ActorKind: access.ActorUser, ActorID: id, TargetKind: "ticket", TargetID: ticket, IP: tehranIP}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q does not say %q", s, p)
		}
	}
}

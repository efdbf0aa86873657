package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	pw "github.com/hesar/hesar/internal/password"
)

func openDBOnly(ctx context.Context, cfg app.Config) (*db.DB, error) {
	return db.Open(ctx, db.Options{URL: cfg.DatabaseURL, Path: cfg.SQLitePath()})
}

// describe turns validation errors into one readable line per field.
func describe(err error) error {
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		var b strings.Builder
		b.WriteString("invalid input:")
		for k, v := range inv.Fields {
			fmt.Fprintf(&b, "\n  --%s %s", strings.ReplaceAll(k, "_", "-"), v)
		}
		return errors.New(b.String())
	}
	return err
}

func workspaceCreate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "workspace create", "workspace create --slug SLUG --name NAME", `Create a workspace: one company, with its own encryption keys and a
"General" department. Prints the workspace id.`)
	var st storageFlags
	st.register(fs)
	slug := fs.String("slug", "", "short name used in commands and URLs: lower-case letters, digits, dashes (required)")
	name := fs.String("name", "", "display name (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := a.Workspaces.Create(ctx, *slug, *name)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(io.Out, "workspace %s created (id %d, General department id %d)\n", w.Slug, w.ID, w.DefaultDepartmentID)
	fmt.Fprintf(io.Err, "next: %s user create --workspace %s --email you@example.com --name \"Your Name\" --role admin\n", selfName(), w.Slug)
	return nil
}

func workspaceList(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "workspace list", "workspace list", "List every workspace: id, slug, name.")
	var st storageFlags
	st.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	ws, err := a.Workspaces.List(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		fmt.Fprintf(io.Out, "%d\t%s\t%s\n", w.ID, w.Slug, w.Name)
	}
	return nil
}

// idList is a repeatable flag of ids ("--department 1 --department 2" or "1,2").
type idList []int64

func (l *idList) String() string { return fmt.Sprint(*l) }

func (l *idList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%q is not a department id", part)
		}
		*l = append(*l, id)
	}
	return nil
}

func userCreate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "user create", "user create --workspace SLUG --email EMAIL --name NAME --role ROLE [--department ID]... [--no-password]",
		`Add a staff user. The password is read from standard input (one line),
never from the command line where other users and shell history can see it:

  printf '%s\n' "$PASSWORD" | hesar user create --workspace acme --email a@b.c --name A --role admin

Roles: admin (everything), supervisor (their departments' tickets, no
customer directory), agent (their departments' tickets and customers).`)
	var st storageFlags
	st.register(fs)
	wsSlug := fs.String("workspace", "", "workspace slug (required)")
	email := fs.String("email", "", "email address, used to sign in (required)")
	name := fs.String("name", "", "full name (required)")
	role := fs.String("role", "agent", "admin, supervisor or agent")
	noPassword := fs.Bool("no-password", false, "create the user without a password: they get an emailed link to set one (needs SMTP), or use API tokens only")
	var depts idList
	fs.Var(&depts, "department", "department id the user belongs to (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	password := ""
	if !*noPassword {
		fmt.Fprintf(io.Err, "password for %s (at least %d characters), then Enter: ", *email, pw.MinLength)
		line, err := bufio.NewReader(io.In).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no password on standard input; pipe one in, or use --no-password")
		}
		fmt.Fprintln(io.Err)
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("the password line is empty; give one, or use --no-password for a user who only uses API tokens")
		}
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := a.Workspaces.BySlug(ctx, *wsSlug)
	if err != nil {
		return fmt.Errorf("no workspace with slug %q (see 'hesar workspace list')", *wsSlug)
	}
	u, err := a.Identity.CreateUser(ctx, access.System(w.ID), identity.NewUser{Email: *email, Name: *name, Role: *role,
		Password: password, Departments: depts})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(io.Out, "user %d created in %s with role %s\n", u.ID, w.Slug, u.Role)
	return nil
}

func tokenCreate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "token create", "token create --workspace SLUG (--user EMAIL | --customer EMAIL) --name NAME [--expires-days N]",
		`Create an API token and print it once. Only a keyed hash is stored: a lost
token cannot be shown again, only revoked and replaced. Use it as
"Authorization: Bearer <token>".`)
	var st storageFlags
	st.register(fs)
	wsSlug := fs.String("workspace", "", "workspace slug (required)")
	user := fs.String("user", "", "email of the staff user the token acts as")
	cust := fs.String("customer", "", "email of the customer the token acts as")
	name := fs.String("name", "", "what the token is for, e.g. 'crm-integration' (required)")
	days := fs.Int("expires-days", 0, "days until the token expires (0: never)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*user == "") == (*cust == "") {
		fmt.Fprintln(io.Err, "give exactly one of --user and --customer")
		fs.Usage()
		return errUsage
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := a.Workspaces.BySlug(ctx, *wsSlug)
	if err != nil {
		return fmt.Errorf("no workspace with slug %q (see 'hesar workspace list')", *wsSlug)
	}
	sys := access.System(w.ID)
	in := identity.NewToken{Name: *name, TTL: time.Duration(*days) * 24 * time.Hour}
	if *user != "" {
		u, err := a.Identity.ByEmail(ctx, w.ID, *user)
		if err != nil {
			return fmt.Errorf("no user %s in workspace %s", *user, w.Slug)
		}
		in.UserID = u.ID
	} else {
		c, err := a.Customers.FindByEmail(ctx, sys, *cust)
		if err != nil {
			return fmt.Errorf("no customer %s in workspace %s", *cust, w.Slug)
		}
		in.CustomerID = c.ID
	}
	_, secret, err := a.Identity.CreateToken(ctx, sys, in)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintln(io.Out, secret)
	fmt.Fprintln(io.Err, "store this token now: it is not shown again")
	return nil
}

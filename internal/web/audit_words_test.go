package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/ticket"
)

// actionArg is where the action is among the arguments of each function
// that writes an audit record from an action name.
var actionArg = map[string]int{
	"recordRead": 2, "RecordRead": 2, "About": 2, "operatorEntry": 1, "recordBackupOperation": 4, "recordKeyOperation": 3,
	"ticket.record": 3, // the ticket service's own helper: (ctx, tx, ws, action, …)
}

var actionName = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)*$`)

// recordedActions finds every audit action the program can record: the
// constants named action…/Action…/Event… (identity's events become audit
// actions), the literal action of every call that records one, Action:
// fields written with a literal, and the actions built from a prefix.
func recordedActions(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	add := func(action, where string) {
		if actionName.MatchString(action) && !strings.HasSuffix(action, ".") {
			found[action] = where
		}
	}
	fset := token.NewFileSet()
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			pkg := f.Name.Name
			lit := func(e ast.Expr) (string, bool) {
				b, ok := e.(*ast.BasicLit)
				if !ok || b.Kind != token.STRING {
					return "", false
				}
				s, err := strconv.Unquote(b.Value)
				return s, err == nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, name := range n.Names {
						low := strings.ToLower(name.Name)
						if i < len(n.Values) && (strings.HasPrefix(low, "action") || (pkg == "identity" && strings.HasPrefix(name.Name, "Event"))) {
							if s, ok := lit(n.Values[i]); ok {
								add(s, fset.Position(name.Pos()).String())
							}
						}
					}
				case *ast.CallExpr:
					var fn string
					switch f := n.Fun.(type) {
					case *ast.Ident:
						fn = f.Name
					case *ast.SelectorExpr:
						fn = f.Sel.Name
					}
					i, ok := actionArg[fn]
					if !ok && fn == "record" {
						i, ok = actionArg[pkg+".record"]
					}
					if ok && i < len(n.Args) {
						if s, isLit := lit(n.Args[i]); isLit {
							add(s, fset.Position(n.Pos()).String())
						}
					}
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Action" {
						if s, isLit := lit(n.Value); isLit {
							add(s, fset.Position(n.Pos()).String())
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Actions made from a prefix and a value.
	for _, k := range []ticket.MessageKind{ticket.KindReply, ticket.KindNote} {
		add("ticket."+string(k), "internal/ticket/message.go")
	}
	for _, st := range []string{monitor.StateOpen, monitor.StateAcknowledged, monitor.StateResolved} {
		add(audit.ActionAlertPrefix+st, "alert states")
	}
	out := make([]string, 0, len(found))
	for a := range found {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func TestEveryRecordedAuditActionHasWordsInBothLanguages(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	actions := recordedActions(t)
	if len(actions) < 40 { // the scan itself must keep finding them
		t.Fatalf("found only %d actions: %v", len(actions), actions)
	}
	for _, a := range actions {
		for _, lang := range Languages {
			if _, ok := cats[lang]["audit.action."+a]; !ok {
				t.Errorf("%s: no audit.action.%s", lang, a)
			}
		}
	}
}

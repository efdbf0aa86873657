package api

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/ticket"
)

// These tests keep openapi.json honest: every route in Routes() is
// documented with the permissions it really checks, nothing documented is
// missing from Routes(), and every $ref points at a component.

// oasDocument parses the embedded OpenAPI document.
func oasDocument(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// oasMethods are the operation keys of an OpenAPI path item.
var oasMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// oasPath turns a ServeMux pattern's path into an OpenAPI path template:
// "{name...}" becomes "{name}" and a trailing "{$}" goes.
func oasPath(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// oasOperation returns the operation for method and path, or nil.
func oasOperation(doc map[string]any, path, method string) map[string]any {
	paths, _ := doc["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// oasResolve follows a local JSON pointer ("#/components/...") in doc.
func oasResolve(doc map[string]any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var node any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if p, err := url.PathUnescape(part); err == nil {
			part = p
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[part]; !ok {
			return nil, false
		}
	}
	return node, true
}

// oasStrings reads a JSON array of strings; ok is false for anything else.
func oasStrings(v any) (out []string, ok bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func TestOpenAPIDocumentIsValidJSON31(t *testing.T) {
	doc := oasDocument(t)
	version, _ := doc["openapi"].(string)
	if !strings.HasPrefix(version, "3.1") {
		t.Errorf(`"openapi" is %q, want 3.1.x`, version)
	}
	info, ok := doc["info"].(map[string]any)
	if !ok {
		t.Fatal(`no "info" object`)
	}
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is missing", k)
		}
	}
	for _, k := range []string{"paths", "components"} {
		if _, ok := doc[k].(map[string]any); !ok {
			t.Errorf("no %q object", k)
		}
	}
	schemes, _ := oasResolve(doc, "#/components/securitySchemes")
	if m, _ := schemes.(map[string]any); len(m) == 0 {
		t.Error("no security scheme in components.securitySchemes")
	}
	if sec, _ := doc["security"].([]any); len(sec) == 0 {
		t.Error("no global security requirement")
	}
}

func TestEveryRouteIsDocumented(t *testing.T) {
	doc := oasDocument(t)
	param := regexp.MustCompile(`\{([^}/]+)\}`)
	var problems []string
	for _, rt := range Routes() {
		path, method := oasPath(rt.Pattern), strings.ToLower(rt.Method)
		name := rt.Method + " " + rt.Pattern
		op := oasOperation(doc, path, method)
		if op == nil {
			problems = append(problems, name+": not in the document")
			continue
		}

		want := make([]string, len(rt.Perms))
		for i, p := range rt.Perms {
			want[i] = string(p)
		}
		got, ok := oasStrings(op["x-permissions"])
		sort.Strings(want)
		sort.Strings(got)
		switch {
		case !ok:
			problems = append(problems, name+": x-permissions missing or not a list of strings")
		case !slices.Equal(slices.Compact(got), slices.Compact(want)):
			problems = append(problems, name+": x-permissions is ["+strings.Join(got, ", ")+"], route has ["+strings.Join(want, ", ")+"]")
		}

		// Public routes opt out of the global bearer requirement; no
		// other route may.
		sec, hasSec := op["security"].([]any)
		switch {
		case rt.public() && (!hasSec || len(sec) != 0):
			problems = append(problems, name+": public route without `security: []`")
		case !rt.public() && hasSec && len(sec) == 0:
			problems = append(problems, name+": route needs a token but is documented with `security: []`")
		}

		// Every path parameter is declared, on the operation or the path.
		declared := map[string]bool{}
		item, _ := doc["paths"].(map[string]any)[path].(map[string]any)
		params, _ := item["parameters"].([]any)
		opParams, _ := op["parameters"].([]any)
		for _, p := range append(params, opParams...) {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				r, _ := oasResolve(doc, ref)
				pm, _ = r.(map[string]any)
			}
			if pm["in"] == "path" {
				n, _ := pm["name"].(string)
				declared[n] = true
			}
		}
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				problems = append(problems, name+": path parameter {"+m[1]+"} is not declared")
			}
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func TestEveryDocumentedOperationExists(t *testing.T) {
	doc := oasDocument(t)
	routes := map[string]bool{}
	for _, rt := range Routes() {
		routes[strings.ToLower(rt.Method)+" "+oasPath(rt.Pattern)] = true
	}
	paths, _ := doc["paths"].(map[string]any)
	var stale []string
	for path, v := range paths {
		item, _ := v.(map[string]any)
		for _, m := range oasMethods {
			if _, ok := item[m]; ok && !routes[m+" "+path] {
				stale = append(stale, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(stale)
	for _, s := range stale {
		t.Errorf("%s is documented but is not in Routes()", s)
	}
}

func TestDocumentedRefsResolve(t *testing.T) {
	doc := oasDocument(t)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs = append(refs, ref)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if len(refs) == 0 {
		t.Fatal("the document has no $ref at all; is it the placeholder?")
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("$ref %q does not point into #/components", ref)
			continue
		}
		if _, ok := oasResolve(doc, ref); !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

// The enums clients generate code from must match what the services accept.
func TestDocumentedEnumsMatchDomain(t *testing.T) {
	doc := oasDocument(t)
	names := func(vals ...string) []string { return vals }
	var statuses, priorities, roles, perms []string
	for _, s := range ticket.Statuses {
		statuses = append(statuses, string(s))
	}
	for _, p := range ticket.Priorities {
		priorities = append(priorities, string(p))
	}
	for _, r := range access.Roles {
		roles = append(roles, string(r))
	}
	for _, p := range access.AllPermissions {
		perms = append(perms, string(p))
	}
	for schema, want := range map[string][]string{
		"Status": statuses, "Priority": priorities, "Role": roles, "Permission": perms,
		"MessageKind": names(string(ticket.KindReply), string(ticket.KindNote)),
	} {
		v, _ := oasResolve(doc, "#/components/schemas/"+schema)
		m, _ := v.(map[string]any)
		got, ok := oasStrings(m["enum"])
		if !ok {
			t.Errorf("schema %s has no string enum", schema)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("schema %s enum is %v, the domain has %v", schema, got, want)
		}
	}
}

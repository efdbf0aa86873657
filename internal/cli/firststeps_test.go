package cli

import (
	"strings"
	"testing"
)

// The first steps serve prints must work when pasted: storage flags
// belong to each subcommand, after its name.
func TestFirstStepsPutStorageFlagsAfterTheCommand(t *testing.T) {
	var b strings.Builder
	printFirstSteps(&b, "http://127.0.0.1:8080", ` --data "/srv/hesar"`)
	out := b.String()
	for _, want := range []string{
		` workspace create --data "/srv/hesar" --slug acme`,
		` user create --data "/srv/hesar" --workspace acme`,
		` token create --data "/srv/hesar" --workspace acme`,
		`http://127.0.0.1:8080/console/signin`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first steps lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `--data "/srv/hesar" workspace`) {
		t.Errorf("a storage flag comes before the command:\n%s", out)
	}
}

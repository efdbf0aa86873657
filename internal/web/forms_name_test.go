package web

import (
	"testing"

	"github.com/hesar/hesar/internal/attachment"
)

// Browsers send a quotation mark, CR and LF in a file's name as %22, %0D
// and %0A; the name kept is the file's own, sanitized.
func TestFormFileNameUndoesTheBrowsersEncoding(t *testing.T) {
	for _, c := range []struct{ sent, kept string }{
		{`report %22final%22.pdf`, `report _final_.pdf`},
		{`a%0D%0Ab.txt`, `a  b.txt`}, // control characters become spaces
		{`100% sure.txt`, `100% sure.txt`},
		{`رسید %22خرید%22.png`, `رسید _خرید_.png`},
	} {
		if got := attachment.SanitizeName(formFileName(c.sent)); got != c.kept {
			t.Errorf("%q kept as %q, want %q", c.sent, got, c.kept)
		}
	}
}

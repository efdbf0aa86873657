package ticket

import (
	"context"

	"github.com/hesar/hesar/internal/dlp"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/richtext"
)

// MaxHTML bounds the markup of a formatted message, in characters.
const MaxHTML = 500_000

// formatted is what a message that came as HTML keeps: the sanitized
// markup, masked like the text. Empty when the message is plain text, or
// when the markup could not be masked as safely as its text.
type formatted struct {
	html    string
	blocked int // remote images removed
}

// sanitizeHTML cleans a message's markup and, when no plain text came
// with it, gives the text (which search, masking and plain views use).
func sanitizeHTML(raw, body string) (clean richtext.Clean, text string) {
	clean = richtext.Sanitize(raw)
	if body == "" {
		body = clean.Text
	}
	return clean, body
}

// protectHTML masks (or redacts) the sensitive values in sanitized markup
// under the workspace's policy. It fails closed: a value the markup hides
// from the scanner — a card number split by tags, say — is found in the
// markup's text but not in the markup, and then the markup is dropped for
// good and only the masked text is kept.
func protectHTML(policy string, clean richtext.Clean) formatted {
	if clean.HTML == "" {
		return formatted{}
	}
	_, inText := dlp.Mask(clean.Text)
	_, inMarkup := dlp.Mask(clean.HTML)
	if len(inMarkup) < len(inText) {
		return formatted{blocked: clean.BlockedImages}
	}
	return formatted{html: protect(policy, clean.HTML).shown, blocked: clean.BlockedImages}
}

func bodyHTMLField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "messages", Column: "body_html", Row: id}
}

// sealHTML encrypts a message's markup, or returns nil when there is none.
func (s *Service) sealHTML(ctx context.Context, ws, id int64, f formatted) ([]byte, error) {
	if f.html == "" {
		return nil, nil
	}
	return s.keys.Seal(ctx, bodyHTMLField(ws, id), f.html)
}

package ticket

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/textnorm"
)

// maxTokensPerText bounds postings written for one message.
const maxTokensPerText = 4000

// maxQueryWords bounds how many words one search may intersect.
const maxQueryWords = 8

// noteMark prefixes words of internal notes before hashing, so a note's
// words never match a customer's search (which would leak one bit of the
// note), while staff search both forms.
const noteMark = "note\x00"

// tokens turns text into the keyed hashes stored in search_postings.
func (s *Service) tokens(ctx context.Context, ws int64, text string, note bool) ([]int64, error) {
	words := textnorm.UniqueWords(text)
	if len(words) > maxTokensPerText {
		words = words[:maxTokensPerText]
	}
	if note {
		for i, w := range words {
			words[i] = noteMark + w
		}
	}
	toks, err := s.keys.SearchTokens(ctx, ws, words)
	if err != nil {
		return nil, err
	}
	slices.Sort(toks)
	return slices.Compact(toks), nil
}

// insertPostings records that ticketID contains each token, in statements
// of at most 300 rows (SQLite caps bound parameters).
func insertPostings(ctx context.Context, tx *db.Tx, ws, ticketID int64, tokens []int64) error {
	const chunk = 300
	for len(tokens) > 0 {
		n := min(len(tokens), chunk)
		var b strings.Builder
		b.WriteString(`INSERT INTO search_postings (workspace_id, token, ticket_id) VALUES `)
		args := make([]any, 0, n+2)
		args = append(args, ws, ticketID)
		for i, tok := range tokens[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, $%d, $2)", i+3)
			args = append(args, tok)
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert search postings: %w", err)
		}
		tokens = tokens[n:]
	}
	return nil
}

// Search finds tickets whose subject or messages contain every word of
// query, newest activity first, within the caller's scope: a ticket the
// caller cannot open is never returned, nor counted. Internal notes are
// searchable by staff only.
func (s *Service) Search(ctx context.Context, scope access.Scope, query string, f Filter) (Page, error) {
	if !canRead(scope) || !canReadContent(scope) {
		return Page{}, errs.ErrForbidden // searching words is reading them
	}
	var v errs.Validator
	v.Text("q", query, true, 500)
	words := textnorm.UniqueWords(query)
	if len(words) == 0 {
		v.Add("q", "give at least one word of two or more letters")
	}
	if len(words) > maxQueryWords {
		v.Add("q", "at most %d words", maxQueryWords)
	}
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	lookup := words
	if !scope.IsCustomer() {
		for _, w := range words {
			lookup = append(lookup, noteMark+w)
		}
	}
	toks, err := s.keys.SearchTokens(ctx, scope.WorkspaceID, lookup)
	if err != nil {
		return Page{}, err
	}
	// One group of alternatives per word: the public form, and for staff
	// the note form too.
	f.tokens = make([][]int64, len(words))
	for i := range words {
		f.tokens[i] = []int64{toks[i]}
		if !scope.IsCustomer() {
			f.tokens[i] = append(f.tokens[i], toks[len(words)+i])
		}
	}
	return s.List(ctx, scope, f)
}

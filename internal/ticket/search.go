package ticket

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
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
// query, within the caller's scope: a ticket the caller cannot open is
// never returned, nor counted. Internal notes are searchable by staff only.
//
// Results come newest ticket first (by ticket id, which follows creation;
// OrderCreatedAsc reverses it, and other orders are refused), not by last
// activity as List does: that order is what the postings are kept in, so
// a page costs work in proportion to the page, not to how common the words
// are (see search_plan.go).
//
// A page may hold fewer than f.Limit tickets and still carry a NextCursor:
// the search stopped after examining maxExamined of the caller's tickets
// and more results may exist further on. NextCursor is empty only when
// everything has been seen.
func (s *Service) Search(ctx context.Context, scope access.Scope, query string, f Filter) (Page, error) {
	return s.searchUpTo(ctx, scope, query, f, maxExamined)
}

// searchUpTo is Search examining at most examine in-scope tickets that
// hold the driver word.
func (s *Service) searchUpTo(ctx context.Context, scope access.Scope, query string, f Filter, examine int) (Page, error) {
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
	if err := f.validate(scope); err != nil {
		return Page{}, err
	}
	desc, err := f.searchDescending()
	if err != nil {
		return Page{}, err
	}
	sq := searchQuery{scope: scope, f: f, desc: desc, examine: examine}
	if f.Cursor != "" {
		after, err := decodeSearchCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		sq.after = after
	}
	if sq.words, err = s.wordTokens(ctx, scope, words); err != nil {
		return Page{}, err
	}
	return s.search(ctx, &sq)
}

// wordTokens returns, per word, the tokens that match it: the public form,
// and for staff the note form too.
func (s *Service) wordTokens(ctx context.Context, scope access.Scope, words []string) ([][]int64, error) {
	lookup := words
	if !scope.IsCustomer() {
		for _, w := range words {
			lookup = append(lookup, noteMark+w)
		}
	}
	toks, err := s.keys.SearchTokens(ctx, scope.WorkspaceID, lookup)
	if err != nil {
		return nil, err
	}
	out := make([][]int64, len(words))
	for i := range words {
		out[i] = []int64{toks[i]}
		if !scope.IsCustomer() {
			out[i] = append(out[i], toks[len(words)+i])
		}
	}
	return out, nil
}

// Search cursors are a ticket id with a prefix of their own, so a list
// cursor given to search (or the reverse) is refused, not misread.
const searchCursorPrefix = "s"

func encodeSearchCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(searchCursorPrefix + strconv.FormatInt(id, 10)))
}

func decodeSearchCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), searchCursorPrefix); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, errs.Field("cursor", "is not a cursor this server gave out")
}

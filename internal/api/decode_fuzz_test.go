package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decoder: it must
// never panic, and every failure must be a client error with a code.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"subject":"s","body":"b","customer_id":1}`,
		`{"subject":"s","customer":{"email":"a@b.c"},"tags":["x"]}`,
		`{"subject":5}`, `[]`, `null`, `{"x":1}`, "{\"subject\":\"\xff\"}", `{"a":`, `{}{}`, `"\ud800"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&createTicketRequest{}, &updateTicketRequest{}, &createUserRequest{}} {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decodeJSON(httptest.NewRecorder(), r, dst)
			if err == nil {
				continue
			}
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 || e.Code == "" || e.Message == "" {
				t.Fatalf("decode %q: %#v is not a client error", body, err)
			}
			if e.Status == http.StatusInternalServerError {
				t.Fatalf("500 for %q", body)
			}
		}
	})
}

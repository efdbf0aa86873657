package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxJSONBody caps a JSON request body. A ticket body is at most 100,000
// characters, which fits with room to spare.
const maxJSONBody = 1 << 20

// decodeJSON reads the request body into dst, strictly: JSON content type,
// bounded size, valid UTF-8, one object, no unknown fields, right types.
// Every failure is a 4xx that says exactly what was wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return newError(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body must be at most %d bytes", maxJSONBody))
		}
		return newError(http.StatusBadRequest, "unreadable_body", "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return newError(http.StatusBadRequest, "malformed_json", "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return newError(http.StatusBadRequest, "invalid_utf8", "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "malformed_json", "the request body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return newError(http.StatusBadRequest, "malformed_json", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, "malformed_json", "the body ends in the middle of a JSON value")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return newError(http.StatusBadRequest, "invalid_type", "the body must be a JSON object")
		}
		return fieldError(http.StatusBadRequest, "invalid_type", field, "must be "+jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fieldError(http.StatusBadRequest, "unknown_field", name, "is not a field of this request")
	}
	var fe *fieldErr
	if errors.As(err, &fe) {
		return fieldError(http.StatusBadRequest, "invalid_type", fe.field, fe.msg)
	}
	return newError(http.StatusBadRequest, "malformed_json", "the body could not be decoded: "+err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "of another type"
}

// fieldErr is returned by custom unmarshalers for a specific field.
type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.field + " " + e.msg }

// optional is a PATCH field: absent (Set false), null (Null true) or a value.
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ptr returns the value as a pointer for the service (nil when absent), and
// an error when null is not allowed.
func (o optional[T]) ptr(field string) (*T, error) {
	if !o.Set {
		return nil, nil
	}
	if o.Null {
		return nil, fieldError(http.StatusBadRequest, "invalid_type", field, "must not be null")
	}
	v := o.Value
	return &v, nil
}

// decodeEmpty accepts an empty body or an empty JSON object, for actions
// that take no input; anything else is refused like any bad body.
func decodeEmpty(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var none struct{}
	return decodeJSON(w, r, &none)
}

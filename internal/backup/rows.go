package backup

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// appendRow appends one row as a JSON object and a newline. Keys are in
// column order and values in one canonical form (integers as numbers,
// text as JSON strings without HTML escaping, bytes as standard base64,
// NULL as null), so exporting the same rows from either database gives the
// same bytes: that is what lets verify compare checksums across a restore.
func appendRow(buf []byte, cols []Column, vals []any) ([]byte, error) {
	buf = append(buf, '{')
	for i, c := range cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, c.Name)
		buf = append(buf, ':')
		v := vals[i]
		if v == nil {
			buf = append(buf, "null"...)
			continue
		}
		switch c.Type {
		case "int":
			n, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("column %s: integer column holds a %T", c.Name, v)
			}
			buf = strconv.AppendInt(buf, n, 10)
		case "text":
			s, ok := asString(v)
			if !ok {
				return nil, fmt.Errorf("column %s: text column holds a %T", c.Name, v)
			}
			// JSON would silently replace invalid UTF-8: refuse instead
			// of writing a backup that restores different text.
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("column %s: text is not valid UTF-8", c.Name)
			}
			buf = appendString(buf, s)
		case "blob":
			b, ok := asBytes(v)
			if !ok {
				return nil, fmt.Errorf("column %s: bytes column holds a %T", c.Name, v)
			}
			buf = append(buf, '"')
			buf = base64.StdEncoding.AppendEncode(buf, b)
			buf = append(buf, '"')
		default:
			return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
	}
	return append(buf, '}', '\n'), nil
}

func asString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

func asBytes(v any) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case string:
		return []byte(b), true
	}
	return nil, false
}

// appendString appends s as a JSON string, leaving <, > and & alone.
func appendString(buf []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// decodeRow parses one line back into values for an INSERT, in column
// order, checking every column is present and no other is.
func decodeRow(line []byte, cols []Column) ([]any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return nil, fmt.Errorf("bad row: %w", err)
	}
	if len(obj) != len(cols) {
		return nil, fmt.Errorf("row has %d columns, the table %d", len(obj), len(cols))
	}
	out := make([]any, len(cols))
	for i, c := range cols {
		raw, ok := obj[c.Name]
		if !ok {
			return nil, fmt.Errorf("row lacks column %s", c.Name)
		}
		if string(raw) == "null" {
			continue
		}
		switch c.Type {
		case "int":
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			out[i] = n
		case "text":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			out[i] = s
		case "blob":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			out[i] = b
		default:
			return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
	}
	return out, nil
}

package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, newError(http.StatusNotFound, "not_found", "no such resource, or you may not see it")
	}
	return v, nil
}

// query reads query parameters, refusing names the endpoint does not know
// so a typo ("stauts=open") is an error, not a silently wider list.
type query struct {
	vals url.Values
	err  *Error
}

func readQuery(r *http.Request, allowed ...string) (*query, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_query", "the query string is malformed")
	}
	for name := range vals {
		known := false
		for _, a := range allowed {
			if name == a {
				known = true
				break
			}
		}
		if !known {
			return nil, fieldError(http.StatusBadRequest, "unknown_parameter", name, "is not a parameter of this endpoint")
		}
	}
	return &query{vals: vals}, nil
}

func (q *query) fail(name, msg string) {
	if q.err == nil {
		q.err = fieldError(http.StatusBadRequest, "invalid_parameter", name, msg)
	}
}

func (q *query) str(name string) string { return q.vals.Get(name) }

// maxListValues bounds a list parameter: every list Hesar takes is a set
// of a few known values.
const maxListValues = 16

// list reads a comma-separated or repeated parameter.
func (q *query) list(name string) []string {
	var out []string
	for _, v := range q.vals[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	if len(out) > maxListValues {
		q.fail(name, "takes at most 16 values")
		return nil
	}
	return out
}

func (q *query) int(name string) int64 {
	v := q.vals.Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		q.fail(name, "must be a positive integer")
		return 0
	}
	return n
}

func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	return nil
}

// childPage reads what every list of a ticket's children takes: the
// ticket number in the path, then "after" (the last id seen) and "limit"
// (default and maximum max).
func childPage(r *http.Request, max int64) (number, after, limit int64, err error) {
	if number, err = pathID(r, "id"); err != nil {
		return 0, 0, 0, err
	}
	q, err := readQuery(r, "after", "limit")
	if err != nil {
		return 0, 0, 0, err
	}
	after, limit = q.int("after"), q.int("limit")
	if err := q.done(); err != nil {
		return 0, 0, 0, err
	}
	if limit == 0 || limit > max {
		limit = max
	}
	return number, after, limit, nil
}

package api

import (
	_ "embed"
	"net/http"

	"github.com/hesar/hesar/internal/identity"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the embedded OpenAPI 3.1 description of the API.
func OpenAPIDocument() []byte { return openAPIDocument }

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPIDocument)
	return err
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			// The reason goes to the log, not to an unauthenticated caller.
			s.log.Warn("not ready", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

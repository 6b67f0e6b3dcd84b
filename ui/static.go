package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// The dashboard: plain JavaScript modules and CSS, served as they are in
// the source tree (no build step). web/ holds login.html, index.html (every
// page's shell), app.js (the router) and pages/NAME.js (one page each).
//
//go:embed web
var webFS embed.FS

// asset is one embedded file with its strong ETag.
type asset struct {
	body  []byte
	etag  string
	ctype string
}

type assets struct{ files map[string]asset }

func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

// loadAssets reads web/ once and hashes every file.
func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct := contentType(path.Ext(p))
		if ct == "" {
			return fmt.Errorf("ui: embedded asset %s: no content type for its extension", p)
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.files[strings.TrimPrefix(p, "web/")] = asset{body: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ctype: ct}
		return nil
	})
	return a, err
}

// ServeHTTP serves a file under web/ (the path has lost its /static/).
// Names are not versioned, so browsers revalidate every time: the ETag
// makes that a 304 without a body.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.URL.Path]
	if !ok || strings.HasSuffix(r.URL.Path, ".html") {
		http.NotFound(w, r)
		return
	}
	serveAsset(w, r, f)
}

// page serves one of the HTML files.
func (a *assets) page(name string) http.Handler {
	f, ok := a.files[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveAsset(w, r, f)
	})
}

func serveAsset(w http.ResponseWriter, r *http.Request, f asset) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

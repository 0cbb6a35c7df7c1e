// Package static holds the login pages' stylesheet, script and icon, embedded
// in the binary and served under /static/ with a content hash in their names,
// so that browsers may keep them for a year and a new release is fetched at
// once.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed files
var files embed.FS

// asset is one embedded file.
type asset struct {
	body        []byte
	hash        string // the first 12 hex digits of its SHA-256
	contentType string
	hashed      string // its name with the hash: "login.3f2a9c1b0d4e.css"
}

var (
	byName   = map[string]*asset{} // "login.css"
	byHashed = map[string]*asset{} // "login.3f2a9c1b0d4e.css"
)

// contentTypes are the types of the files there are; a file of another kind is
// not embedded (a test checks that every file has one).
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func init() {
	entries, err := fs.ReadDir(files, "files")
	if err != nil {
		// The directory is embedded by the go:embed line above; reading it cannot fail.
		panic("static: " + err.Error())
	}
	for _, e := range entries {
		name := e.Name()
		ct, ok := contentTypes[path.Ext(name)]
		if !ok || e.IsDir() {
			continue
		}
		body, err := files.ReadFile("files/" + name)
		if err != nil {
			panic("static: " + err.Error()) // an embedded file that was just listed
		}
		sum := sha256.Sum256(body)
		a := &asset{body: body, hash: hex.EncodeToString(sum[:6]), contentType: ct}
		ext := path.Ext(name)
		a.hashed = strings.TrimSuffix(name, ext) + "." + a.hash + ext
		byName[name], byHashed[a.hashed] = a, a
	}
}

// Prefix is where the assets are served.
const Prefix = "/static/"

// Path returns the URL path of the named asset with its content hash in the
// name, "/static/login.3f2a9c1b0d4e.css". For a name that is not embedded it
// returns the plain path, which is answered 404: the page tests fetch every
// asset a page names.
func Path(name string) string {
	if a, ok := byName[name]; ok {
		return Prefix + a.hashed
	}
	return Prefix + name
}

// Names returns the names of the embedded assets.
func Names() []string {
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	return out
}

// Mount adds GET /static/{file} to mux.
func Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+"{file}", serve)
}

// serve answers a hashed name with the file and a year's immutable cache.
// A plain name, or a hash of another release (a page rendered by an older node
// during an upgrade), gets the current file marked no-cache.
func serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	a, immutable := byHashed[name]
	if !immutable {
		if a = byName[name]; a == nil {
			a = byName[unhash(name)]
		}
	}
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", `"`+a.hash+`"`)
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// unhash turns "login.0123456789ab.css" into "login.css", and anything else into "".
func unhash(name string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	i := strings.LastIndexByte(base, '.')
	if i < 0 || len(base)-i-1 != 12 {
		return ""
	}
	if _, err := hex.DecodeString(base[i+1:]); err != nil {
		return ""
	}
	return base[:i] + ext
}

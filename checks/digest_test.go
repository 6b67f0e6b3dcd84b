package checks

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The worked examples of RFC 7616 section 3.9.1.
func TestDigestRFC7616Examples(t *testing.T) {
	for _, tc := range []struct{ alg, want string }{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		c := &digestChallenge{realm: "http-auth@example.org", qop: "auth, auth-int", algorithm: tc.alg,
			nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"}
		h, err := c.authorization("GET", "/dir/index.html", "Mufasa", "Circle of Life", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1)
		if err != nil {
			t.Fatal(err)
		}
		params, err := parseAuthParams(strings.TrimPrefix(h, "Digest "))
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if params["response"] != tc.want || params["nc"] != "00000001" || params["qop"] != "auth" || params["opaque"] != c.opaque {
			t.Errorf("%s: %s", tc.alg, h)
		}
	}
}

// digestServer verifies Digest answers the long way, independently of the
// client code: it keeps its nonces and the last nonce count of each.
type digestServer struct {
	user, pass, realm string
	algorithms        []string // offered, in this order
	mu                sync.Mutex
	nonces            map[string]int
	challenges        int
}

func (s *digestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Digest ") && s.verify(r.Method, h) {
		io.WriteString(w, "secret area")
		return
	}
	s.challenges++
	nonce := randomHex(16)
	s.nonces[nonce] = 0
	for _, alg := range s.algorithms {
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", qop="auth", algorithm=%s, nonce="%s", opaque="op4que"`, s.realm, alg, nonce))
	}
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}

func (s *digestServer) verify(method, header string) bool {
	p, err := parseAuthParams(strings.TrimPrefix(header, "Digest "))
	if err != nil {
		return false
	}
	last, known := s.nonces[p["nonce"]]
	var nc int
	fmt.Sscanf(p["nc"], "%x", &nc)
	if !known || nc <= last || p["opaque"] != "op4que" || p["username"] != s.user || p["realm"] != s.realm {
		return false
	}
	var h func() hash.Hash
	switch p["algorithm"] {
	case "MD5":
		h = md5.New
	case "SHA-256":
		h = sha256.New
	default:
		return false
	}
	H := func(parts ...string) string {
		d := h()
		io.WriteString(d, strings.Join(parts, ":"))
		return hex.EncodeToString(d.Sum(nil))
	}
	want := H(H(s.user, s.realm, s.pass), p["nonce"], p["nc"], p["cnonce"], "auth", H(method, p["uri"]))
	if p["response"] != want {
		return false
	}
	s.nonces[p["nonce"]] = nc
	return true
}

func TestDigestAuth(t *testing.T) {
	tests := []struct {
		name       string
		algorithms []string
		password   string
		ok         bool
	}{
		{"SHA-256", []string{"SHA-256"}, "Circle of Life", true},
		{"MD5", []string{"MD5"}, "Circle of Life", true},
		{"both offered", []string{"MD5", "SHA-256"}, "Circle of Life", true},
		{"wrong password", []string{"SHA-256"}, "circle of life", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := &digestServer{user: "Mufasa", pass: "Circle of Life", realm: "erp", algorithms: tc.algorithms, nonces: map[string]int{}}
			srv := httptest.NewServer(ds)
			defer srv.Close()
			c := loadCheck(t, fmt.Sprintf(`name: digest
type: scenario
auth: {type: digest, user: Mufasa, password: %q}
steps:
  - {url: "%s/a", status_codes: [200], required: secret}
  - {url: "%s/b?x=1", method: POST, posts: {k: v}, status_codes: [200], required: secret}
  - {url: "%s/c", status_codes: [200]}`, tc.password, srv.URL, srv.URL, srv.URL))
			res := run(t, c)
			if res.Success != tc.ok {
				t.Fatalf("success %v: %s", res.Success, res.Error)
			}
			if !tc.ok {
				if res.Error != "step 1: HTTP 401, expected 200" {
					t.Errorf("error %q", res.Error)
				}
				return
			}
			// One challenge: the later steps reuse its nonce with a
			// growing count (a replayed count would have been refused).
			if ds.challenges != 1 {
				t.Errorf("%d challenges, want 1", ds.challenges)
			}
		})
	}
}

func TestParseAuthParams(t *testing.T) {
	got, err := parseAuthParams(`realm="a \"b\", c", nonce=xyz ,qop="auth,auth-int", Realm=dup`)
	if err != nil {
		t.Fatal(err)
	}
	if got["realm"] != `a "b", c` || got["nonce"] != "xyz" || got["qop"] != "auth,auth-int" || len(got) != 3 {
		t.Errorf("%q", got)
	}
	for _, bad := range []string{`realm="open`, `=x`, `novalue`} {
		if _, err := parseAuthParams(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseAuthParams(f *testing.F) {
	f.Add(`realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf", opaque="FQhe"`)
	f.Add(`a="\\\"", b=c,,, d=""`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseAuthParams(s)
		if err != nil {
			return
		}
		// What was parsed writes back to something that parses the same.
		var parts []string
		for k, v := range p {
			parts = append(parts, k+"="+quote(v))
		}
		again, err := parseAuthParams(strings.Join(parts, ", "))
		if err != nil || len(again) != len(p) {
			t.Fatalf("%q → %q → %q, %v", s, p, again, err)
		}
		for k, v := range p {
			if again[k] != v {
				t.Fatalf("%q: %s=%q became %q", s, k, v, again[k])
			}
		}
	})
}

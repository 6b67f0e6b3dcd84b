package checks

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
)

// digestTransport answers HTTP Digest challenges (RFC 7616: MD5 and
// SHA-256, their -sess variants, qop=auth or none as in RFC 2069). After a
// first challenge it authorizes the next requests at once with the same
// nonce and a growing nonce count, and starts over when the server sends a
// new challenge (stale nonce).
type digestTransport struct {
	next       http.RoundTripper
	user, pass string

	mu   sync.Mutex
	chal *digestChallenge
	nc   uint32
}

type digestChallenge struct {
	realm, nonce, opaque, algorithm, qop string
	userhash, stale                      bool
	host                                 string // where it came from: credentials go nowhere else
}

// maxDrain bounds what is read of a 401 body before the retry.
const maxDrain = 64 << 10

func (d *digestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	chal := d.chal
	d.mu.Unlock()
	first := req
	if chal != nil && chal.host != req.URL.Host {
		chal = nil
	}
	if chal != nil {
		var err error
		if first, err = d.authorize(req, chal); err != nil {
			return nil, err
		}
	}
	resp, err := d.next.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	newChal, ok := pickDigest(resp.Header.Values("WWW-Authenticate"))
	if !ok {
		return resp, nil // not a digest challenge we can answer: the step sees the 401
	}
	// A 401 to credentials computed on a nonce still fresh means they are wrong.
	if chal != nil && !newChal.stale && newChal.nonce == chal.nonce {
		return resp, nil
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil // cannot send the body twice
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	newChal.host = req.URL.Host
	d.mu.Lock()
	d.chal, d.nc = newChal, 0
	d.mu.Unlock()
	retry, err := d.authorize(req, newChal)
	if err != nil {
		return nil, err
	}
	return d.next.RoundTrip(retry)
}

// authorize clones req with an Authorization header for chal.
func (d *digestTransport) authorize(req *http.Request, chal *digestChallenge) (*http.Request, error) {
	d.mu.Lock()
	d.nc++
	nc := d.nc
	d.mu.Unlock()
	var b [16]byte
	rand.Read(b[:])
	h, err := chal.authorization(req.Method, req.URL.RequestURI(), d.user, d.pass, hex.EncodeToString(b[:]), nc)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	r.Header.Set("Authorization", h)
	return r, nil
}

// authorization computes the Authorization header value (RFC 7616 3.4).
func (c *digestChallenge) authorization(method, uri, user, pass, cnonce string, nc uint32) (string, error) {
	alg := strings.ToUpper(c.algorithm)
	if alg == "" {
		alg = "MD5"
	}
	var newHash func() hash.Hash
	switch strings.TrimSuffix(alg, "-SESS") {
	case "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		return "", fmt.Errorf("digest auth: the server asks for algorithm %s; vigie knows MD5 and SHA-256", c.algorithm)
	}
	H := func(s string) string {
		h := newHash()
		io.WriteString(h, s)
		return hex.EncodeToString(h.Sum(nil))
	}
	qop := ""
	if c.qop != "" {
		for q := range strings.SplitSeq(c.qop, ",") {
			if strings.TrimSpace(q) == "auth" {
				qop = "auth"
			}
		}
		if qop == "" {
			return "", fmt.Errorf("digest auth: the server asks for qop %q; vigie knows auth", c.qop)
		}
	}
	ha1 := H(user + ":" + c.realm + ":" + pass)
	if strings.HasSuffix(alg, "-SESS") {
		ha1 = H(ha1 + ":" + c.nonce + ":" + cnonce)
	}
	ha2 := H(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	var response string
	if qop != "" {
		response = H(ha1 + ":" + c.nonce + ":" + ncs + ":" + cnonce + ":" + qop + ":" + ha2)
	} else {
		response = H(ha1 + ":" + c.nonce + ":" + ha2)
	}
	name := user
	if c.userhash {
		name = H(user + ":" + c.realm)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, uri=%s`, quote(name), quote(c.realm), quote(uri))
	if c.algorithm != "" {
		fmt.Fprintf(&b, ", algorithm=%s", c.algorithm)
	}
	fmt.Fprintf(&b, ", nonce=%s", quote(c.nonce))
	if qop != "" {
		fmt.Fprintf(&b, ", nc=%s, cnonce=%s, qop=%s", ncs, quote(cnonce), qop)
	}
	fmt.Fprintf(&b, ", response=%s", quote(response))
	if c.opaque != "" {
		fmt.Fprintf(&b, ", opaque=%s", quote(c.opaque))
	}
	if c.userhash {
		b.WriteString(", userhash=true")
	}
	return b.String(), nil
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// pickDigest chooses the strongest digest challenge the server offers
// (SHA-256 before MD5) among WWW-Authenticate values.
func pickDigest(headers []string) (*digestChallenge, bool) {
	var best *digestChallenge
	rank := func(c *digestChallenge) int {
		switch strings.ToUpper(strings.TrimSuffix(strings.ToUpper(c.algorithm), "-SESS")) {
		case "SHA-256":
			return 2
		case "MD5", "":
			return 1
		}
		return 0
	}
	for _, h := range headers {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		params, err := parseAuthParams(rest)
		if err != nil || params["nonce"] == "" {
			continue
		}
		c := &digestChallenge{
			realm: params["realm"], nonce: params["nonce"], opaque: params["opaque"],
			algorithm: params["algorithm"], qop: params["qop"],
			userhash: strings.EqualFold(params["userhash"], "true"),
			stale:    strings.EqualFold(params["stale"], "true"),
		}
		if rank(c) > 0 && (best == nil || rank(c) > rank(best)) {
			best = c
		}
	}
	return best, best != nil
}

// maxAuthParams bounds a challenge; real ones have fewer than ten.
const maxAuthParams = 32

// parseAuthParams reads `a=b, c="quoted \"x\""` (RFC 9110 auth-param list).
// Names are lower-cased; a repeated name keeps its first value.
func parseAuthParams(s string) (map[string]string, error) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, nil
		}
		if len(out) >= maxAuthParams {
			return nil, fmt.Errorf("more than %d parameters", maxAuthParams)
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("parameter without '=' in %q", s)
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		if name == "" || strings.ContainsAny(name, " \t\",") {
			return nil, fmt.Errorf("bad parameter name %q", name)
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					closed = true
					break
				}
				b.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted value for %s", name)
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := out[name]; !dup {
			out[name] = val
		}
	}
}

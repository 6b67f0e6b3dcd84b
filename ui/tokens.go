package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// tokenSet holds bearer secrets hashed, so comparing them takes the same
// time whatever their length and content.
type tokenSet struct {
	sums  [][sha256.Size]byte
	names []string
}

func newTokenSet(ts []Token) tokenSet {
	var s tokenSet
	for _, t := range ts {
		s.sums = append(s.sums, sha256.Sum256([]byte(t.Secret)))
		s.names = append(s.names, t.Name)
	}
	return s
}

// match checks the request's bearer token against every token of the set,
// in constant time, and returns its name.
func (s tokenSet) match(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	sum := sha256.Sum256([]byte(h[len(prefix):]))
	name, found := "", 0
	for i, t := range s.sums {
		if subtle.ConstantTimeCompare(sum[:], t[:]) == 1 {
			name, found = s.names[i], 1
		}
	}
	return name, found == 1
}

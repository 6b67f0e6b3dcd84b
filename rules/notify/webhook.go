package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"vigie/cmd/config"
)

// webhookType posts the Message as JSON, signed with the notifier's secret.
func webhookType() Type {
	return Type{
		Body:     func(m *Message) ([]byte, error) { return marshal(m) },
		Endpoint: func(base string) string { return base },
		Sign: func(n *config.Notifier, body []byte, h http.Header) {
			if n.Secret != "" {
				h.Set("X-Vigie-Signature", Signature(n.Secret, body))
			}
		},
	}
}

// Signature is the X-Vigie-Signature value of a body: "sha256=" and the hex
// HMAC-SHA256 of the exact bytes with the secret.
func Signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a received X-Vigie-Signature in constant time, as
// receivers written in Go can do (docs/rules.md).
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Signature(secret, body)), []byte(header))
}

package notify

import (
	"strings"
)

// slackType posts {"text": ...}: Slack's incoming webhooks and the
// compatible ones of Mattermost and Rocket.Chat.
func slackType() Type {
	return Type{
		Body: func(m *Message) ([]byte, error) {
			return marshal(struct {
				Text string `json:"text"`
			}{slackText(m)})
		},
		Endpoint: func(base string) string { return base },
	}
}

// slackText is "[FIRING] summary" then the alert's page on its own line.
func slackText(m *Message) string {
	var b strings.Builder
	switch {
	case m.Test:
		b.WriteString("[TEST] ")
	case m.State == Resolved:
		b.WriteString("[RESOLVED] ")
	case m.Reminder:
		b.WriteString("[FIRING, reminder] ")
	default:
		b.WriteString("[FIRING] ")
	}
	b.WriteString(m.Summary)
	if m.URL != "" {
		b.WriteString("\n")
		b.WriteString(m.URL)
	}
	return b.String()
}

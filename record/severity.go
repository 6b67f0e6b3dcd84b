package record

import "strings"

// Syslog severities (RFC 5424 section 6.2.1).
const (
	SevEmerg = iota
	SevAlert
	SevCrit
	SevErr
	SevWarning
	SevNotice
	SevInfo
	SevDebug
)

// Facility numbers used by the parsers as defaults.
const (
	FacKern = 0
	FacUser = 1
)

// severityNames are the canonical names, indexed by severity; they are what
// SeverityName returns and what the query language prints.
var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// severityAliases holds the other spellings found in syslog.conf, rsyslog,
// journald and application levels.
var severityAliases = map[string]int{
	"panic": SevEmerg, "emergency": SevEmerg,
	"critical":      SevCrit,
	"error":         SevErr,
	"warn":          SevWarning,
	"informational": SevInfo,
}

// facilityNames follows the RFC 5424 table (section 6.2.1) with the keywords
// of syslog.conf; 13-15 have no syslog.conf keyword, so the names syslog-ng
// and rsyslog print are used.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var facilityAliases = map[string]int{
	"audit": 13, "logaudit": 13, "log_audit": 13,
	"alert": 14, "logalert": 14, "log_alert": 14,
	"cron2": 15, "solaris-cron": 15,
}

// ParseSeverity reads a severity name (canonical or alias, any case) or a
// digit 0-7.
func ParseSeverity(s string) (int, bool) {
	if n, ok := smallInt(s, len(severityNames)); ok {
		return n, true
	}
	s = strings.ToLower(s)
	for i, n := range severityNames {
		if n == s {
			return i, true
		}
	}
	n, ok := severityAliases[s]
	return n, ok
}

// SeverityName returns the canonical name of a severity, "" when out of range.
func SeverityName(sev int) string {
	if sev < 0 || sev >= len(severityNames) {
		return ""
	}
	return severityNames[sev]
}

// ParseFacility reads a facility name (canonical or alias, any case) or a
// number 0-23.
func ParseFacility(s string) (int, bool) {
	if n, ok := smallInt(s, len(facilityNames)); ok {
		return n, true
	}
	s = strings.ToLower(s)
	for i, n := range facilityNames {
		if n == s {
			return i, true
		}
	}
	n, ok := facilityAliases[s]
	return n, ok
}

// FacilityName returns the canonical name of a facility, "" when out of range.
func FacilityName(fac int) string {
	if fac < 0 || fac >= len(facilityNames) {
		return ""
	}
	return facilityNames[fac]
}

// smallInt parses a 1 or 2 digit decimal below limit.
func smallInt(s string, limit int) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n < limit
}

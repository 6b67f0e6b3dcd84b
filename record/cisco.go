package record

import "strings"

// Fields set on Cisco messages.
const (
	FieldCiscoSeq      = "cisco.seq"
	FieldClockUnsynced = "clock_unsynced"
	FieldDeviceTime    = "device_time"
)

// parseCisco recognises the layouts of Cisco IOS, IOS-XE, NX-OS and ASA:
//
//	[": "][seq": "][host": "][*|.]stamp[" "ZONE]": "%FAC-SEV-MNEMONIC: text
//	seq": "uptime": "%FAC-SEV-MNEMONIC: text
//	%FAC-SEV-MNEMONIC: text
//
// It returns false, leaving r untouched, when s is none of them. A '*' before
// the stamp means the device clock is not authoritative (usually still at its
// 1993 boot default): the stamp is then kept in Fields["device_time"] and Time
// stays the receive time, rather than storing an event years in the past or a
// year inferred into the future.
func (p *syslogParser) parseCisco(r *Record, s string) bool {
	i := 0
	if strings.HasPrefix(s, ": ") { // NX-OS
		i = 2
	}
	var seq, host, uptime string
	if n := digitsBeforeColon(s[i:]); n > 0 {
		seq = s[i : i+n]
		i += n + 2
		// "logging origin-id hostname" puts "host: " before the stamp.
		if n := wordBeforeColon(s[i:]); n > 0 && stampAhead(s[i+n+2:]) {
			host = s[i : i+n]
			i += n + 2
		}
	}

	j := i
	marker := byte(0)
	if j < len(s) && (s[j] == '*' || s[j] == '.') {
		marker = s[j]
		j++
	}
	st, n, haveStamp := parseStamp(s[j:])
	stampEnd := 0
	if haveStamp {
		k := j + n
		utc := false
		// Zone abbreviation (show-timezone): only UTC/GMT can be trusted
		// without a zone database of abbreviations; others use the listener's.
		if k < len(s) && s[k] == ' ' {
			z := k + 1
			for z < len(s) && z-k <= 6 && s[z] >= 'A' && s[z] <= 'Z' {
				z++
			}
			// Only in a Cisco context: "Nov 22 10:00:00 CRON: x" is a tag.
			ctx := seq != "" || marker != 0 || strings.HasPrefix(s[min(z+1, len(s)):], " %")
			if ctx && z-k-1 >= 2 && z < len(s) && s[z] == ':' {
				zone := s[k+1 : z]
				utc = zone == "UTC" || zone == "GMT"
				k = z
			}
		}
		if k < len(s) && s[k] == ':' {
			stampEnd = k
			i = k + 1
			if utc && !st.hasOffset {
				st.hasOffset = true
			}
		} else {
			haveStamp = false
		}
	}
	if !haveStamp && seq != "" {
		// "service timestamps log uptime": "1w2d:" or "00:01:02:"
		if n := uptimeBeforeColon(s[i:]); n > 0 {
			uptime = s[i : i+n]
			i += n + 1
		}
	}
	rest := trimSpaces(s[i:])
	fac, sev, mnem, isMnem := splitMnemonic(rest)
	if seq == "" && !haveStamp && !isMnem {
		return false
	}

	if seq != "" {
		r.SetField(FieldCiscoSeq, seq)
	}
	if host != "" {
		r.Host = host
	}
	if haveStamp {
		if marker == '*' {
			r.SetField(FieldClockUnsynced, "true")
			r.SetField(FieldDeviceTime, s[j:stampEnd])
		} else {
			p.setStamp(r, st)
		}
	}
	if uptime != "" {
		r.SetField("cisco.uptime", uptime)
	}
	if isMnem {
		r.App, r.MsgID = fac, mnem
		if !p.hasPRI {
			r.Severity = sev
		}
	}
	// The %FAC-SEV-MNEMONIC stays in the text: it is what network people search.
	r.Message = rest
	return true
}

// splitMnemonic reads "%FAC-SEV-MNEMONIC:" (FAC may hold '-', as in
// %FMANFP-... or ASA's numeric mnemonics %ASA-4-106023).
func splitMnemonic(s string) (fac string, sev int, mnem string, ok bool) {
	if len(s) < 6 || s[0] != '%' {
		return "", 0, "", false
	}
	end := strings.IndexByte(s, ':')
	if end < 0 || strings.IndexByte(s[:end], ' ') >= 0 {
		return "", 0, "", false
	}
	tok := s[1:end]
	// The severity is the last "-d-" group.
	for k := len(tok) - 2; k >= 2; k-- {
		if tok[k] >= '0' && tok[k] <= '7' && tok[k-1] == '-' && tok[k+1] == '-' && k+2 < len(tok) {
			return tok[:k-1], int(tok[k] - '0'), tok[k+2:], true
		}
	}
	return "", 0, "", false
}

// digitsBeforeColon returns n when s starts with n digits then ": ".
func digitsBeforeColon(s string) int {
	n := 0
	for n < len(s) && n < 12 && isDigit(s[n]) {
		n++
	}
	if n == 0 || n+1 >= len(s) || s[n] != ':' || s[n+1] != ' ' {
		return 0
	}
	return n
}

// wordBeforeColon returns n when s starts with a host-like word then ": ".
func wordBeforeColon(s string) int {
	n := 0
	for n < len(s) && n < 255 && s[n] != ' ' && s[n] != ':' {
		n++
	}
	if n == 0 || n+1 >= len(s) || s[n] != ':' || s[n+1] != ' ' {
		return 0
	}
	return n
}

// stampAhead tells whether s starts with an optional clock marker and a stamp.
func stampAhead(s string) bool {
	if s != "" && (s[0] == '*' || s[0] == '.') {
		s = s[1:]
	}
	_, _, ok := parseStamp(s)
	return ok
}

// uptimeBeforeColon returns n when s starts with an uptime such as "1w2d" or
// "00:01:02" followed by ':'.
func uptimeBeforeColon(s string) int {
	if len(s) > 9 && s[2] == ':' && s[5] == ':' && s[8] == ':' {
		if _, ok := digitsN(s, 0, 2); ok {
			return 8
		}
	}
	n := 0
	for n < len(s) && n < 16 && (isDigit(s[n]) || s[n] == 'y' || s[n] == 'w' || s[n] == 'd' || s[n] == 'h' || s[n] == 'm') {
		n++
	}
	if n < 2 || n >= len(s) || s[n] != ':' || !isDigit(s[0]) {
		return 0
	}
	return n
}

package zabbix

import (
	"fmt"
	"strings"
)

// notes gathers warnings so that one kind of problem is one line naming
// every check it touches, in the order first met: the same missing feature
// across forty scenarios should not bury the rest of the report.
type notes struct {
	order []string
	byMsg map[string]*note
}

type note struct {
	msg      string
	subjects []string
}

// maxSubjects is how many names one line lists before "and N more".
const maxSubjects = 8

// add records msg about subject (a check name; "" for the export itself).
func (ns *notes) add(subject, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if ns.byMsg == nil {
		ns.byMsg = map[string]*note{}
	}
	n := ns.byMsg[msg]
	if n == nil {
		n = &note{msg: msg}
		ns.byMsg[msg] = n
		ns.order = append(ns.order, msg)
	}
	if subject != "" && (len(n.subjects) == 0 || n.subjects[len(n.subjects)-1] != subject) {
		n.subjects = append(n.subjects, subject)
	}
}

func (ns *notes) lines() []string {
	out := make([]string, 0, len(ns.order))
	for _, msg := range ns.order {
		n := ns.byMsg[msg]
		if len(n.subjects) == 0 {
			out = append(out, msg)
			continue
		}
		out = append(out, listNames(n.subjects)+": "+msg)
	}
	return out
}

// listNames joins names, cutting a long list short.
func listNames(names []string) string {
	if len(names) <= maxSubjects {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxSubjects], ", "), len(names)-maxSubjects)
}

package rules

import (
	"testing"
	"time"

	"vigie/record"
)

const backupRule = `rules:
  - {name: nightly-backup, absent: 'app:sauvegarde "transfert est terminé"', window: 26h, notify: [ops], severity: critical}
`

func backupLine(at time.Time, msg string) record.Record {
	return record.Record{Time: at, Received: at, Host: "backup", App: "sauvegarde", Severity: 6, Facility: 1,
		Source: "agent backup", Message: msg}
}

func TestAbsentFiresAfterTheWindowWithoutMatch(t *testing.T) {
	r := newRig(t, backupRule)
	r.eval()
	// The failing run's log: "Erreur dans le transfert" is not the success line.
	r.clk.Advance(20 * time.Hour)
	r.submit(backupLine(r.clk.Now(), "Erreur dans le transfert"))
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("fired before the window: %s", keys(as))
	}
	r.clk.Advance(6 * time.Hour)
	r.eval()
	m := r.recv.wait(1)[0]
	if m.State != "firing" || m.Severity != "critical" || len(m.Samples) != 0 {
		t.Errorf("%+v", m)
	}
	if want := `no record matching app:sauvegarde "transfert est terminé" for 26h (none stored)`; m.Summary != want {
		t.Errorf("summary %q\nwant    %q", m.Summary, want)
	}
	// The next night's success line ends it.
	r.clk.Advance(time.Hour)
	r.submit(backupLine(r.clk.Now(), "Le transfert est terminé"))
	r.eval()
	if res := r.recv.wait(2)[1]; res.State != "resolved" || res.ID != m.ID {
		t.Errorf("%+v", res)
	}
}

func TestAbsentClockIsTheLastMatchInTheStore(t *testing.T) {
	r := newRig(t, backupRule)
	r.close()
	// Last night's success, 25h ago; vigie restarts now.
	last := t0.Add(-25 * time.Hour)
	r.submit(backupLine(last, "Le transfert est terminé"), backupLine(last.Add(-24*time.Hour), "Le transfert est terminé"))
	r.start()
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("fired at start although the last match is 25h old: %s", keys(as))
	}
	r.clk.Advance(time.Hour)
	r.eval()
	m := r.recv.wait(1)[0]
	if want := `no record matching app:sauvegarde "transfert est terminé" for 26h (last 2026-11-21 09:00 UTC)`; m.Summary != want {
		t.Errorf("summary %q\nwant    %q", m.Summary, want)
	}
}

func TestAbsentWatchedSinceSurvivesRestarts(t *testing.T) {
	r := newRig(t, backupRule)
	// Nothing ever matched; vigie restarts more often than the window.
	for range 3 {
		r.clk.Advance(10 * time.Hour)
		r.restart()
		r.eval()
	}
	m := r.recv.wait(1)[0]
	if m.Summary != `no record matching app:sauvegarde "transfert est terminé" for 30h (none stored)` {
		t.Errorf("summary %q", m.Summary)
	}
}

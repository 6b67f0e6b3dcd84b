package rules

import (
	"testing"

	"vigie/store/query"
)

// TestIndexOffersEveryMatchingQuery: whatever keys a query is filed under,
// a record it matches always has it among its candidates, and the index
// does narrow the candidates (else it would be no index at all).
func TestIndexOffersEveryMatchingQuery(t *testing.T) {
	qs := append(benchQueries(),
		"meta.seq>100", "meta.seq<=3 app:odoo", "meta.seq=7", "duration_ms>=12.5",
		"host:erp* severity<=warning", "host:erp1*", "host:e*1", "host:*www", "db:Speci*",
		"(app:nginx OR app:sshd) (timed OR user)", "app:odoo OR duration_ms>20", "-host:www", "")
	var ms []*matcher
	for _, s := range qs {
		q, err := query.Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		ms = append(ms, &matcher{q: q})
	}
	ix := indexMatchers(ms)
	recs := benchRecords(120)
	for i := range recs {
		recs[i].SetField("meta.seq", []string{"3", "7", "101", "n/a"}[i%4])
	}
	var w query.Words
	tried, matched := 0, 0
	for i := range recs {
		r := &recs[i]
		w.Reset(r)
		offered := map[int32]bool{}
		ix.candidates(r, &w, func(js []int32) {
			for _, j := range js {
				offered[j] = true
			}
		})
		tried += len(offered)
		for j, m := range ms {
			if m.q.MatchWords(&w) {
				matched++
				if !offered[int32(j)] {
					t.Errorf("record %d (%s %s %q %v) matches %q, which the index did not offer",
						i, r.Host, r.App, r.Message, r.Fields, qs[j])
				}
			}
		}
	}
	if matched == 0 {
		t.Fatal("no query matched any record: the test proves nothing")
	}
	if all := len(recs) * len(ms); tried*4 > all {
		t.Errorf("the index offered %d of %d record×query pairs: it hardly narrows", tried, all)
	}
	t.Logf("%d pairs offered, %d matched, of %d", tried, matched, len(recs)*len(ms))
}

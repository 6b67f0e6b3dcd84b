package output

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"vigie/forwarder/spool"
)

// promiseKeeper is an output that fails now and then, answers after random
// delays, and checks the sender's promise to the collector: batch S is sent
// only once every batch up to S-window is settled.
type promiseKeeper struct {
	t       *testing.T
	window  int
	mu      sync.Mutex
	settled map[int64]bool
	first   int64 // lowest sequence of the test
	sending int
	most    int
	tries   map[int64]int
}

func (p *promiseKeeper) Window() int  { return p.window }
func (p *promiseKeeper) Close() error { return nil }

func (p *promiseKeeper) Send(ctx context.Context, b spool.Batch) error {
	p.mu.Lock()
	for seq := p.first; seq <= b.Seq-int64(p.window); seq++ {
		if !p.settled[seq] {
			p.t.Errorf("batch %d sent while batch %d, a whole window older, is not settled", b.Seq, seq)
		}
	}
	p.sending++
	p.most = max(p.most, p.sending)
	p.tries[b.Seq]++
	try := p.tries[b.Seq]
	p.mu.Unlock()
	time.Sleep(time.Duration(rand.N(3)) * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sending--
	if try == 1 && rand.N(3) == 0 {
		return errors.New("connection reset")
	}
	if b.Seq%17 == 0 {
		return &PermanentError{Status: 400, Msg: "refused"} // settled too
	}
	p.settled[b.Seq] = true
	return nil
}

func TestWindowedSenderKeepsItsPromise(t *testing.T) {
	sp := openSpool(t)
	var seqs []int64
	for i := range 60 {
		seq, err := sp.Append(spool.Batch{Records: ndjson("w"+strconv.Itoa(i), 2), Count: 2})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	p := &promiseKeeper{t: t, window: 4, settled: map[int64]bool{}, tries: map[int64]int{}, first: seqs[0]}
	// A refused batch is settled as well: mark it so when it goes to dead/.
	out := &deadMarker{promiseKeeper: p}
	runUntil(t, sp, out, nil, nil, func() bool { return sp.Stats().Batches == 0 })
	if p.most < 2 || p.most > 4 {
		t.Errorf("at most %d batches were in flight at once, want 2 to 4", p.most)
	}
	for _, seq := range seqs {
		if !p.settled[seq] {
			t.Errorf("batch %d never settled", seq)
		}
	}
}

// deadMarker records permanent refusals as settled.
type deadMarker struct{ *promiseKeeper }

func (d *deadMarker) Send(ctx context.Context, b spool.Batch) error {
	err := d.promiseKeeper.Send(ctx, b)
	if _, ok := errors.AsType[*PermanentError](err); ok {
		d.mu.Lock()
		d.settled[b.Seq] = true
		d.mu.Unlock()
	}
	return err
}

//go:build !windows

package eventlog

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRunUnsupported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Channels: []string{"Application"}}, nil, make(chan Event), nil)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Run = %v, want ErrUnsupported", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return at once")
	}
}

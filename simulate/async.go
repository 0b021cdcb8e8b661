package simulate

import (
	"sync"

	"github.com/failcast/failcast/pipeline"
)

// asyncSink hands copies of the history batches to a goroutine that writes
// them, so simulating and encoding run side by side.
type asyncSink struct {
	batches chan []pipeline.Event
	free    chan []pipeline.Event
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

func newAsyncSink(s Sink) *asyncSink {
	a := &asyncSink{
		batches: make(chan []pipeline.Event, 2),
		free:    make(chan []pipeline.Event, 4),
		done:    make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		for b := range a.batches {
			if a.failed() == nil {
				if err := s.History(b); err != nil {
					a.mu.Lock()
					a.err = err
					a.mu.Unlock()
				}
			}
			select {
			case a.free <- b[:0]:
			default:
			}
		}
	}()
	return a
}

func (a *asyncSink) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// History queues a copy of batch for writing; it returns the writer's
// error once one occurred.
func (a *asyncSink) History(batch []pipeline.Event) error {
	if err := a.failed(); err != nil {
		return err
	}
	var b []pipeline.Event
	select {
	case b = <-a.free:
	default:
	}
	a.batches <- append(b, batch...)
	return nil
}

// Close waits for the queued batches to be written and returns the first
// write error.
func (a *asyncSink) Close() error {
	close(a.batches)
	<-a.done
	return a.failed()
}

package scalebeam

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/filter"

	"github.com/failcast/failcast/pipeline"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*pipeline.Split)(nil)).Elem())
	register.DoFn5x1[context.Context, pipeline.Split, func(string, []byte), func(string), func(int64), error](&readSplitFn{})
	register.DoFn5x1[context.Context, string, []byte, func(*string) bool, func(string, []byte), error](&rekeyFn{})
	register.Emitter1[string]()
	register.Emitter1[int64]()
	register.Emitter2[string, []byte]()
	register.Iter1[string]()
	register.Iter1[[]byte]()
	register.Function2x1(maxInt64)
}

// fragmentEvents is the most events of one account a split hands on in one
// element.
const fragmentEvents = 16384

// phoneKeyPrefix keys the events without a waba_id by their sender phone
// number until the phone's account is known (rekeyFn).
const phoneKeyPrefix = "\x00phone:"

// accountKey is the shard key of an event or planned send: its business
// account, or its phone number when the row names no account.
func accountKey(waba, phone string) string {
	if waba != "" || phone == "" {
		return waba
	}
	return phoneKeyPrefix + phone
}

// phonePair joins a phone number and its account for filter.Distinct.
func phonePair(phone, waba string) string { return phone + "\x00" + waba }

// readHistory adds the history read to s: every row group of the dataset
// before to (Unix µs) is scanned by its own element (pipeline.ScanSplit),
// and its events come out as fragments keyed by account. It also returns
// the distinct (phone, account) pairs seen and the latest event time of
// each split (math.MinInt64 for an empty one).
func readHistory(s beam.Scope, spec string, to int64) (frags, phones, ends beam.PCollection, splits int, err error) {
	s = s.Scope("ReadHistory")
	ds, err := pipeline.OpenDataset(spec)
	if err != nil {
		return frags, phones, ends, 0, fmt.Errorf("history: %w", err)
	}
	list, err := ds.Splits(context.Background(), pipeline.ScanOptions{To: to})
	if err != nil {
		return frags, phones, ends, 0, fmt.Errorf("history %s: %w", spec, err)
	}
	if len(list) == 0 {
		return frags, phones, ends, 0, fmt.Errorf("history %s has no rows before %s", spec, formatMicros(to))
	}
	col := beam.Reshuffle(s, beam.CreateList(s, list))
	frags, phones, ends = beam.ParDo3(s, &readSplitFn{To: to}, col)
	return frags, filter.Distinct(s, phones), ends, len(list), nil
}

// readSplitFn scans one split and emits its events grouped by account.
type readSplitFn struct {
	To int64 // events before it, Unix µs
}

func (f *readSplitFn) ProcessElement(ctx context.Context, sp pipeline.Split, emit func(string, []byte), emitPhone func(string), emitEnd func(int64)) error {
	byKey := map[string][]keyedEvent{}
	pairs := map[string]bool{}
	var pos int64
	end := int64(math.MinInt64)
	flush := func(key string) {
		emit(key, encodeEvents(int32(sp.Rank), byKey[key]))
		byKey[key] = byKey[key][:0]
	}
	err := pipeline.ScanSplit(ctx, sp, pipeline.ScanOptions{To: f.To}, func(batch []pipeline.Event) error {
		for i := range batch {
			e := &batch[i]
			key := accountKey(e.WABAID, e.PhoneNumberID)
			byKey[key] = append(byKey[key], keyedEvent{e: *e, pos: pos})
			pos++
			if e.WABAID != "" && e.PhoneNumberID != "" {
				pairs[phonePair(e.PhoneNumberID, e.WABAID)] = true
			}
			end = max(end, e.Timestamp)
			if len(byKey[key]) == fragmentEvents {
				flush(key)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history %s row group %d: %w", sp.File, sp.Group, err)
	}
	for _, key := range slices.Sorted(mapsKeys(byKey)) {
		if len(byKey[key]) > 0 {
			flush(key)
		}
	}
	for _, p := range slices.Sorted(mapsKeys(pairs)) {
		emitPhone(p)
	}
	emitEnd(end)
	return nil
}

func mapsKeys[K cmp.Ordered, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func maxInt64(a, b int64) int64 { return max(a, b) }

// rekeyFn gives the fragments keyed by a phone number (rows without a
// waba_id) the account that phone sends for elsewhere in the data; a
// phone never seen with an account stays a shard of its own.
type rekeyFn struct {
	phones map[string]string
}

func (f *rekeyFn) ProcessElement(ctx context.Context, key string, frag []byte, pairs func(*string) bool, emit func(string, []byte)) error {
	if !strings.HasPrefix(key, phoneKeyPrefix) {
		emit(key, frag)
		return nil
	}
	if f.phones == nil {
		f.phones = map[string]string{}
		var p string
		for pairs(&p) {
			phone, waba, _ := strings.Cut(p, "\x00")
			if old, ok := f.phones[phone]; ok && old != waba {
				return fmt.Errorf("phone number %s sends for two business accounts (%s and %s): its events without a waba_id cannot be given an account", phone, old, waba)
			}
			f.phones[phone] = waba
		}
	}
	if waba, ok := f.phones[strings.TrimPrefix(key, phoneKeyPrefix)]; ok {
		key = waba
	}
	emit(key, frag)
	return nil
}

// byAccount regroups keyed fragments by account: rows without a waba_id
// join the account of their phone number.
func byAccount(s beam.Scope, frags, phones beam.PCollection) beam.PCollection {
	return beam.ParDo(s.Scope("ByAccount"), &rekeyFn{}, frags, beam.SideInput{Input: phones})
}

// latest is the latest event time over the splits' ends.
func latest(s beam.Scope, ends beam.PCollection) beam.PCollection {
	s = s.Scope("LatestEvent")
	floor := beam.Create(s, int64(math.MinInt64))
	return beam.Combine(s, maxInt64, beam.Flatten(s, ends, floor))
}

// shardEvents decodes an account's fragments into its events in
// whole-scan order.
func shardEvents(frags func(*[]byte) bool) ([]keyedEvent, error) {
	var evs []keyedEvent
	var b []byte
	for frags(&b) {
		var err error
		if evs, err = decodeEvents(evs, b); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(evs, func(a, b keyedEvent) int { return a.order().cmp(b.order()) })
	return evs, nil
}

// memSource is a features.Source over an account's events in order.
type memSource struct{ events []keyedEvent }

func (m *memSource) Scan(ctx context.Context, opts pipeline.ScanOptions, fn func([]pipeline.Event) error) error {
	batch := make([]pipeline.Event, 0, 4096)
	for i := range m.events {
		e := &m.events[i].e
		if (opts.From != 0 && e.Timestamp < opts.From) || (opts.To != 0 && e.Timestamp >= opts.To) {
			continue
		}
		batch = append(batch, *e)
		if len(batch) == cap(batch) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

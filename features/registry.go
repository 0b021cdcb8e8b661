package features

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Kind says which clock a feature follows.
type Kind string

// Feature kinds.
const (
	// Outcome features derive from statuses, errors and inbound messages.
	// For a send at t they count only events with Timestamp < cutoff(t),
	// where cutoff(t) <= t - Config.Lead.
	Outcome Kind = "outcome"
	// Schedule features derive from the sender's own sends (planned or
	// made) without their outcomes. They count every send strictly
	// before t.
	Schedule Kind = "schedule"
	// Send features are attributes of the send itself (and its horizon).
	Send Kind = "send"
)

// Rule returns the time rule features of kind k follow.
func (k Kind) Rule() string {
	switch k {
	case Outcome:
		return "outcome events with timestamp < cutoff(t) <= t - lead"
	case Schedule:
		return "sends (history or plan) with time strictly before t"
	case Send:
		return "attributes of the send at t only"
	}
	return "unknown kind"
}

// Spec describes one feature column.
type Spec struct {
	Name        string // stable column name
	Entity      string // send, recipient, pair, phone, campaign, template, waba, country
	Window      string // "24h", "7d", ... or "" when not windowed
	Kind        Kind
	Description string
	Unit        string // count, hours, ratio, flag, index, MB, sends, recipients
}

// Specs returns the feature registry in column order.
func Specs() []Spec {
	out := make([]Spec, 0, numFeatures)
	for _, b := range blocks {
		out = append(out, b.specs...)
	}
	return out
}

// Names returns the feature names in column order.
func Names() []string {
	out := make([]string, 0, numFeatures)
	for _, b := range blocks {
		for _, s := range b.specs {
			out = append(out, s.Name)
		}
	}
	return out
}

// SchemaHash identifies the feature schema: the sha256 (hex) of
// FeatureVersion and each feature's name and kind, in order. Models store
// it and refuse a table with another hash.
func SchemaHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "failcast-features v%s\n", FeatureVersion)
	for i, s := range Specs() {
		fmt.Fprintf(h, "%d\t%s\t%s\n", i, s.Name, s.Kind)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Index returns the column of the named feature, or -1.
func Index(name string) int {
	if i, ok := nameIndex[name]; ok {
		return i
	}
	return -1
}

// block is a run of adjacent feature columns filled by one function. Its
// kind decides which state the function is handed: a send block sees the
// send only, a schedule block the schedule state, an outcome block the
// outcome state (plus the schedule facts outcome ratios need).
type block struct {
	kind     Kind
	specs    []Spec
	send     func(v *view, out []float32)
	schedule func(v *view, s *scheduleState, out []float32)
	outcome  func(v *view, o *outcomeState, out []float32)
	offset   int // first column
	end      int // column after the last
}

var (
	blocks      = registerBlocks()
	numFeatures = func() int {
		n := 0
		for _, b := range blocks {
			n += len(b.specs)
		}
		return n
	}()
	// The blocks of each kind, for the stage that fills them.
	sendBlocks     = blocksOf(Send)
	scheduleBlocks = blocksOf(Schedule)
	outcomeBlocks  = blocksOf(Outcome)
	nameIndex      = func() map[string]int {
		m := make(map[string]int)
		for i, n := range Names() {
			if _, dup := m[n]; dup {
				panic("features: duplicate feature name " + n)
			}
			m[n] = i
		}
		return m
	}()
)

func blocksOf(k Kind) []*block {
	var out []*block
	for i := range blocks {
		if blocks[i].kind == k {
			out = append(out, &blocks[i])
		}
	}
	return out
}

// specList is a small builder for a block's specs.
type specList struct {
	entity string
	kind   Kind
	specs  []Spec
}

func (l *specList) add(name, window, unit, desc string) {
	l.addFor(l.entity, name, window, unit, desc)
}

// addFor adds a spec of another entity than the list's own.
func (l *specList) addFor(entity, name, window, unit, desc string) {
	l.specs = append(l.specs, Spec{Name: name, Entity: entity, Window: window, Kind: l.kind, Description: desc, Unit: unit})
}

func newSpecs(kind Kind, entity string) *specList { return &specList{entity: entity, kind: kind} }

func fixOffsets(bs []block) []block {
	off := 0
	for i := range bs {
		bs[i].offset = off
		off += len(bs[i].specs)
		bs[i].end = off
		for j := range bs[i].specs {
			if bs[i].specs[j].Kind != bs[i].kind {
				panic("features: spec kind differs from its block: " + bs[i].specs[j].Name)
			}
			if strings.TrimSpace(bs[i].specs[j].Description) == "" {
				panic("features: feature without description: " + bs[i].specs[j].Name)
			}
		}
	}
	return bs
}

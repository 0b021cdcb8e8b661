package features

import (
	"math"
	"sort"
)

// This file holds the template parameter error episodes: how long a
// sender's templates keep failing on their parameters (132000, 132012)
// once they start, learnt from the sender's own history.
//
// A sender whose integration sends a template with broken parameters
// fixes it some time later; until then a share of the template's sends
// fail. An episode of a template starts with a parameter error and ends
// when the template has made enough sends without one that the episode's
// error share (the template's recent parameter error rate, as the
// feature template_param_error_rate_24h) would have produced about
// paramEpisodeEndErrors errors among them (at least paramEpisodeMinClean
// sends, at most paramEpisodeMaxClean). Its duration is the time from its
// first to its last parameter error. From the episodes before the cutoff,
// the survival
//
//	S(x) = (n S_KM(x) + w exp(-x/μ0)) / (n + w)
//
// is the Kaplan-Meier estimate S_KM of the episodes' durations (the n
// ended episodes are events; the ones still ongoing at the cutoff are
// censored at the time from their first to their last error, so the long
// episodes a short history has not seen end yet still count), shrunk to a
// prior of exponential durations of mean paramEpisodePriorHours with the
// weight of paramEpisodePriorWeight episodes (a sender without ended
// episodes uses the prior alone). The feature
// template_param_errors_persist of a send is the probability that the
// template's ongoing episode at the cutoff still holds at the send, given
// that it lasted from its first to its last error known at the cutoff:
// S(t - first) / S(last - first); 0 when the template has no ongoing
// episode at the cutoff.

const (
	// paramEpisodeEndErrors is how many errors the sends since an
	// episode's last error would have produced at its error share before
	// the episode counts as ended.
	paramEpisodeEndErrors = 3
	// paramEpisodeMinClean is the fewest sends without a parameter error
	// that end an episode.
	paramEpisodeMinClean = 10
	// paramEpisodeMaxClean is the most: a template whose rate is tiny
	// ends its episode after this many.
	paramEpisodeMaxClean = 1000
	// paramEpisodePriorHours is the prior mean duration of an episode (a
	// sender notices failing sends and fixes them within about a day).
	paramEpisodePriorHours = 24
	// paramEpisodePriorWeight is the prior's weight, in episodes.
	paramEpisodePriorWeight = 2
)

// paramEpisode is a template's current parameter error episode.
type paramEpisode struct {
	first, last int64 // µs of its first and last parameter error; first == 0: none ongoing
	clean       int32 // template sends since its last parameter error
}

// paramEpisodes is the episode state of a sender's templates and the
// durations of the episodes ended so far.
type paramEpisodes struct {
	tpl   []paramEpisode
	ended []float64 // durations of ended episodes, hours, sorted
	// The Kaplan-Meier steps (event time, S_KM after it), rebuilt when
	// an episode starts, grows or ends (fresh false).
	steps []kmStep
	fresh bool
}

type kmStep struct{ at, s float64 }

func (p *paramEpisodes) at(tpl int32) *paramEpisode {
	for int(tpl) >= len(p.tpl) {
		p.tpl = append(p.tpl, paramEpisode{})
	}
	return &p.tpl[tpl]
}

// send notes a send of template tpl (its send event), whose recent
// parameter error rate is rate.
func (p *paramEpisodes) send(tpl int32, rate float32) {
	e := p.at(tpl)
	if e.first == 0 {
		return
	}
	e.clean++
	need := int32(paramEpisodeMaxClean)
	if rate > 0 {
		need = int32(min(paramEpisodeMaxClean, max(paramEpisodeMinClean, math.Ceil(paramEpisodeEndErrors/float64(rate)))))
	}
	if e.clean >= need {
		d := float64(e.last-e.first) / float64(usPerHour)
		i := sort.SearchFloat64s(p.ended, d)
		p.ended = append(p.ended, 0)
		copy(p.ended[i+1:], p.ended[i:])
		p.ended[i] = d
		*e = paramEpisode{}
		p.fresh = false
	}
}

// fail notes a parameter error of template tpl at ts.
func (p *paramEpisodes) fail(tpl int32, ts int64) {
	e := p.at(tpl)
	if e.first == 0 {
		e.first = ts
	}
	e.last = max(e.last, ts)
	e.clean = 0
	p.fresh = false
}

// km rebuilds the Kaplan-Meier steps of the episodes' durations.
func (p *paramEpisodes) km() {
	p.fresh = true
	p.steps = p.steps[:0]
	if len(p.ended) == 0 {
		return
	}
	var censored []float64
	for i := range p.tpl {
		if e := &p.tpl[i]; e.first != 0 {
			censored = append(censored, float64(e.last-e.first)/float64(usPerHour))
		}
	}
	sort.Float64s(censored)
	surv, c := 1.0, 0
	for i := 0; i < len(p.ended); {
		at := p.ended[i]
		deaths := 0
		for i < len(p.ended) && p.ended[i] == at {
			deaths++
			i++
		}
		// At risk at at: the events at or after it, and the censored
		// observations at or after it (a censoring tie counts as later).
		for c < len(censored) && censored[c] < at {
			c++
		}
		atRisk := len(p.ended) - i + deaths + len(censored) - c
		surv *= 1 - float64(deaths)/float64(atRisk)
		p.steps = append(p.steps, kmStep{at: at, s: surv})
	}
}

// survival is S(x), x in hours.
func (p *paramEpisodes) survival(x float64) float64 {
	if x <= 0 {
		return 1
	}
	if !p.fresh {
		p.km()
	}
	km := 1.0 // S_KM(x): the step of the last event at or before x
	if k := sort.Search(len(p.steps), func(i int) bool { return p.steps[i].at > x }); k > 0 {
		km = p.steps[k-1].s
	}
	n := float64(len(p.ended))
	prior := paramEpisodePriorWeight * math.Exp(-x/paramEpisodePriorHours)
	return (n*km + prior) / (n + paramEpisodePriorWeight)
}

// persist is the probability that template tpl's episode ongoing at the
// cutoff still holds at t (0 when none is ongoing).
func (p *paramEpisodes) persist(tpl int32, t int64) float32 {
	if int(tpl) >= len(p.tpl) {
		return 0
	}
	e := &p.tpl[tpl]
	if e.first == 0 {
		return 0
	}
	known := float64(e.last-e.first) / float64(usPerHour)
	at := float64(t-e.first) / float64(usPerHour)
	if at <= known {
		return 1
	}
	s0 := p.survival(known)
	if s0 <= 0 {
		return 0
	}
	return float32(min(1, p.survival(at)/s0))
}

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
// sends, at most paramEpisodeMaxClean). Its duration is the
// time from its first to its last parameter error. From the durations of
// the episodes ended before the cutoff, the survival
//
//	S(x) = (#{ended episodes lasting more than x} + w exp(-x/μ0)) / (#ended + w)
//
// is the empirical survival of the episodes, shrunk to a prior of
// exponential durations of mean paramEpisodePriorHours with the weight of
// paramEpisodePriorWeight episodes (a sender without ended episodes uses
// the prior alone). The feature template_param_errors_persist of a send
// is the probability that the template's ongoing episode at the cutoff
// still holds at the send, given that it lasted from its first to its
// last error known at the cutoff: S(t - first) / S(last - first); 0 when
// the template has no ongoing episode at the cutoff. Episodes still
// ongoing at the cutoff do not enter S (their durations are not known
// yet): S leans to the shorter episodes while the history is short.

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
}

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
}

// survival is S(x), x in hours.
func (p *paramEpisodes) survival(x float64) float64 {
	if x <= 0 {
		return 1
	}
	longer := len(p.ended) - sort.Search(len(p.ended), func(i int) bool { return p.ended[i] > x })
	prior := paramEpisodePriorWeight * math.Exp(-x/paramEpisodePriorHours)
	return (float64(longer) + prior) / (float64(len(p.ended)) + paramEpisodePriorWeight)
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

package scoring

import (
	"log/slog"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/pipeline"
)

// MinKnownRecipientShare is the share of a plan's sends whose recipient
// the history knows (has an outcome of: the recipient_last_outcome_family
// feature is not -1) below which a run warns: scoring then rests on cold
// starts, the usual sign of recipients keyed otherwise than the history
// (another hash key, raw numbers against hashes, another number format),
// or of a history of other senders. A plan to new recipients can fall
// below it legitimately; the warning says so.
const MinKnownRecipientShare = 0.2

// recipientKeying decides how the plan's recipients given as raw numbers
// (unhashed of them) are made comparable with the history's, from the
// hash-key fingerprint the history records (pipeline.HashKeyMetaKey):
// hashed with cfg.HashKey, reduced to digits for a history exported with
// --no-hash, or left as they are (when the history records no
// fingerprint: warned). It returns nil when nothing is to be done. A key
// whose fingerprint differs from the history's, and raw numbers without
// a key against a hashed history, are input errors: every recipient would
// be a cold start.
func recipientKeying(ds *pipeline.Dataset, cfg Config, unhashed int, log *slog.Logger) (func(string) string, error) {
	if err := pipeline.CheckHashKey(ds, cfg.HashKey, cfg.HashKeyFrom); err != nil {
		return nil, err
	}
	stored, file, err := ds.HashKeyFingerprint()
	if err != nil {
		return nil, err
	}
	switch {
	case unhashed == 0:
		return nil, nil
	case len(cfg.HashKey) > 0:
		log.Info("hashing raw recipient numbers of the plan", "sends", unhashed, "key_from", cfg.HashKeyFrom,
			"key_fingerprint", pipeline.HashKeyFingerprint(cfg.HashKey), "history_fingerprint", stored)
		return pipeline.NewRecipientHasher(cfg.HashKey).Hash, nil
	case stored == pipeline.UnhashedFingerprint:
		log.Info("the history holds numbers (exported with --no-hash): plan recipients are compared as digits", "sends", unhashed, "history_file", file)
		return pipeline.NormalizeNumber, nil
	case stored != "":
		return nil, exitcode.Inputf("%d plan recipients are raw numbers and no hashing key is set in %s, but the history's recipients are hashed (key fingerprint %s, %s in %s): every one would be scored as an unknown recipient; set %s to the key the history was exported with",
			unhashed, cfg.HashKeyFrom, stored, pipeline.HashKeyMetaKey, file, cfg.HashKeyFrom)
	}
	log.Warn("plan recipients are not hashed and no hashing key is set: they match no history (cold start) and are masked in the outputs",
		"sends", unhashed, "set", cfg.HashKeyFrom)
	return nil, nil
}

// recipientCounter counts the sends whose recipient the history knows.
type recipientCounter struct {
	checked, found int
}

func (c *recipientCounter) add(preds []Prediction) {
	for i := range preds {
		switch preds[i].facts.knownRecipient {
		case 1:
			c.found++
			c.checked++
		case 0:
			c.checked++
		}
	}
}

// warn logs when fewer than MinKnownRecipientShare of the checked sends
// go to recipients the history knows.
func (c *recipientCounter) warn(log *slog.Logger, cfg Config) {
	if c.checked == 0 || float64(c.found) >= MinKnownRecipientShare*float64(c.checked) {
		return
	}
	log.Warn("few plan recipients are found in the history: most sends are scored as cold starts; check that plan and history key recipients alike (the same hash key, or the same number format) unless the plan goes to new recipients",
		"found", c.found, "sends", c.checked, "share", float64(c.found)/float64(c.checked), "min_share", MinKnownRecipientShare,
		"key_from", cfg.HashKeyFrom)
}

package scoring

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/failcast/failcast/exitcode"
	"github.com/failcast/failcast/features"
	"github.com/failcast/failcast/models/bundle"
	"github.com/failcast/failcast/models/drift"
	"github.com/failcast/failcast/models/registry"
	"github.com/failcast/failcast/pipeline"
)

// model is a loaded model bundle with what scoring needs from it.
type model struct {
	*bundle.Bundle
	version     string
	thresholds  Thresholds
	likelyCodes map[pipeline.Family]int32
	cfg         features.Config // with the model's lead and refresh
	reasons     *reasoner       // nil: no reasons (Config.Reasons off)
	drift       *drift.Meter    // nil: the model stores no reference distributions
}

// loadModel loads the model directory modelDir, or when it is "" the
// current model of the registry at registryDir, and checks that this
// build can score with it (models/bundle owns the saved-model contract and
// its checks: a model trained on another feature schema than this build
// computes, without risk thresholds, or with more family classes than this
// build knows is refused, an input error, exit 3).
func loadModel(registryDir, modelDir string, log *slog.Logger) (*model, error) {
	dir := modelDir
	if dir == "" {
		version, d, err := registry.Open(registryDir).Current()
		if errors.Is(err, registry.ErrNoChampion) {
			return nil, exitcode.Inputf("registry %s has no current model: train one first (cmd/train) or pass --model DIR", registryDir)
		}
		if err != nil {
			return nil, exitcode.Inputf("registry %s: current model %s: %w", registryDir, version, err)
		}
		dir = d
	}
	b, err := bundle.LoadFor(dir, bundle.Want{SchemaHash: features.SchemaHash(), FeatureNames: features.Names(),
		MaxClasses: pipeline.NumFamilies, Thresholds: true})
	if err != nil {
		return nil, exitcode.Inputf("refusing the model in %s: %w", dir, err)
	}
	m := &model{Bundle: b, version: b.Metadata.ModelVersion, likelyCodes: map[pipeline.Family]int32{}}
	th, err := b.Thresholds()
	if err != nil {
		return nil, exitcode.Inputf("model %s: %w", m.version, err)
	}
	high, medium := th.High, th.Medium
	if math.IsInf(high, 1) {
		log.Warn("the model's high-risk threshold was not reached on validation: no send is flagged high", "model", m.version)
	}
	m.thresholds = Thresholds{High: high, Medium: medium}
	if err := m.thresholds.Validate(); err != nil {
		return nil, exitcode.Inputf("model %s: %w", m.version, err)
	}
	for name, code := range b.LikelyCodes {
		f, err := pipeline.ParseFamily(name)
		if err != nil {
			log.Warn("model names an unknown family in its likely codes; ignored", "family", name)
			continue
		}
		m.likelyCodes[f] = code
	}
	m.cfg = features.DefaultConfig()
	if b.Lead > 0 {
		m.cfg.Lead = b.Lead
	}
	if b.Refresh > 0 {
		m.cfg.Refresh = b.Refresh
	}
	log.Info("model loaded", "model", m.version, "dir", dir, "high", fmt.Sprint(high), "medium", fmt.Sprint(medium),
		"lead", m.cfg.Lead.String(), "refresh", m.cfg.Refresh.String())
	return m, nil
}

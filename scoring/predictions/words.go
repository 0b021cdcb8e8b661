package predictions

import (
	"fmt"
	"strings"
)

// Action is what the sender should do with a planned send. The values are
// the words written to the action column of predictions.csv; other
// systems match on them.
type Action string

// The actions, as written to predictions.csv.
const (
	ActionSuppress      Action = "suppress"
	ActionDefer24h      Action = "defer 24h"
	ActionThrottle      Action = "throttle"
	ActionFixTemplate   Action = "fix template"
	ActionRenewToken    Action = "renew token"
	ActionSendAsPlanned Action = "send as planned"
	ActionExploration   Action = "send as planned (exploration)"
)

// Actions lists every action in a fixed order: the order of summaries and
// of the sends_<action> columns of campaigns.csv.
var Actions = []Action{ActionSuppress, ActionDefer24h, ActionThrottle, ActionFixTemplate, ActionRenewToken, ActionSendAsPlanned, ActionExploration}

// actionColumns are the campaigns.csv columns counting each action's
// sends, in the order of Actions.
var actionColumns = [...]string{"sends_suppress", "sends_defer_24h", "sends_throttle", "sends_fix_template", "sends_renew_token", "sends_send_as_planned", "sends_exploration"}

// Index returns the position of a in Actions, or -1 for a word that is not
// an action.
func (a Action) Index() int {
	for i, b := range Actions {
		if a == b {
			return i
		}
	}
	return -1
}

// Column returns the campaigns.csv column counting the sends of a
// ("sends_defer_24h"), or "" for a word that is not an action.
func (a Action) Column() string {
	if i := a.Index(); i >= 0 {
		return actionColumns[i]
	}
	return ""
}

// ParseAction parses a cell of the action column. Case and surrounding
// spaces are ignored; an empty cell is ActionSendAsPlanned (a send with no
// recommendation goes out as planned).
func ParseAction(cell string) (Action, error) {
	n := Action(strings.ToLower(strings.TrimSpace(cell)))
	if n == "" {
		return ActionSendAsPlanned, nil
	}
	if n.Index() >= 0 {
		return n, nil
	}
	words := make([]string, len(Actions))
	for i, a := range Actions {
		words[i] = string(a)
	}
	return ActionSendAsPlanned, fmt.Errorf("unknown action %q (want one of %s)", cell, strings.Join(words, ", "))
}

// Risk is the band a send's failure probability falls in, from the model's
// stored thresholds.
type Risk uint8

// Risk bands, in increasing order.
const (
	RiskLow Risk = iota
	RiskMedium
	RiskHigh
)

// NumRisks is the number of risk bands.
const NumRisks = int(RiskHigh) + 1

var riskNames = [NumRisks]string{"low", "medium", "high"}

// String returns the word of the risk column: "low", "medium" or "high".
func (r Risk) String() string {
	if int(r) < len(riskNames) {
		return riskNames[r]
	}
	return fmt.Sprintf("risk(%d)", uint8(r))
}

// ParseRisk parses a cell of the risk column (case and surrounding spaces
// ignored).
func ParseRisk(cell string) (Risk, error) {
	n := strings.ToLower(strings.TrimSpace(cell))
	for i, w := range riskNames {
		if n == w {
			return Risk(i), nil
		}
	}
	return RiskLow, fmt.Errorf("unknown risk %q (want low, medium or high)", cell)
}

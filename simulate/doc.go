// Package simulate is a deterministic simulator of a WhatsApp Business
// sender's life: WhatsApp Business Accounts (WABAs) with phone numbers,
// templates and campaigns, and a population of recipients who read, reply,
// tire of marketing and opt out.
//
// Run plays the history window (Config.Days ending at Config.AsOf) and
// streams the resulting status events, in the history contract of package
// pipeline, to a Sink in non-decreasing timestamp order. The returned World
// holds the state at AsOf: World.Plan gives an upcoming campaign plan with
// risky cases in it, World.Outcomes continues the same world forward to tell
// what happens to each planned send, World.TokenExpiries tells when each
// WABA's access token expires as the sender knows it at AsOf, and
// World.Replay (or Replay) re-runs the plan with recommended actions
// applied and measures the failures they prevent. RawWriter writes the
// same history as the raw forms a sender has: its own send log and Meta's
// status webhooks.
//
// Every failure mechanism has a cause that is visible before the send, in
// the history or in the plan: messaging-limit tiers (131048), throughput
// (130429), pair rate (131056), the per-user marketing limit (131049),
// opt-outs (131050), invalid numbers (131026), the 24-hour service window
// (131047), paused and disabled templates (132015, 132016), template
// parameter bugs (132000, 132012), oversized media (131053), expired access
// tokens (190) and platform outages (131000, 131016, 500, 503). See
// docs/simulator.md.
//
// The simulated sender does not know the platform's hidden state: it
// learns of a paused or broken template, or an expired token, from the
// requests the API refuses. Watched campaigns are called off once the
// sender has reacted; unwatched campaigns and flows of triggered messages
// keep sending into the incident. So the history holds the cases the plan
// tests: sends whose cause of failure was visible hours before.
//
// WriteOutputs is the whole `failcast simulate` run: it plays a world and
// writes its history, plan, outcomes, token file and optionally the raw
// logs under one directory, through a staging directory so that a failed
// run leaves earlier outputs untouched. ReplayFromFiles is `failcast
// simulate replay`: it reads a plan and a scoring run's predictions and
// campaigns files and replays them.
//
// Everything is reproducible from Config.Seed. Random draws of a send are
// keyed on a hash of the seed and the send's identity, not on a shared
// stream, so changing a plan does not change the draws of other sends.
//
// The simulator is a tool that writes data in failcast's contracts, not a
// part of them: it sits beside the stages, not in package pipeline, and
// its replay reads scoring's predictions.csv and campaigns.csv through
// their contract, package scoring/predictions.
package simulate

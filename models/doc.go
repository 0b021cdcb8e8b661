// Package models holds what every learner in failcast shares: the dense
// feature Matrix. Learners live in sub-packages (gbdt, baseline), as do
// metrics, time-ordered evaluation, model artifacts and the registry.
//
// models knows only matrices, labels and scores. It never sees WhatsApp
// events, history files or feature names' meaning; the commands above it
// translate between the two.
package models

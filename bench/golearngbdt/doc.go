// Package golearngbdt adapts failcast's GBDT (models/gbdt) to golearn's
// base.Classifier, so that golearn's grids, cross-validation and
// evaluation.GetConfusionMatrix can be used with it in experiments.
//
// It is not on the production path: the training stage (package training)
// fits and evaluates gbdt models on models.Matrix directly, which is what
// the adapter converts a golearn grid to (a copy of every value), and
// uses golearn itself through models/baseline. The adapter lived in
// models/gbdt with no caller but its tests; it moved here so that
// models/gbdt holds only what training and scoring use.
package golearngbdt

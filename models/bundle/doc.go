// Package bundle is failcast's deployed model: a binary GBDT for P(fail)
// and a softmax GBDT for the class of a failure, stored together as one
// artifact directory (see models/artifact). The package owns the saved
// model contract: training writes a bundle with SetServing and Save;
// scoring and the champion comparison read it with LoadFor, which checks
// it against what the caller computes (Want: feature schema hash and
// names, number of classes, thresholds), then call Predict.
//
// Files of a bundle directory:
//
//	metadata.json   artifact metadata: schema hash, feature names, windows,
//	                metrics, thresholds ("high", "medium") and Extra
//	fail.gbdt       binary GBDT: P(fail)
//	family.gbdt     softmax GBDT over class indices 0..K-1, trained on
//	                failed rows only: P(class | fail)
//
// Class 0 is "no failure". Predict combines the two models:
// P(class 0) = 1 - P(fail) and, for c >= 1,
// P(class c) = P(fail) * P(c | fail) / sum over c' >= 1 of P(c' | fail).
// A bundle storing family maps (Serving.FamilyMaps, extra
// "family_calibration", calibrate.FamilyMaps) passes each P(class c)
// through its map, and P(fail) is then their sum.
//
// Typed views of the metadata: Serving (Bundle.Lead, Refresh,
// LikelyCodes), stored as the Extra keys "lead" and "refresh" (durations
// as strings such as "4h0m0s") and "likely_codes" (class name -> most
// frequent error code of that class in training), the layout earlier
// builds wrote, so their bundles still load; and Thresholds ("high",
// "medium"). A malformed field fails Load with a message naming it
// (extra.lead, ...).
//
// Like the rest of models, the package knows matrices and class indices,
// not what the classes mean.
package bundle

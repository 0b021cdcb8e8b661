package main

import (
	"math"
	"strings"
	"testing"
)

const trainLog = `{"time":"t","level":"INFO","msg":"features built","rows":402291,"features":97,"history_events_read":1470779,"seconds":3.6189999999999998}
not JSON: a summary line
{"time":"t","level":"INFO","msg":"candidate evaluated","model":"gbdt","valid_pr_auc":0.755,"fit_seconds":12.43,"train_rows":358822}
{"time":"t","level":"INFO","msg":"candidate evaluated","model":"random forest","valid_pr_auc":0.6,"fit_seconds":30.5,"train_rows":10000}
{"time":"t","level":"INFO","msg":"features built","rows":5,"seconds":1e-3,"nested":{"a":1}}
`

func TestLookupValue(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		q       fieldQuery
		want    string
		wantErr string
	}{
		{"last matching line wins", trainLog, fieldQuery{msg: "features built", key: "seconds"}, "1e-3", ""},
		{"field only on an earlier line", trainLog, fieldQuery{msg: "features built", key: "history_events_read"}, "1470779", ""},
		{"where selects the line", trainLog, fieldQuery{msg: "candidate evaluated", whereKey: "model", whereValue: "gbdt", key: "fit_seconds"}, "12.43", ""},
		{"where on another value", trainLog, fieldQuery{msg: "candidate evaluated", whereKey: "model", whereValue: "random forest", key: "train_rows"}, "10000", ""},
		{"string field", trainLog, fieldQuery{msg: "candidate evaluated", key: "model"}, "random forest", ""},
		{"full precision", trainLog, fieldQuery{msg: "features built", whereKey: "rows", whereValue: "402291", key: "seconds"}, "3.6189999999999998", ""},
		{"no such message", trainLog, fieldQuery{msg: "published", key: "seconds"}, "", `no log line with msg "published"`},
		{"no such field", trainLog, fieldQuery{msg: "features built", key: "bytes"}, "", `has field "bytes"`},
		{"not a scalar", trainLog, fieldQuery{msg: "features built", key: "nested"}, "", "not a scalar"},
		{"document", `{"rows": 1470779, "scan_rows_per_second": 2451487.8374289796, "dataset": "h"}`,
			fieldQuery{key: "scan_rows_per_second"}, "2451487.8374289796", ""},
		{"document string", `{"dataset": "out/sim/history"}`, fieldQuery{key: "dataset"}, "out/sim/history", ""},
		{"document without the field", `{"rows": 1}`, fieldQuery{key: "scan_seconds"}, "", `no field "scan_seconds"`},
		{"not a document", `rows: 1`, fieldQuery{key: "rows"}, "", "want one JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lookupValue(strings.NewReader(tt.in), "log.json", tt.q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "log.json") && !strings.Contains(err.Error(), "scalar") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzLookupValue(f *testing.F) {
	f.Add(trainLog, "features built", "seconds")
	f.Add(`{"rows": 1}`, "", "rows")
	f.Add(`{"msg":"x","k":"\u0000"}`, "x", "k")
	f.Fuzz(func(t *testing.T, in, msg, key string) {
		v, err := lookupValue(strings.NewReader(in), "f", fieldQuery{msg: msg, key: key})
		if err == nil && strings.ContainsAny(v, "{[") && !strings.HasPrefix(in, "{") {
			t.Fatalf("value %q from input that holds no JSON object", v)
		}
	})
}

const measurementsTSV = "# comment\n" +
	"1\t1470779\tsimulate\t1470779\tevents\t4.79\t\t320236\t3.5\tok\thistory 37M\n" +
	"1\t1470779\tscan\t1470779\tevents\t0.63\t2451487.8\t92284\t3.5\tok\t\n" +
	"1\t1470779\ttrain: feature build\t1470779\tevents\t3.62\t\t\t3.4\tok\t402291 examples\n" +
	"3\t4412337\tsimulate\t4412337\tevents\t14.37\t\t700000\t4.1\tok\t\n" +
	"3\t4412337\tscan\t0\tevents\t\t\t\t4.0\ttimed out after 1800 s\t\n" +
	"3\t4412337\texport\t0\tevents\t\t\t\t\tnot run\traw too big\n"

func TestParseMeasurements(t *testing.T) {
	ms, err := parseMeasurements(strings.NewReader(measurementsTSV), "m.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Fatalf("%d measurements, want 6", len(ms))
	}
	m := ms[0]
	if m.Scale != "1" || m.Events != 1470779 || m.Stage != "simulate" || m.Seconds != 4.79 || m.RSSKB != 320236 || m.Note != "history 37M" {
		t.Errorf("first measurement = %+v", m)
	}
	if got := ms[0].rate(); math.Abs(got-1470779/4.79) > 1e-6 {
		t.Errorf("rate from items/seconds = %v", got)
	}
	if got := ms[1].rate(); got != 2451487.8 {
		t.Errorf("explicit rate = %v, want 2451487.8", got)
	}
	if ms[2].RSSKB != -1 || !math.IsNaN(ms[4].Seconds) || ms[4].ok() || !math.IsNaN(ms[4].rate()) {
		t.Errorf("missing values: %+v, %+v", ms[2], ms[4])
	}
}

func TestParseMeasurementsErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"too few fields", "1\t2\tstage\n", "line 1: 3 tab-separated fields, want 11"},
		{"bad events", "1\tmany\ts\t1\tevents\t1\t\t\t\tok\t\n", "line 1 column events"},
		{"negative seconds", "1\t1\ts\t1\tevents\t-1\t\t\t\tok\t\n", "line 1 column seconds"},
		{"bad rss", "\n1\t1\ts\t1\tevents\t1\t\t1.5\t\tok\t\n", "line 2 column rss_kb"},
		{"empty status", "1\t1\ts\t1\tevents\t1\t\t\t\t\t\n", "empty stage or status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMeasurements(strings.NewReader(tt.in), "m.tsv")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "m.tsv") {
				t.Errorf("err = %v, want one naming m.tsv and containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParseMeasurements(f *testing.F) {
	f.Add(measurementsTSV)
	f.Add("1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n")
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := parseMeasurements(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Events < 0 || m.Items < 0 || m.Seconds < 0 || m.Rate < 0 || m.RSSKB < -1 {
				t.Fatalf("accepted %+v", m)
			}
		}
		var b strings.Builder
		if err := writeTables(&b, ms); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriteTables(t *testing.T) {
	ms, err := parseMeasurements(strings.NewReader(measurementsTSV), "m.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeTables(&b, ms); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"### Scale 1: 1,470,779 history events",
		"| simulate | 1,470,779 events | 4.79 | 307,052 | 313 | 3.5 | history 37M |",
		"| scan | 1,470,779 events | 0.63 | 2,451,488 | 90 | 3.5 |  |",
		"| train: feature build | 1,470,779 events | 3.62 | 406,293 | - | 3.4 | 402291 examples |",
		"### Scale 3: 4,412,337 history events",
		"| scan | - | - | - | - | 4.0 | timed out after 1800 s |",
		"| export | - | - | - | - | - | not run; raw too big |",
		"| stage | 1.47M ev: s | s / 1M ev | RSS MB | 4.41M ev: s | s / 1M ev | RSS MB |",
		"| simulate | 4.79 | 3.26 | 313 | 14.37 | 3.26 | 684 |",
		"| train: feature build | 3.62 | 2.46 | - | - | - | - |",
		"| export | - | - | - | - | - | - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
}

func TestThousands(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0"}, {12, "12"}, {999.6, "1,000"}, {1234567, "1,234,567"}, {-1234, "-1,234"}, {math.NaN(), "-"}, {math.Inf(1), "-"}} {
		if got := thousands(tt.v); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestWriteTargets(t *testing.T) {
	pts := []point{{scale: "1", events: 1_000_000, stages: []measurement{
		{Stage: stageExport, Items: 1_000_000, Seconds: 5, RSSKB: 500 * 1024, Status: "ok"},
		{Stage: stageExportBytes, Items: 800, Seconds: 2, RSSKB: -1, Status: "ok"},
		{Stage: stagePlanScored, Items: 1_000_000, Seconds: 2, RSSKB: -1, Status: "ok"},
		{Stage: "score 1000000-send plan, --state-cache warm (whole run)", Items: 1_000_000, Seconds: math.NaN(), RSSKB: -1, Status: "failed (exit 1)"},
		{Stage: stagePeerJoin, Items: 400_000, Seconds: 20, RSSKB: -1, Status: "ok"},
		{Stage: stageTrain, Items: 1_000_000, Seconds: 10, RSSKB: -1, Status: "ok"},
		{Stage: "score 1000000-send plan (whole run)", Items: 1_000_000, Seconds: 5, RSSKB: -1, Status: "ok"},
		{Stage: stagePeerPath, Items: 400_000, Seconds: 40, RSSKB: -1, Status: "ok"},
	}}, {scale: "3", events: 3_000_000, stages: []measurement{
		{Stage: stageExport, Items: 3_000_000, Seconds: 5, RSSKB: 100 * 1024, Status: "ok"},
	}}}
	var b strings.Builder
	if err := writeTargets(&b, pts); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"| export: NDJSON end to end, MB/s (target 4) | >= 200 | 400: met | - |",
		"| export: peak RSS, GB (target 4: <= 2 at 50M events; bounded by --memory-limit, not the input) | <= 2 | 0.52 at 1,000,000 events: met | 0.10 at 3,000,000 events: met |",
		"| score: featurize + predict plan, sends/s (target 5) | >= 400,000 | 500,000: met | - |",
		"| score: whole run with a warm state cache, sends/s (target 5) | >= 1,000,000 | - | - |",
		"| export time / pandas read + join time, same NDJSON (peer) | <= 1 | 0.25x (5.0 s / 20.0 s): met | - |",
		"| whole path (export + train + score) / pandas + XGBoost whole path (peer; issue goal: several times faster) | <= 0.33 | 0.50x (20.0 s / 40.0 s): **not met** | - |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("targets table lacks %q:\n%s", want, got)
		}
	}
}

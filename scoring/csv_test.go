package scoring

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline"

	"github.com/failcast/failcast/scoring/predictions"
)

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"c1", "c1"},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+1 555", "'+1 555"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		{"0.5000", "0.5000"},
		{"h:0123", "h:0123"},
	}
	for _, tt := range tests {
		if got := SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatProb(t *testing.T) {
	tests := []struct {
		p    float64
		want string
	}{{0, "0.0000"}, {1, "1.0000"}, {0.04204, "0.0420"}, {0.12345, "0.1235"}, {0.99996, "1.0000"}, {-0.1, "0.0000"}, {1.2, "1.0000"}, {1e-9, "0.0000"}}
	for _, tt := range tests {
		if got := FormatProb(tt.p); got != tt.want {
			t.Errorf("FormatProb(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestOutputRecipient(t *testing.T) {
	tests := []struct{ in, want string }{
		{"h:0123456789abcdef", "h:0123456789abcdef"},
		{"+55 11 98765-4321", "*********4321"},
		{"5511987654321", "*********4321"},
		{"*******4321", "*******4321"},
		{"=cmd|'/c calc'", ""},
	}
	for _, tt := range tests {
		if got := OutputRecipient(tt.in); got != tt.want {
			t.Errorf("OutputRecipient(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// writePredictions scores sends (with P(fail) ps and the recipient family)
// and returns predictions.csv as written.
func writePredictions(t *testing.T, sends []pipeline.PlannedSend, ps []float64) []byte {
	t.Helper()
	sc, err := NewScorer(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	pfam := make([][]float64, len(sends))
	for i := range pfam {
		pfam[i] = familyProbs(pipeline.FamilyRecipient, ps[i])
		pfam[i][pipeline.FamilyTransient] = ps[i] / 7
	}
	preds, err := sc.Score(nil, Batch{Sends: sends, PFail: ps, PFamily: pfam})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewPredictionWriter(&buf, "=v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(preds); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPredictionWriterFormat(t *testing.T) {
	a := testSend("s-1")
	a.ScheduledAt = testAsOf + 3_723_456_789 // 01:02:03.456789
	evil := testSend("s-2")
	evil.CampaignID = `=HYPERLINK("http://evil.example","click")`
	evil.SendID = "-1+1"
	evil.PhoneNumberID = "@pn"
	evil.Recipient = "+5511987654321"
	data := writePredictions(t, []pipeline.PlannedSend{a, evil}, []float64{0.123456, 0.7})

	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("predictions.csv is not valid CSV: %v\n%s", err, data)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want header + 2", len(recs))
	}
	if !slices.Equal(recs[0], predictions.Columns()) {
		t.Errorf("header %v", recs[0])
	}
	col := func(r []string, name string) string { return r[slices.Index(recs[0], name)] }
	r1, r2 := recs[1], recs[2]
	checks := []struct{ got, want string }{
		{col(r1, "scheduled_at"), "2026-11-01T01:02:03.456Z"},
		{col(r1, "p_fail"), "0.1235"},
		{col(r1, "p_recipient"), "0.1235"},
		{col(r1, "p_transient"), "0.0176"},
		{col(r1, "p_auth"), "0.0000"},
		{col(r1, "risk"), "low"},
		{col(r1, "likely_family"), "recipient"},
		{col(r1, "likely_code"), "131049"},
		{col(r1, "warning"), ""},
		{col(r1, "action"), "send as planned"},
		{col(r1, "exploration"), "false"},
		{col(r1, "stale_features"), "false"},
		{col(r1, "model_version"), "'=v1"},
		{col(r2, "send_id"), "'-1+1"},
		{col(r2, "campaign_id"), `'=HYPERLINK("http://evil.example","click")`},
		{col(r2, "phone_number_id"), "'@pn"},
		{col(r2, "recipient"), "*********4321"},
		{col(r2, "risk"), "high"},
		{col(r2, "action"), "defer 24h"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, r := range recs {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q starts with a formula character", cell)
			}
		}
	}
	// RFC 4180: the quoted campaign id doubles its quotes; rows end in \n
	// (encoding/csv's default, which every CSV reader accepts).
	if !bytes.Contains(data, []byte(`"'=HYPERLINK(""http://evil.example"",""click"")"`)) {
		t.Errorf("campaign id not quoted per RFC 4180:\n%s", data)
	}
	if bytes.Contains(data, []byte("5511987654321")) {
		t.Error("raw phone number leaked into predictions.csv")
	}
}

func FuzzPredictionCSV(f *testing.F) {
	f.Add("s1", "c1", "h:00", "promo", "=1+1")
	f.Add("-x", "@c", "+55 11 9", "a,b", "line\nbreak")
	f.Add("\"q\"", "\t", "\r", "", "ü=")
	f.Fuzz(func(t *testing.T, sendID, campaignID, recipient, template, phone string) {
		s := testSend(sendID)
		s.CampaignID, s.Recipient, s.Template, s.PhoneNumberID = campaignID, recipient, template, phone
		data := writePredictions(t, []pipeline.PlannedSend{s}, []float64{0.6})
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("unreadable CSV: %v", err)
		}
		if len(recs) != 2 || len(recs[1]) != len(predictionColumns) {
			t.Fatalf("got %d records, want 2 of %d fields", len(recs), len(predictionColumns))
		}
		for _, cell := range recs[1] {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q starts with a formula character", cell)
			}
		}
		got := recs[1][slices.Index(predictionColumns, "send_id")]
		if want := SafeCell(sendID); !strings.Contains(sendID, "\r") && got != want {
			t.Fatalf("send id %q came back as %q, want %q", sendID, got, want)
		}
	})
}

// FuzzAppendCSVField: the prediction writer's CSV records are byte for
// byte what encoding/csv writes (predictions.csv did not change when the
// writer stopped using it).
func FuzzAppendCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", `\.`, "a,b", `say "hi"`, "line\nbreak", "cr\rlf\r\n", " lead", "\tlead", "\vv", "\u0085nel", "\u00a0nbsp", "\u2003em", "\xa0bad", "ü=", `"`, `""`, "'=x"} {
		f.Add(s, "second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{a, b}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if got := appendCSVRecord(nil, []string{a, b}); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendCSVRecord(%q, %q) = %q, encoding/csv writes %q", a, b, got, want.Bytes())
		}
	})
}

// TestPredictionWriterWarningRuns: a warning written for a run of sends
// (formatted once) reads back as each send's own, across Write calls,
// empty warnings and warnings that need quoting or SafeCell.
func TestPredictionWriterWarningRuns(t *testing.T) {
	warnings := []string{"a, quoted", "a, quoted", "plain", "", "plain", "=formula", "=formula", `say "hi"`, "a, quoted", ""}
	var buf bytes.Buffer
	w, err := NewPredictionWriter(&buf, "v1")
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < len(warnings); lo += 3 {
		var preds []Prediction
		for i := lo; i < min(lo+3, len(warnings)); i++ {
			preds = append(preds, Prediction{Send: testSend(fmt.Sprint("s", i)), Warning: warnings[i], Action: ActionSendAsPlanned})
		}
		if err := w.Write(preds); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(warnings)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(warnings)+1)
	}
	col := slices.Index(recs[0], "warning")
	for i, want := range warnings {
		if got := recs[i+1][col]; got != SafeCell(want) {
			t.Errorf("row %d: warning %q, want %q", i, got, SafeCell(want))
		}
	}
}

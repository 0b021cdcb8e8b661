package predictions_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/failcast/failcast/scoring/predictions"
)

func TestReadActions(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		want    map[string]predictions.Action
		wantErr string
	}{
		{"by header name", "risk,action,send_id\nhigh,suppress,s1\nlow,send as planned,s2\n",
			map[string]predictions.Action{"s1": predictions.ActionSuppress, "s2": predictions.ActionSendAsPlanned}, ""},
		{"quoted and BOM", "\ufeffsend_id,action\n\"s,1\",\"defer 24h\"\n", map[string]predictions.Action{"s,1": predictions.ActionDefer24h}, ""},
		{"exploration", "send_id,action\ns1,send as planned (exploration)\n", map[string]predictions.Action{"s1": predictions.ActionExploration}, ""},
		{"missing column", "send_id,risk\ns1,high\n", nil, `no column "action"`},
		{"bad action", "send_id,action\ns1,explode\n", nil, "row 2: column action"},
		{"empty send id", "send_id,action\n,suppress\n", nil, "row 2: column send_id"},
		{"short row", "a,b,send_id,action\ns1\n", nil, "row 2"},
		{"empty file", "", nil, "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := predictions.ReadActions("predictions.csv", strings.NewReader(tt.csv))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "predictions.csv") {
					t.Errorf("error %v, want one naming the file and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("send %s: %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestReadCampaignRates(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		want    map[string]float64
		wantErr bool
	}{
		{"rates and empties", "campaign_id,planned_sends,recommended_rate_mps\nc1,10,72\nc2,5,\n", map[string]float64{"c1": 72}, false},
		{"negative", "campaign_id,recommended_rate_mps\nc1,-3\n", nil, true},
		{"not a number", "campaign_id,recommended_rate_mps\nc1,fast\n", nil, true},
		{"no column", "campaign_id\nc1\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := predictions.ReadCampaignRates("campaigns.csv", strings.NewReader(tt.csv))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error=%v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("campaign %s: %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func FuzzReadActions(f *testing.F) {
	f.Add("send_id,action\ns1,suppress\ns2,defer 24h\n")
	f.Add("x,send_id,action\n1,\"a\"\"b\",throttle\n")
	f.Add("send_id,action\n\"unterminated\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := predictions.ReadActions("p.csv", strings.NewReader(in))
		if err != nil {
			if !strings.Contains(err.Error(), "p.csv") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		for id, a := range got {
			if id == "" || !slices.Contains(predictions.Actions, a) {
				t.Errorf("bad entry %q -> %q", id, a)
			}
		}
	})
}

func FuzzReadCampaignRates(f *testing.F) {
	f.Add("campaign_id,recommended_rate_mps\nc1,80\nc2,\n")
	f.Add("campaign_id,recommended_rate_mps\nc1,NaN\n")
	f.Add("campaign_id,recommended_rate_mps\nc1,1e400\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := predictions.ReadCampaignRates("c.csv", strings.NewReader(in))
		if err != nil {
			if !strings.Contains(err.Error(), "c.csv") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		for id, r := range got {
			if !(r > 0) || r > 1e308 {
				t.Errorf("campaign %q: rate %v", id, r)
			}
		}
	})
}

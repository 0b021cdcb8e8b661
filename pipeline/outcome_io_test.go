package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteOutcomesCSV(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []PlanOutcome
		want     string
	}{
		{"no outcomes", nil, "send_id,failed,error_code,error_family\n"},
		{"delivered: error_code empty, family none",
			[]PlanOutcome{{SendID: "bf-1", ErrorCode: NoErrorCode}},
			"send_id,failed,error_code,error_family\nbf-1,false,,none\n"},
		{"failed with a known code",
			[]PlanOutcome{{SendID: "bf-2", Failed: true, ErrorCode: 131049}},
			"send_id,failed,error_code,error_family\nbf-2,true,131049,recipient\n"},
		{"code 0 is a real code",
			[]PlanOutcome{{SendID: "bf-3", Failed: true, ErrorCode: 0}},
			"send_id,failed,error_code,error_family\nbf-3,true,0,auth\n"},
		{"unknown code",
			[]PlanOutcome{{SendID: "bf-4", Failed: true, ErrorCode: 999999}},
			"send_id,failed,error_code,error_family\nbf-4,true,999999,unknown\n"},
		{"send id quoted when needed",
			[]PlanOutcome{{SendID: `a,"b"`, ErrorCode: NoErrorCode}},
			"send_id,failed,error_code,error_family\n\"a,\"\"b\"\"\",false,,none\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outcomes.csv")
			if err := WriteOutcomes(path, tc.outcomes); err != nil {
				t.Fatal(err)
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != tc.want {
				t.Fatalf("CSV:\n%s\nwant:\n%s", text, tc.want)
			}
			got, err := ReadOutcomes(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.outcomes) {
				t.Fatalf("read back %+v, want %+v", got, tc.outcomes)
			}
		})
	}
}

func TestReadOutcomesCSV(t *testing.T) {
	none := NoErrorCode
	tests := []struct {
		name    string
		text    string
		want    []PlanOutcome
		wantErr string // substring of the error; "" for success
		row     int    // RowError row (0: not a row error)
		column  string // RowError column
	}{
		{name: "as written",
			text: "send_id,failed,error_code,error_family\ns1,false,,none\ns2,true,131026,recipient\n",
			want: []PlanOutcome{{"s1", false, none}, {"s2", true, 131026}}},
		{name: "written back by pandas (to_csv after read_csv)",
			text: "send_id,failed,error_code,error_family\ns1,False,,none\ns2,True,131026.0,recipient\ns3,True,0.0,auth\n",
			want: []PlanOutcome{{"s1", false, none}, {"s2", true, 131026}, {"s3", true, 0}}},
		{name: "columns in another order, extra columns, no error_family",
			text: "error_code,note,failed,send_id\n131050,x,TRUE,a\n,y,0,b\n",
			want: []PlanOutcome{{"a", true, 131050}, {"b", false, none}}},
		{name: "byte order mark, CRLF, spaces",
			text: "\ufeffsend_id , failed , error_code\r\n s1 , true , 131049 \r\n",
			want: []PlanOutcome{{"s1", true, 131049}}},
		{name: "header only", text: "send_id,failed,error_code\n", want: nil},
		{name: "empty file", text: "", wantErr: "empty file"},
		{name: "missing column", text: "send_id,error_code\ns1,\n", wantErr: "missing column failed"},
		{name: "bad failed", text: "send_id,failed,error_code\ns1,yes,\n",
			wantErr: `want true or false, got "yes"`, row: 2, column: ColFailed},
		{name: "empty failed", text: "send_id,failed,error_code\ns1,false,\ns2,,\n",
			wantErr: "want true or false", row: 3, column: ColFailed},
		{name: "missing send id", text: "send_id,failed,error_code\n,false,\n",
			wantErr: "missing send id", row: 2, column: ColSendID},
		{name: "code not a number", text: "send_id,failed,error_code\ns1,true,abc\n",
			wantErr: `got "abc"`, row: 2, column: ColErrorCode},
		{name: "code not whole", text: "send_id,failed,error_code\ns1,true,1.5\n",
			wantErr: `got "1.5"`, row: 2, column: ColErrorCode},
		{name: "code beyond int32", text: "send_id,failed,error_code\ns1,true,99999999999\n",
			wantErr: `got "99999999999"`, row: 2, column: ColErrorCode},
		{name: "code NaN", text: "send_id,failed,error_code\ns1,true,NaN\n",
			wantErr: `got "NaN"`, row: 2, column: ColErrorCode},
		{name: "short row", text: "send_id,failed,error_code\ns1,true\n",
			wantErr: "want 3 fields", row: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outcomes.csv")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadOutcomes(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want it to name the file and contain %q", err, tc.wantErr)
			}
			var re RowError
			if tc.row != 0 && (!errors.As(err, &re) || re.Row != tc.row || re.Column != tc.column) {
				t.Fatalf("err = %#v, want RowError row %d column %q", err, tc.row, tc.column)
			}
		})
	}
}

func TestParseWholeNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"131026", 131026, true},
		{"-1", -1, true},
		{"131026.0", 131026, true},
		{"1.31026e5", 131026, true},
		{"0.0", 0, true},
		{"1.5", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1e300", 0, false},
		{"", 0, false},
		{"12abc", 0, false},
	}
	for _, tc := range tests {
		n, ok := parseWholeNumber(tc.in)
		if n != tc.want || ok != tc.ok {
			t.Errorf("parseWholeNumber(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}

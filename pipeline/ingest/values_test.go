package ingest

import (
	"slices"
	"testing"
)

func TestParseTime(t *testing.T) {
	const sec = 1_790_000_000
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1790000000", sec * 1e6, true},
		{"1790000000.25", sec*1e6 + 250_000, true},
		{"1790000000123", sec*1e6 + 123_000, true},
		{"1790000000123.5", sec*1e6 + 123_500, true},
		{"1790000000123456", sec*1e6 + 123_456, true},
		{"2026-09-21T14:13:20Z", sec * 1e6, true},
		{"2026-09-21T14:13:20.120Z", sec*1e6 + 120_000, true},
		{"2026-09-21T16:13:20.000001+02:00", sec*1e6 + 1, true},
		{"2026-09-21 14:13:20Z", sec * 1e6, true},
		{"", 0, false},
		{"0", 0, false},           // 1970: a placeholder, not a time
		{"-1790000000", 0, false}, // negative
		{"1.79e9", 0, false},
		{"1790000000.", 0, false},
		{"1790000000x", 0, false},
		{"17900000001234567890", 0, false},
		{"2126-01-01T00:00:00Z", 0, false},
		{"2026-13-01T00:00:00Z", 0, false},
		{"21/09/2026", 0, false},
	}
	for _, tt := range tests {
		got, err := parseTime([]byte(tt.in), nil)
		if (err == nil) != tt.ok || tt.ok && got != tt.want {
			t.Errorf("parseTime(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		bits uint
		want int64
		ok   bool
	}{
		{"131026", 32, 131026, true},
		{"+7", 32, 7, true},
		{"-1", 32, -1, true},
		{"2147483647", 32, 2147483647, true},
		{"2147483648", 32, 0, false},
		{"-2147483648", 32, -2147483648, true},
		{"-2147483649", 32, 0, false},
		{"9223372036854775807", 64, 9223372036854775807, true},
		{"9223372036854775808", 64, 0, false},
		{"99999999999999999999999", 64, 0, false},
		{"", 32, 0, false},
		{"-", 32, 0, false},
		{"12a", 32, 0, false},
		{"1.5", 64, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseInt([]byte(tt.in), tt.bits)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseInt(%q, %d) = %d, %v; want %d, %v", tt.in, tt.bits, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"request.to", []string{"request", "to"}, true},
		{"response.messages[0].id", []string{"response", "messages", "0", "id"}, true},
		{"response.messages.0.id", []string{"response", "messages", "0", "id"}, true},
		{"a[1][2]", []string{"a", "1", "2"}, true},
		{"sent_at", []string{"sent_at"}, true},
		{"a[x]", nil, false},
		{"a[0", nil, false},
		{"", nil, false},
		{"...", nil, false},
	}
	for _, tt := range tests {
		got, err := splitPath(tt.in)
		if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("splitPath(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCampaignFromCallback(t *testing.T) {
	tests := []struct{ in, want string }{
		{"campaign=black-friday-2026", "black-friday-2026"},
		{"src=crm;campaign=c1", "c1"},
		{"campaign_id=c2&x=1", "c2"},
		{"x=1, campaign=c3", "c3"},
		{"order 17", ""},
		{"", ""},
		{"campaign=", ""},
	}
	for _, tt := range tests {
		if got := string(campaignFromCallback([]byte(tt.in))); got != tt.want {
			t.Errorf("campaignFromCallback(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHasControl(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{`{"a":"b"}`, false},
		{"{\"a\":\"b\tc\"}", true},
		{"0123456\x1f", true},
		{"01234567\x00", true},
		{"\x01abcdefghijklmnop", true},
		{"abcdefgh ijklmnop~\x7f\x80\xff", false},
		{"abcdefgh\x1fijklmnop", true},
		{"\x20\x20\x20\x20\x20\x20\x20\x20\x20", false},
	} {
		naive := false
		for _, c := range []byte(tc.in) {
			naive = naive || c < 0x20
		}
		if got := hasControl([]byte(tc.in)); got != tc.want || naive != tc.want {
			t.Errorf("hasControl(%q) = %v (naive %v), want %v", tc.in, got, naive, tc.want)
		}
	}
}

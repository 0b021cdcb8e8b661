package pipeline

import "testing"

func TestMediaLimit(t *testing.T) {
	tests := []struct {
		messageType string
		limit       int64
		ok          bool
	}{
		{"image", 5 << 20, true},
		{"video", 16 << 20, true},
		{"document", 100 << 20, true},
		{"sticker", 500 << 10, true},
		{"template", 5 << 20, true}, // a media header is taken for an image
		{"text", 0, false},
		{"interactive", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		limit, ok := MediaLimit(tc.messageType)
		if limit != tc.limit || ok != tc.ok {
			t.Errorf("MediaLimit(%q) = %d, %v; want %d, %v", tc.messageType, limit, ok, tc.limit, tc.ok)
		}
	}
}

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

func TestSendMediaLimit(t *testing.T) {
	tests := []struct {
		template, messageType string
		limit                 int64
		kind                  string
		assumed, ok           bool
	}{
		{"promo", "video", 16 << 20, "video", false, true}, // a template with a video header
		{"promo", "document", 100 << 20, "document", false, true},
		{"promo", "image", 5 << 20, "image", false, true},
		{"promo", "text", 5 << 20, "image", true, true}, // header kind unknown: an image
		{"", "template", 5 << 20, "image", true, true},
		{"promo", "sticker", 5 << 20, "image", true, true}, // not a header kind
		{"", "video", 16 << 20, "video", false, true},      // free-form
		{"", "text", 0, "text", false, false},
	}
	for _, tt := range tests {
		limit, kind, assumed, ok := SendMediaLimit(tt.template, tt.messageType)
		if limit != tt.limit || kind != tt.kind || assumed != tt.assumed || ok != tt.ok {
			t.Errorf("SendMediaLimit(%q, %q) = %d, %q, %v, %v; want %d, %q, %v, %v", tt.template, tt.messageType,
				limit, kind, assumed, ok, tt.limit, tt.kind, tt.assumed, tt.ok)
		}
		if got := IsTemplateSend(tt.template, tt.messageType); got != (tt.template != "" || tt.messageType == "template") {
			t.Errorf("IsTemplateSend(%q, %q) = %v", tt.template, tt.messageType, got)
		}
	}
}

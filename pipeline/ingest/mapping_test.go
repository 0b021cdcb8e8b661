package ingest_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/failcast/failcast/pipeline/ingest"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		spec    string
		want    ingest.Mapping
		errWant string
	}{
		{"", ingest.Mapping{}, ""},
		{"recipient=request.to,template=request.template.name", ingest.Mapping{"recipient": "request.to", "template": "request.template.name"}, ""},
		{" campaign_id = meta.campaign , wamid=response.messages[0].id ", ingest.Mapping{"campaign": "meta.campaign", "message_id": "response.messages[0].id"}, ""},
		{"template_language=lang", ingest.Mapping{"language": "lang"}, ""},
		{"recipient", nil, "want field=path"},
		{"recipient=", nil, "want field=path"},
		{"colour=x", nil, `unknown field "colour"`},
		{"recipient=a,to=b", nil, "mapped twice"},
		{"message_id=response.messages[x].id", nil, "not a number"},
	}
	for _, tt := range tests {
		got, err := ingest.ParseMapping(tt.spec)
		if tt.errWant != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errWant) {
				t.Errorf("ParseMapping(%q) error %v, want one containing %q", tt.spec, err, tt.errWant)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ParseMapping(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
		}
	}
}

func TestDefaultMappingMatchesReferenceLog(t *testing.T) {
	m := ingest.DefaultMapping()
	for field, path := range map[string]string{
		ingest.FieldRecipient: "request.to", ingest.FieldTemplate: "request.template.name",
		ingest.FieldLanguage: "request.template.language.code", ingest.FieldMessageID: "response.messages[0].id",
		ingest.FieldErrorCode: "response.error.code", ingest.FieldErrorDetails: "response.error.error_data.details",
	} {
		if m[field] != path {
			t.Errorf("default path of %s = %q, want %q", field, m[field], path)
		}
	}
	if _, err := ingest.New(ingest.Options{NoHash: true, Mapping: ingest.Mapping{"nonsense": "x"}}); err == nil {
		t.Error("New accepted a mapping with an unknown field")
	}
}

package ingest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/failcast/failcast/internal/colmatch"
)

// Send-log field names, as used in a Mapping and in the --map flag.
const (
	FieldRequestID     = "request_id"
	FieldSentAt        = "sent_at"
	FieldWABAID        = "waba_id"
	FieldPhoneNumberID = "phone_number_id"
	FieldRecipient     = "recipient"
	FieldCampaign      = "campaign"
	FieldTemplate      = "template"
	FieldLanguage      = "language"
	FieldCategory      = "category"
	FieldMessageType   = "message_type"
	FieldMediaBytes    = "media_bytes"
	FieldExploration   = "exploration"
	FieldMessageID     = "message_id"
	FieldErrorCode     = "error_code"
	FieldErrorMessage  = "error_message"
	FieldErrorDetails  = "error_details"
	FieldCountry       = "country"
)

// field indexes the send-log fields in sendLogFields order.
type field int

const (
	fRequestID field = iota
	fSentAt
	fWABAID
	fPhoneNumberID
	fRecipient
	fCampaign
	fTemplate
	fLanguage
	fCategory
	fMessageType
	fMediaBytes
	fExploration
	fMessageID
	fErrorCode
	fErrorMessage
	fErrorDetails
	fCountry
	numFields
)

// fieldSpec describes one send-log field: its name, its default path (a
// dotted JSON path, which is also the first CSV header tried) and other
// names accepted for it, in --map keys and as CSV headers.
type fieldSpec struct {
	name    string
	path    string
	aliases []string
}

var sendLogFields = [numFields]fieldSpec{
	fRequestID:     {FieldRequestID, "request_id", []string{"send_id"}},
	fSentAt:        {FieldSentAt, "sent_at", []string{"timestamp", "created_at"}},
	fWABAID:        {FieldWABAID, "waba_id", nil},
	fPhoneNumberID: {FieldPhoneNumberID, "phone_number_id", nil},
	fRecipient:     {FieldRecipient, "request.to", []string{"to", "recipient_id", "phone"}},
	fCampaign:      {FieldCampaign, "campaign_id", []string{"campaign_id"}},
	fTemplate:      {FieldTemplate, "request.template.name", []string{"template_name"}},
	fLanguage:      {FieldLanguage, "request.template.language.code", []string{"template_language", "language_code"}},
	fCategory:      {FieldCategory, "category", nil},
	fMessageType:   {FieldMessageType, "request.type", []string{"type"}},
	fMediaBytes:    {FieldMediaBytes, "media_bytes", nil},
	fExploration:   {FieldExploration, "exploration", nil},
	fMessageID:     {FieldMessageID, "response.messages[0].id", []string{"wamid"}},
	fErrorCode:     {FieldErrorCode, "response.error.code", []string{"code"}},
	fErrorMessage:  {FieldErrorMessage, "response.error.message", nil},
	fErrorDetails:  {FieldErrorDetails, "response.error.error_data.details", nil},
	fCountry:       {FieldCountry, "country", []string{"recipient_country", "country_code"}},
}

// lookupField finds a field by its name or one of its aliases.
func lookupField(name string) (field, bool) {
	for f, s := range sendLogFields {
		if s.name == name || slices.Contains(s.aliases, name) {
			return field(f), true
		}
	}
	return 0, false
}

// Mapping says where each send-log field is found: a dotted JSON path such
// as "request.template.language.code" or "response.messages[0].id" for
// NDJSON, a header name for CSV. Keys are field names (FieldRecipient,
// ...). Fields not in the mapping use their defaults (see DefaultMapping).
type Mapping map[string]string

// DefaultMapping returns the mapping that matches a send log written like
// the Cloud API request and response bodies (see docs/export.md).
func DefaultMapping() Mapping {
	m := make(Mapping, numFields)
	for _, s := range sendLogFields {
		m[s.name] = s.path
	}
	return m
}

// ParseMapping parses a --map flag value: comma-separated field=path pairs
// such as "recipient=request.to,template=request.template.name". Field
// names may be given by an alias ("campaign_id" for "campaign"); the result
// is keyed by the canonical names. An empty spec gives an empty mapping.
func ParseMapping(spec string) (Mapping, error) {
	pairs, err := colmatch.ParsePairs(spec, "path")
	if err != nil {
		return nil, err
	}
	m := Mapping{}
	for i, p := range pairs {
		f, known := lookupField(p.Field)
		if !known {
			return nil, fmt.Errorf("mapping pair %d %s=%s: unknown field %q (want one of %s)", i+1, p.Field, p.Column, p.Field, strings.Join(fieldNames(), ", "))
		}
		if _, err := splitPath(p.Column); err != nil {
			return nil, fmt.Errorf("mapping pair %d %s=%s: %w", i+1, p.Field, p.Column, err)
		}
		canon := sendLogFields[f].name
		if _, dup := m[canon]; dup {
			return nil, fmt.Errorf("mapping pair %d %s=%s: field %q mapped twice", i+1, p.Field, p.Column, canon)
		}
		m[canon] = p.Column
	}
	return m, nil
}

func fieldNames() []string {
	names := make([]string, numFields)
	for f, s := range sendLogFields {
		names[f] = s.name
	}
	return names
}

// resolve returns the path of every field: the mapping's where given,
// the default otherwise. It reports which fields the mapping set.
func (m Mapping) resolve() (paths [numFields]string, mapped [numFields]bool, err error) {
	for name, path := range m {
		f, ok := lookupField(name)
		if !ok {
			return paths, mapped, fmt.Errorf("mapping: unknown field %q (want one of %s)", name, strings.Join(fieldNames(), ", "))
		}
		if path == "" {
			return paths, mapped, fmt.Errorf("mapping: empty path for field %q", name)
		}
		paths[f], mapped[f] = path, true
	}
	for f, s := range sendLogFields {
		if !mapped[f] {
			paths[f] = s.path
		}
	}
	return paths, mapped, nil
}

// splitPath splits a dotted JSON path into keys; "a.b[0].c" and "a.b.0.c"
// are the same path (array elements are addressed by decimal index).
func splitPath(path string) ([]string, error) {
	var keys []string
	for part := range strings.SplitSeq(path, ".") {
		for {
			open := strings.IndexByte(part, '[')
			if open < 0 {
				break
			}
			end := strings.IndexByte(part[open:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: unclosed '['", path)
			}
			idx := part[open+1 : open+end]
			if idx == "" || strings.Trim(idx, "0123456789") != "" {
				return nil, fmt.Errorf("path %q: index %q is not a number", path, idx)
			}
			if open > 0 {
				keys = append(keys, part[:open])
			}
			keys = append(keys, idx)
			part = part[open+end+1:]
		}
		if part != "" {
			keys = append(keys, part)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("path %q has no keys", path)
	}
	return keys, nil
}

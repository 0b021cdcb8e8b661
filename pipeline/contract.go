package pipeline

import (
	"fmt"
	"time"
)

// NoErrorCode marks an event without an error. Meta's code 0
// (AuthException) is a real code, so absence needs its own value.
const NoErrorCode int32 = -1

// NoMediaBytes marks a send with no media or an unknown media size.
const NoMediaBytes int64 = -1

// Status is the lifecycle state an event reports for a message.
type Status uint8

// Statuses in lifecycle order. Accepted and Inbound extend Meta's four
// webhook statuses: Accepted is the send request as the sender's own log
// records it (the API returned a wamid), Inbound is a message the
// recipient sent to the business (it opens the 24-hour service window).
const (
	StatusUnknown Status = iota
	StatusAccepted
	StatusSent
	StatusDelivered
	StatusRead
	StatusFailed
	StatusInbound
)

var statusNames = [...]string{"unknown", "accepted", "sent", "delivered", "read", "failed", "inbound"}

// String returns the contract's lower-case name of s.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus parses a contract status name such as "delivered".
func ParseStatus(name string) (Status, error) {
	for i, n := range statusNames {
		if i > 0 && n == name {
			return Status(i), nil
		}
	}
	return StatusUnknown, fmt.Errorf("unknown status %q (want accepted, sent, delivered, read, failed or inbound)", name)
}

// Categories of a WhatsApp conversation (pricing category of a template).
const (
	CategoryMarketing      = "marketing"
	CategoryUtility        = "utility"
	CategoryAuthentication = "authentication"
	CategoryService        = "service"
)

// Categories lists the valid categories in a fixed order.
var Categories = []string{CategoryMarketing, CategoryUtility, CategoryAuthentication, CategoryService}

// MessageTypes lists the Cloud API message types the contract accepts, in a
// fixed order (the order is used for one-hot features).
var MessageTypes = []string{"text", "template", "image", "video", "audio", "document", "sticker", "interactive", "location", "contacts", "reaction"}

// MediaLimitBytes is the Cloud API's size limit for each media message type.
var MediaLimitBytes = map[string]int64{
	"image":    5 << 20,
	"video":    16 << 20,
	"audio":    16 << 20,
	"document": 100 << 20,
	"sticker":  500 << 10,
}

// MediaLimit returns the size limit of the media of a send of the given
// message type, and whether the type carries media. A template send
// carries media in its header when media_bytes is set; the contract does
// not say the header's kind, so failcast takes it for an image, the most
// common header and the strictest limit of the header kinds (image 5 MB,
// video 16 MB, document 100 MB).
func MediaLimit(messageType string) (int64, bool) {
	if messageType == "template" {
		return MediaLimitBytes["image"], true
	}
	l, ok := MediaLimitBytes[messageType]
	return l, ok
}

// Event is one row of a history dataset: one status event of one message.
// Attributes of the send (campaign, template, ...) are repeated on every
// event of the message so that each row stands alone.
type Event struct {
	EventID       string // unique per event; duplicates are dropped on export
	MessageID     string // wamid, or the sender's request id when the API refused the send
	Timestamp     int64  // microseconds since the Unix epoch, UTC
	WABAID        string // WhatsApp Business Account id
	PhoneNumberID string // sender phone number id
	Recipient     string // keyed hash of the recipient's number (see RecipientHasher)
	Country       string // recipient country, ISO 3166-1 alpha-2 ("BR"), "" if unknown
	CampaignID    string
	Template      string // template name, "" for non-template messages
	Language      string // template language code ("pt_BR")
	Category      string // one of Categories
	MessageType   string // one of MessageTypes
	MediaBytes    int64  // NoMediaBytes when not applicable
	Status        Status
	ErrorCode     int32 // NoErrorCode when the event carries no error
	ErrorTitle    string
	ErrorDetails  string
	Exploration   bool // the send went out as an exploration send (score --explore)
}

// Time returns e.Timestamp as a time.Time in UTC.
func (e *Event) Time() time.Time { return time.UnixMicro(e.Timestamp).UTC() }

// PlannedSend is one row of an upcoming campaign plan, the scoring input.
type PlannedSend struct {
	SendID          string
	CampaignID      string
	WABAID          string
	PhoneNumberID   string
	Recipient       string // keyed hash, as in the history
	Country         string
	Template        string
	Language        string
	Category        string
	MessageType     string
	MediaBytes      int64   // NoMediaBytes when not applicable
	ScheduledAt     int64   // microseconds since the Unix epoch, UTC
	CampaignRateMPS float64 // planned send rate of the campaign, messages per second; 0 if unknown
}

// PlanOutcome is the true outcome of a planned send, as the simulator knows
// it (or as a later export establishes it). It is used for evaluation only.
type PlanOutcome struct {
	SendID    string
	Failed    bool
	ErrorCode int32 // NoErrorCode when the send did not fail
}

// History column names, in contract order.
const (
	ColEventID       = "event_id"
	ColMessageID     = "message_id"
	ColTimestamp     = "timestamp"
	ColWABAID        = "waba_id"
	ColPhoneNumberID = "phone_number_id"
	ColRecipient     = "recipient"
	ColCountry       = "country"
	ColCampaignID    = "campaign_id"
	ColTemplate      = "template_name"
	ColLanguage      = "template_language"
	ColCategory      = "category"
	ColMessageType   = "message_type"
	ColMediaBytes    = "media_bytes"
	ColStatus        = "status"
	ColErrorCode     = "error_code"
	ColErrorTitle    = "error_title"
	ColErrorDetails  = "error_details"
	ColExploration   = "exploration"
)

// HistoryColumns lists the history contract's columns in order.
var HistoryColumns = []string{
	ColEventID, ColMessageID, ColTimestamp, ColWABAID, ColPhoneNumberID, ColRecipient,
	ColCountry, ColCampaignID, ColTemplate, ColLanguage, ColCategory, ColMessageType,
	ColMediaBytes, ColStatus, ColErrorCode, ColErrorTitle, ColErrorDetails, ColExploration,
}

// Plan column names, in contract order.
const (
	ColSendID          = "send_id"
	ColScheduledAt     = "scheduled_at"
	ColCampaignRateMPS = "campaign_rate_mps"
)

// PlanColumns lists the plan contract's columns in order.
var PlanColumns = []string{
	ColSendID, ColCampaignID, ColWABAID, ColPhoneNumberID, ColRecipient, ColCountry,
	ColTemplate, ColLanguage, ColCategory, ColMessageType, ColMediaBytes, ColScheduledAt,
	ColCampaignRateMPS,
}

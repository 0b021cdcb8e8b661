package pipeline

import (
	"fmt"
	"slices"
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

	// Account-level events: one per kind of webhook field Meta sends
	// besides message statuses. They carry no message: MessageID is "",
	// and what they say is in AccountValue, AccountNumber and AccountUntil
	// (see docs/schema.md for one example row of each).
	StatusTemplateStatus     // message_template_status_update: AccountValue APPROVED, PAUSED, FLAGGED, DISABLED, REJECTED, REINSTATED, ARCHIVED...; AccountNumber the pause number (1, 2) of a PAUSED; AccountUntil the disable date of a FLAGGED
	StatusTemplateQuality    // message_template_quality_update: AccountValue GREEN, YELLOW, RED or UNKNOWN
	StatusTemplateCategory   // template_category_update: Category the new category, AccountValue the previous one
	StatusPhoneQuality       // phone_number_quality_update: AccountValue the event (FLAGGED, UPGRADE, DOWNGRADE, ONBOARDING, ...); AccountNumber the messaging limit (unique users per 24 h; NoLimit when unlimited)
	StatusBusinessCapability // business_capability_update: AccountNumber the daily conversation limit of the business portfolio (NoLimit when unlimited)
	StatusAccountUpdate      // account_update: AccountValue the event (ACCOUNT_VIOLATION, ACCOUNT_RESTRICTION, ...) with the restriction type after a colon; AccountUntil its expiry
	StatusAccountAlert       // account_alerts: AccountValue the alert type, ErrorDetails its description
	StatusUserPreference     // user_preferences: Recipient the user (hashed), AccountValue "stop" or "resume" of marketing messages
)

var statusNames = [...]string{"unknown", "accepted", "sent", "delivered", "read", "failed", "inbound",
	"template_status", "template_quality", "template_category", "phone_quality", "business_capability",
	"account_update", "account_alert", "user_preference"}

// IsAccountEvent reports whether s is an account-level event kind rather
// than a message status.
func (s Status) IsAccountEvent() bool { return s >= StatusTemplateStatus && int(s) < len(statusNames) }

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
	return StatusUnknown, fmt.Errorf("unknown status %q (want a message status: accepted, sent, delivered, read, failed, inbound; or an account event: template_status, template_quality, template_category, phone_quality, business_capability, account_update, account_alert, user_preference)", name)
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

// IsTemplateSend reports whether a send is a template message. A send
// that names a template is one whatever its message type says: plans
// often give a template with a media header the header's kind (image,
// video, document) as its type.
func IsTemplateSend(template, messageType string) bool {
	return template != "" || messageType == "template"
}

// templateHeaderKinds are the media kinds a template header can be.
var templateHeaderKinds = []string{"image", "video", "document"}

// SendMediaLimit returns the size limit of a send's media, the kind the
// limit is for, whether that kind was assumed, and whether the send's
// type carries media at all. A template send's media is its header: of
// the kind its message type names when that is a header kind, else taken
// for an image (MediaLimit("template"): the strictest header limit). Any
// other send's media is of its message type (MediaLimit).
func SendMediaLimit(template, messageType string) (limit int64, kind string, assumed, ok bool) {
	if IsTemplateSend(template, messageType) {
		if slices.Contains(templateHeaderKinds, messageType) {
			return MediaLimitBytes[messageType], messageType, false, true
		}
		l, _ := MediaLimit("template")
		return l, "image", true, true
	}
	l, ok := MediaLimit(messageType)
	return l, messageType, false, ok
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

	// Account-level events only (Status.IsAccountEvent); zero otherwise.
	AccountValue  string // the event's state or kind, e.g. PAUSED, RED, stop
	AccountNumber int64  // a count or limit (pause number, messaging limit); NoAccountNumber when absent
	AccountUntil  int64  // a time the event names (disable date, restriction expiry), µs since the epoch UTC; 0 when absent
}

// NoAccountNumber marks an Event without an AccountNumber.
const NoAccountNumber int64 = -1

// NoLimit is the AccountNumber of an unlimited messaging limit.
const NoLimit int64 = 1 << 62

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
	ColAccountValue  = "account_value"
	ColAccountNumber = "account_number"
	ColAccountUntil  = "account_until"
)

// HistoryColumns lists the history contract's columns in order.
var HistoryColumns = []string{
	ColEventID, ColMessageID, ColTimestamp, ColWABAID, ColPhoneNumberID, ColRecipient,
	ColCountry, ColCampaignID, ColTemplate, ColLanguage, ColCategory, ColMessageType,
	ColMediaBytes, ColStatus, ColErrorCode, ColErrorTitle, ColErrorDetails, ColExploration,
	ColAccountValue, ColAccountNumber, ColAccountUntil,
}

// OptionalHistoryColumns are the history columns a file may lack: they
// came after the first version of the contract (the account-event
// columns), so histories written before them still read, their rows
// taking the absent values (AccountValue "", AccountNumber
// NoAccountNumber, AccountUntil 0).
var OptionalHistoryColumns = []string{ColAccountValue, ColAccountNumber, ColAccountUntil}

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

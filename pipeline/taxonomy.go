package pipeline

import "fmt"

// Family groups error codes by cause. The order is fixed: it is the class
// index of the error-family models, and FamilyNone (no failure) is 0.
type Family uint8

// Families, in class-index order.
const (
	FamilyNone Family = iota
	FamilyAuth
	FamilyIntegrity
	FamilyThrottle
	FamilyQuality
	FamilyRecipient
	FamilyPayload
	FamilyMedia
	FamilyTemplateState
	FamilyTransient
	FamilyAccount
	FamilyUnknown // an error code the taxonomy does not know
)

// NumFamilies is the number of Family values, FamilyNone included.
const NumFamilies = int(FamilyUnknown) + 1

var familyNames = [...]string{"none", "auth", "integrity", "throttle", "quality", "recipient", "payload", "media", "template_state", "transient", "account", "unknown"}

// String returns the family's name as used in CSVs and docs ("template_state").
func (f Family) String() string {
	if int(f) < len(familyNames) {
		return familyNames[f]
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// ParseFamily parses a family name such as "throttle".
func ParseFamily(name string) (Family, error) {
	for i, n := range familyNames {
		if n == name {
			return Family(i), nil
		}
	}
	return FamilyUnknown, fmt.Errorf("unknown error family %q", name)
}

// Retry says whether retrying a failed send can help.
type Retry uint8

// Retry classes of Meta's taxonomy.
const (
	RetryNo      Retry = iota // retrying the same request fails again
	RetryBackoff              // retry after an exponential backoff
	RetryLater                // retry after a longer wait (hours or days)
	RetryNever                // never retry to this recipient
)

var retryNames = [...]string{"no", "backoff", "later", "never"}

// String returns the retry class's name.
func (r Retry) String() string {
	if int(r) < len(retryNames) {
		return retryNames[r]
	}
	return fmt.Sprintf("retry(%d)", uint8(r))
}

// CodeInfo describes one Cloud API error code (or a range of codes).
type CodeInfo struct {
	Low, High int32 // the code, or an inclusive range of codes
	Title     string
	Family    Family
	Retry     Retry
	Action    string // the action to recommend
}

// taxonomy is Meta's documented error-code table, built into the binary
// from shared/reference/whatsapp-error-codes.csv. HTTP-style 5xx codes,
// which the send API reports for platform outages, are transient.
var taxonomy = []CodeInfo{
	{0, 0, "AuthException: unable to authenticate (token expired or invalidated)", FamilyAuth, RetryNo, "refresh or reissue the access token before sending"},
	{3, 3, "API method: capability or permission issue", FamilyAuth, RetryNo, "check app permissions for the endpoint"},
	{10, 10, "Permission denied", FamilyAuth, RetryNo, "grant the missing permission to the app or system user"},
	{190, 190, "Access token has expired", FamilyAuth, RetryNo, "renew the access token; alert before expiry"},
	{200, 299, "API permission", FamilyAuth, RetryNo, "check the permission named in the error"},
	{131005, 131005, "Access denied", FamilyAuth, RetryNo, "check permissions of the token on this phone number"},
	{368, 368, "Temporarily blocked for policy violations", FamilyIntegrity, RetryNo, "stop sending from this account; review policy enforcement"},
	{130497, 130497, "Business account restricted from messaging users in this country", FamilyIntegrity, RetryNo, "exclude the affected countries"},
	{131031, 131031, "Business account has been locked", FamilyIntegrity, RetryNo, "stop sending; resolve the account lock"},
	{4, 4, "Application call rate limit reached", FamilyThrottle, RetryBackoff, "back off exponentially and retry"},
	{80007, 80007, "WhatsApp Business Account rate limit reached", FamilyThrottle, RetryBackoff, "back off and retry later"},
	{130429, 130429, "Cloud API message throughput reached", FamilyThrottle, RetryBackoff, "lower the send rate below the number's throughput (80 mps by default)"},
	{131056, 131056, "Pair rate limit hit (too many messages to the same recipient too fast)", FamilyThrottle, RetryBackoff, "space messages to the same recipient (about 1 per 6 s)"},
	{133016, 133016, "Account register or deregister rate limit exceeded", FamilyThrottle, RetryBackoff, "wait before re-registering"},
	{131064, 131064, "Messaging limit after template classification violations", FamilyThrottle, RetryLater, "wait for the enforcement period to end"},
	{131048, 131048, "Spam rate limit hit", FamilyQuality, RetryNo, "reduce volume and check the number's quality rating"},
	{131026, 131026, "Message undeliverable", FamilyRecipient, RetryNo, "drop or verify the recipient; do not loop retries"},
	{131047, 131047, "Re-engagement message: more than 24 hours since the user last replied", FamilyRecipient, RetryNo, "send an approved template instead of free-form text"},
	{131049, 131049, "Not delivered to maintain healthy ecosystem engagement (per-user marketing limit)", FamilyRecipient, RetryLater, "defer marketing messages to this user by at least 24 hours"},
	{131050, 131050, "User stopped marketing messages from this business", FamilyRecipient, RetryNever, "suppress marketing messages to this user"},
	{130403, 130403, "Recipient is blocked by the business", FamilyRecipient, RetryNever, "remove the recipient from the audience"},
	{130472, 130472, "User's number is part of an experiment", FamilyRecipient, RetryNo, "no action; expected hold-out"},
	{100, 100, "Invalid parameter", FamilyPayload, RetryNo, "fix the request payload"},
	{131008, 131008, "Required parameter is missing", FamilyPayload, RetryNo, "fix the request payload"},
	{131009, 131009, "Parameter value is not valid", FamilyPayload, RetryNo, "fix the request payload"},
	{131021, 131021, "Recipient cannot be sender", FamilyPayload, RetryNo, "fix the recipient"},
	{131051, 131051, "Unsupported message type", FamilyPayload, RetryNo, "use a supported message type"},
	{132000, 132000, "Number of template parameters does not match", FamilyPayload, RetryNo, "send the number of parameters the template expects"},
	{132001, 132001, "Template does not exist in this language or is not approved", FamilyPayload, RetryNo, "use an approved template and language"},
	{132005, 132005, "Template hydrated text too long", FamilyPayload, RetryNo, "shorten the parameter values"},
	{132007, 132007, "Template format character policy violated", FamilyPayload, RetryNo, "fix the template content"},
	{132012, 132012, "Template parameter format mismatch", FamilyPayload, RetryNo, "send parameters in the expected format"},
	{135000, 135000, "Generic user error", FamilyPayload, RetryNo, "check the request"},
	{131052, 131052, "Media download error", FamilyMedia, RetryNo, "check that the media is reachable and of a supported type and size"},
	{131053, 131053, "Media upload error", FamilyMedia, RetryNo, "check media type and size limits (image 5 MB; video and audio 16 MB; document 100 MB)"},
	{132015, 132015, "Template is paused due to low quality", FamilyTemplateState, RetryLater, "wait for reinstatement or edit the template"},
	{132016, 132016, "Template is permanently disabled", FamilyTemplateState, RetryNever, "create a new template"},
	{132068, 132068, "Flow is in blocked state", FamilyTemplateState, RetryNo, "fix the flow"},
	{132069, 132069, "Flow is in throttled state", FamilyTemplateState, RetryLater, "wait; the flow is throttled after 10 messages in an hour"},
	{131063, 131063, "Marketing templates disabled for this configuration", FamilyTemplateState, RetryNo, "enable marketing messages or use another channel"},
	{1, 1, "API unknown error", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
	{2, 2, "API service temporarily unavailable", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
	{131000, 131000, "Something went wrong", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
	{131016, 131016, "Service unavailable", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
	{131057, 131057, "Business account is in maintenance mode", FamilyTransient, RetryBackoff, "retry after the maintenance window (often a throughput upgrade)"},
	{133004, 133004, "Server temporarily unavailable", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
	{33, 33, "Business phone number has been deleted", FamilyAccount, RetryNo, "use an active phone number"},
	{131037, 131037, "Display name not approved", FamilyAccount, RetryNo, "get the display name approved"},
	{131042, 131042, "Business eligibility payment issue", FamilyAccount, RetryNo, "fix the payment method"},
	{131045, 131045, "Incorrect certificate / phone number not registered", FamilyAccount, RetryNo, "register the phone number"},
	{133000, 133000, "Incomplete deregistration", FamilyAccount, RetryNo, "deregister the number again"},
	{133005, 133005, "Two-step verification PIN mismatch", FamilyAccount, RetryNo, "use the correct PIN"},
	{133006, 133006, "Phone number needs to be verified before registering", FamilyAccount, RetryNo, "verify the number"},
	{133008, 133008, "Too many two-step verification PIN guesses", FamilyAccount, RetryLater, "wait the time given in error_data.details"},
	{133009, 133009, "Two-step verification PIN entered too quickly", FamilyAccount, RetryLater, "wait the time given in error_data.details"},
	{133010, 133010, "Phone number not registered on the platform", FamilyAccount, RetryNo, "register the number"},
	{133015, 133015, "Please wait a few minutes before re-registering", FamilyAccount, RetryLater, "wait 5 minutes"},
	{500, 599, "Platform server error (HTTP 5xx)", FamilyTransient, RetryBackoff, "retry with exponential backoff"},
}

// exactCodes indexes the single-code rows of taxonomy.
var exactCodes = func() map[int32]int {
	m := make(map[int32]int, len(taxonomy))
	for i, c := range taxonomy {
		if c.Low == c.High {
			m[c.Low] = i
		}
	}
	return m
}()

// Taxonomy returns a copy of the built-in error-code table.
func Taxonomy() []CodeInfo { return append([]CodeInfo(nil), taxonomy...) }

// LookupCode returns what the taxonomy says about an error code. For a code
// it does not know, ok is false and the info has FamilyUnknown.
func LookupCode(code int32) (info CodeInfo, ok bool) {
	if i, found := exactCodes[code]; found {
		return taxonomy[i], true
	}
	for _, c := range taxonomy {
		if code >= c.Low && code <= c.High {
			return c, true
		}
	}
	return CodeInfo{Low: code, High: code, Title: "unknown error code", Family: FamilyUnknown, Retry: RetryNo, Action: "look the code up in Meta's error-code reference"}, false
}

// FamilyOf returns the family of an error code; NoErrorCode gives FamilyNone.
func FamilyOf(code int32) Family {
	if code == NoErrorCode {
		return FamilyNone
	}
	info, _ := LookupCode(code)
	return info.Family
}

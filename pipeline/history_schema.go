package pipeline

import (
	"github.com/parquet-go/parquet-go"
)

// historyRecord declares the Parquet schema failcast writes for a history
// file, in contract column order. It is used for the schema only: rows are
// written column by column from Event values (see HistoryWriter).
//
// High-cardinality strings are PLAIN encoded (parquet-go's default, delta
// byte arrays, made files about half again as big); low-cardinality strings
// are dictionary encoded. Every column is zstd compressed at the fastest
// level: on history data it compresses as well as the default level and
// writes about 30% faster.
type historyRecord struct {
	EventID       string  `parquet:"event_id,plain"`
	MessageID     string  `parquet:"message_id,plain"`
	Timestamp     int64   `parquet:"timestamp,timestamp(microsecond:utc),delta"`
	WABAID        string  `parquet:"waba_id,dict"`
	PhoneNumberID string  `parquet:"phone_number_id,dict"`
	Recipient     string  `parquet:"recipient,plain"`
	Country       string  `parquet:"country,dict"`
	CampaignID    string  `parquet:"campaign_id,dict"`
	Template      string  `parquet:"template_name,dict"`
	Language      string  `parquet:"template_language,dict"`
	Category      string  `parquet:"category,dict"`
	MessageType   string  `parquet:"message_type,dict"`
	MediaBytes    *int64  `parquet:"media_bytes,optional"`
	Status        string  `parquet:"status,dict"`
	ErrorCode     *int32  `parquet:"error_code,optional"`
	ErrorTitle    *string `parquet:"error_title,optional,dict"`
	ErrorDetails  *string `parquet:"error_details,optional,plain"`
	Exploration   bool    `parquet:"exploration"`
	// Account-event columns (optional: older files lack them).
	AccountValue  *string `parquet:"account_value,optional,dict"`
	AccountNumber *int64  `parquet:"account_number,optional"`
	AccountUntil  *int64  `parquet:"account_until,optional,timestamp(microsecond:utc)"`
}

// optionalColumn marks the contract columns a file may lack (see
// OptionalHistoryColumns).
var optionalColumn = [numHistoryColumns]bool{hcAccountValue: true, hcAccountNumber: true, hcAccountUntil: true}

// historySchema is the Parquet schema of a history file as failcast writes it.
var historySchema = parquet.NewSchema("failcast_history", parquet.SchemaOf(historyRecord{}))

// Indexes of the history columns in historySchema (contract order).
const (
	hcEventID = iota
	hcMessageID
	hcTimestamp
	hcWABAID
	hcPhoneNumberID
	hcRecipient
	hcCountry
	hcCampaignID
	hcTemplate
	hcLanguage
	hcCategory
	hcMessageType
	hcMediaBytes
	hcStatus
	hcErrorCode
	hcErrorTitle
	hcErrorDetails
	hcExploration
	hcAccountValue
	hcAccountNumber
	hcAccountUntil
	numHistoryColumns
)

package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/failcast/failcast/pipeline"
)

// RawWriter writes history as the raw forms a sender has: its own send log
// (one NDJSON line per send request, with the Cloud API request and
// response) and Meta's status webhooks (NDJSON webhook bodies, several
// statuses of one phone number batched in a line, lines a little out of
// order). It is a Sink: give it the history of a Run of the same Config.
// docs/simulator.md describes how every history row maps to raw fields;
// exporting the raw forms gives back the same rows.
type RawWriter struct {
	sendLog, webhooks *bufio.Writer
	numberOf          map[string]string // hashed recipient -> number
	display           map[string]string // phone number id -> display number
	quality           map[string]string // template|language -> last quality announced
	limits            map[string]string // phone number id -> last messaging limit (TIER_2K, ...)
	r                 *rand.Rand

	groups []*statusGroup // open webhook lines, one per phone number, oldest first
	swept  int64          // time of the last sweep of stale groups
	window [][]byte       // webhook lines waiting to be written, in shuffled order
	buf    []byte
	err    error
}

// statusGroup is a webhook line being batched: statuses of one phone number.
type statusGroup struct {
	waba, number string
	first        int64 // timestamp of the first status
	size         int   // statuses to batch
	statuses     [][]byte
}

// groupSpan is how long a status waits for others to be batched with it.
const groupSpan = 5 * usSecond

// webhookWindow is how many webhook lines are shuffled together.
const webhookWindow = 8

// NewRawWriter returns a raw writer for the world of cfg (it needs the
// world's recipient numbers, which history rows only carry hashed).
func NewRawWriter(cfg Config, sendLog, webhooks io.Writer) (*RawWriter, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	w := &RawWriter{
		sendLog:  bufio.NewWriterSize(sendLog, 1<<20),
		webhooks: bufio.NewWriterSize(webhooks, 1<<20),
		numberOf: make(map[string]string, len(e.hashOf)),
		display:  make(map[string]string, len(e.numbers)),
		quality:  map[string]string{},
		limits:   make(map[string]string, len(e.numbers)),
		r:        newStream(cfg.Seed, streamRaw),
	}
	for i, h := range e.hashOf {
		w.numberOf[h] = e.numberOf[i]
	}
	for i := range e.numbers {
		w.display[e.numbers[i].id] = e.numbers[i].display
		limit := int64(tierLimits[e.numbers[i].tier])
		if e.numbers[i].tier == len(tierLimits)-1 {
			limit = pipeline.NoLimit
		}
		w.limits[e.numbers[i].id] = tierName(limit)
	}
	return w, nil
}

// WriteRaw simulates the history of cfg and writes only its raw forms.
func WriteRaw(ctx context.Context, cfg Config, sendLog, webhooks io.Writer) (*World, error) {
	rw, err := NewRawWriter(cfg, sendLog, webhooks)
	if err != nil {
		return nil, err
	}
	w, err := Run(ctx, cfg, rw)
	if err != nil {
		return nil, err
	}
	return w, rw.Close()
}

// History writes a batch of history rows in their raw forms.
func (w *RawWriter) History(batch []pipeline.Event) error {
	if w.err != nil {
		return w.err
	}
	for i := range batch {
		if err := w.event(&batch[i]); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// Close writes what is still buffered. The underlying writers are not
// closed.
func (w *RawWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	for len(w.groups) > 0 {
		w.closeGroup(0)
	}
	for len(w.window) > 0 {
		i := w.r.IntN(len(w.window))
		w.writeWebhook(w.window[i])
		w.window[i] = w.window[len(w.window)-1]
		w.window = w.window[:len(w.window)-1]
	}
	w.err = errors.Join(w.err, w.sendLog.Flush(), w.webhooks.Flush())
	if w.err != nil {
		w.err = fmt.Errorf("write raw forms: %w", w.err)
	}
	return w.err
}

func (w *RawWriter) event(ev *pipeline.Event) error {
	if ev.Status.IsAccountEvent() {
		if err := w.accountLine(ev); err != nil {
			return err
		}
		return w.err
	}
	number, ok := w.numberOf[ev.Recipient]
	if !ok {
		return fmt.Errorf("raw forms: event %s: recipient %q is not a recipient of this world (is the history from the same config?)", ev.EventID, ev.Recipient)
	}
	switch {
	case ev.Status == pipeline.StatusAccepted:
		w.sendLogLine(ev, number, requestIDOf(ev.MessageID))
	case ev.Status == pipeline.StatusFailed && strings.HasPrefix(ev.MessageID, "req-"):
		w.sendLogLine(ev, number, ev.MessageID)
	case ev.Status == pipeline.StatusInbound:
		w.inboundLine(ev, number)
	default:
		w.status(ev, number)
	}
	return w.err
}

// requestIDOf returns the request id of the send that got a wamid.
func requestIDOf(wamid string) string { return requestID(hashString(wamid)) }

// sendLogLine writes the send-log line of a send request.
func (w *RawWriter) sendLogLine(ev *pipeline.Event, number, requestID string) {
	b := w.buf[:0]
	b = append(b, `{"request_id":`...)
	b = appendJSONString(b, requestID)
	b = append(b, `,"sent_at":`...)
	b = appendJSONString(b, time.UnixMicro(ev.Timestamp).UTC().Format("2006-01-02T15:04:05.000Z"))
	b = append(b, `,"waba_id":`...)
	b = appendJSONString(b, ev.WABAID)
	b = append(b, `,"phone_number_id":`...)
	b = appendJSONString(b, ev.PhoneNumberID)
	if ev.CampaignID != "" {
		b = append(b, `,"campaign_id":`...)
		b = appendJSONString(b, ev.CampaignID)
	}
	b = append(b, `,"category":`...)
	b = appendJSONString(b, ev.Category)
	if ev.Exploration {
		b = append(b, `,"exploration":true`...)
	}
	b = append(b, `,"request":{"messaging_product":"whatsapp","recipient_type":"individual","to":`...)
	b = appendJSONString(b, number)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, ev.MessageType)
	h := hashString(ev.MessageID)
	switch {
	case ev.MessageType == "template":
		b = append(b, `,"template":{"name":`...)
		b = appendJSONString(b, ev.Template)
		b = append(b, `,"language":{"code":`...)
		b = appendJSONString(b, ev.Language)
		b = append(b, '}')
		if ev.MediaBytes >= 0 {
			b = append(b, `,"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"`...)
			b = strconv.AppendUint(b, 1e15+mix64(h)%9e15, 10)
			b = append(b, `"}}]}]`...)
		}
		b = append(b, '}')
	case ev.MessageType == "text":
		b = append(b, `,"text":{"body":`...)
		b = appendJSONString(b, replyTexts[h%uint64(len(replyTexts))])
		b = append(b, '}')
	default:
		b = append(b, `,"`...)
		b = append(b, ev.MessageType...)
		b = append(b, `":{"id":"`...)
		b = strconv.AppendUint(b, 1e15+mix64(h)%9e15, 10)
		b = append(b, `"}`...)
	}
	b = append(b, '}')
	if ev.MediaBytes >= 0 {
		b = append(b, `,"media_bytes":`...)
		b = strconv.AppendInt(b, ev.MediaBytes, 10)
	}
	if ev.Status == pipeline.StatusAccepted {
		b = append(b, `,"response":{"messaging_product":"whatsapp","contacts":[{"input":`...)
		b = appendJSONString(b, number)
		b = append(b, `,"wa_id":`...)
		b = appendJSONString(b, number)
		b = append(b, `}],"messages":[{"id":`...)
		b = appendJSONString(b, ev.MessageID)
		b = append(b, `,"message_status":"accepted"}]}}`...)
	} else {
		b = append(b, `,"response":{"error":{"message":`...)
		b = appendJSONString(b, "(#"+strconv.Itoa(int(ev.ErrorCode))+") "+ev.ErrorTitle)
		b = append(b, `,"type":"OAuthException","code":`...)
		b = strconv.AppendInt(b, int64(ev.ErrorCode), 10)
		b = append(b, `,"error_data":{"messaging_product":"whatsapp","details":`...)
		b = appendJSONString(b, ev.ErrorDetails)
		b = append(b, `},"fbtrace_id":"A`...)
		b = strconv.AppendUint(b, mix64(h^0xfb), 36)
		b = append(b, `"}}}`...)
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.sendLog.Write(b); err != nil && w.err == nil {
		w.err = fmt.Errorf("write send log: %w", err)
	}
}

// replyTexts are the bodies of the business's free-form texts.
var replyTexts = []string{
	"Thanks for your message! An agent will get back to you shortly.",
	"Your order is on its way. Anything else we can help with?",
	"Here is the information you asked for.",
	"We have updated your request. Reply here if you need more help.",
}

// inboundTexts are the bodies of recipients' messages.
var inboundTexts = []string{"Hi", "Where is my order?", "Thanks!", "Is this still available?", "Can I change my delivery address?", "ok 👍"}

// status adds a status to the webhook line being batched for its phone
// number.
func (w *RawWriter) status(ev *pipeline.Event, number string) {
	if ev.Timestamp-w.swept >= usSecond {
		w.swept = ev.Timestamp
		for i := 0; i < len(w.groups); {
			if w.groups[i].first < ev.Timestamp-groupSpan {
				w.closeGroup(i)
			} else {
				i++
			}
		}
	}
	gi := -1
	for i, g := range w.groups {
		if g.number == ev.PhoneNumberID && g.waba == ev.WABAID {
			gi = i
			break
		}
	}
	if gi < 0 {
		w.groups = append(w.groups, &statusGroup{waba: ev.WABAID, number: ev.PhoneNumberID, first: ev.Timestamp, size: 1 + w.r.IntN(4)})
		gi = len(w.groups) - 1
	}
	g := w.groups[gi]
	b := make([]byte, 0, 256)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, ev.MessageID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, ev.Status.String())
	b = append(b, `,"timestamp":"`...)
	b = strconv.AppendInt(b, ev.Timestamp/usSecond, 10)
	b = append(b, `","recipient_id":`...)
	b = appendJSONString(b, number)
	switch ev.Status {
	case pipeline.StatusSent:
		h := mix64(hashString(ev.Recipient) ^ uint64(ev.Timestamp/usDay))
		b = append(b, `,"conversation":{"id":"`...)
		b = appendHex(b, h)
		b = appendHex(b, mix64(h))
		b = append(b, `","expiration_timestamp":"`...)
		b = strconv.AppendInt(b, ev.Timestamp/usSecond+86400, 10)
		b = append(b, `","origin":{"type":`...)
		b = appendJSONString(b, ev.Category)
		b = append(b, `}}`...)
		b = appendPricing(b, ev.Category)
		if ev.CampaignID != "" {
			b = append(b, `,"biz_opaque_callback_data":`...)
			b = appendJSONString(b, "campaign="+ev.CampaignID)
		}
	case pipeline.StatusDelivered:
		b = appendPricing(b, ev.Category)
	case pipeline.StatusFailed:
		b = append(b, `,"errors":[{"code":`...)
		b = strconv.AppendInt(b, int64(ev.ErrorCode), 10)
		b = append(b, `,"title":`...)
		b = appendJSONString(b, ev.ErrorTitle)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, ev.ErrorTitle)
		b = append(b, `,"error_data":{"details":`...)
		b = appendJSONString(b, ev.ErrorDetails)
		b = append(b, `},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]`...)
	}
	b = append(b, '}')
	g.statuses = append(g.statuses, b)
	if len(g.statuses) >= g.size {
		w.closeGroup(gi)
	}
}

func appendPricing(b []byte, category string) []byte {
	b = append(b, `,"pricing":{"billable":`...)
	if category == pipeline.CategoryService {
		b = append(b, `false,"pricing_model":"PMP","type":"free_customer_service","category":"service"}`...)
		return b
	}
	b = append(b, `true,"pricing_model":"PMP","type":"regular","category":`...)
	b = appendJSONString(b, category)
	return append(b, '}')
}

func appendHex(b []byte, x uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, digits[(x>>uint(i))&0xf])
	}
	return b
}

// closeGroup turns the i-th open group into a webhook line (now and then
// with its statuses out of order, as Meta sends them).
func (w *RawWriter) closeGroup(i int) {
	g := w.groups[i]
	w.groups = append(w.groups[:i], w.groups[i+1:]...)
	if len(g.statuses) > 1 && w.r.Float64() < 0.2 {
		j := w.r.IntN(len(g.statuses) - 1)
		g.statuses[j], g.statuses[j+1] = g.statuses[j+1], g.statuses[j]
	}
	b := w.envelope(make([]byte, 0, 512), g.waba, g.number)
	b = append(b, `,"statuses":[`...)
	for i, s := range g.statuses {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	b = append(b, "]}}]}]}\n"...)
	w.queueWebhook(b)
}

// envelope starts a webhook body up to the value's metadata.
func (w *RawWriter) envelope(b []byte, wabaID, numberID string) []byte {
	b = append(b, `{"object":"whatsapp_business_account","entry":[{"id":`...)
	b = appendJSONString(b, wabaID)
	b = append(b, `,"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":`...)
	b = appendJSONString(b, w.display[numberID])
	b = append(b, `,"phone_number_id":`...)
	b = appendJSONString(b, numberID)
	return append(b, '}')
}

// inboundLine writes the webhook line of a recipient's message.
func (w *RawWriter) inboundLine(ev *pipeline.Event, number string) {
	h := hashString(ev.MessageID)
	country := countryIndex(ev.Country)
	names := countries[country].names
	b := w.envelope(make([]byte, 0, 512), ev.WABAID, ev.PhoneNumberID)
	b = append(b, `,"contacts":[{"profile":{"name":`...)
	b = appendJSONString(b, names[mix64(hashString(number))%uint64(len(names))])
	b = append(b, `},"wa_id":`...)
	b = appendJSONString(b, number)
	b = append(b, `}],"messages":[{"from":`...)
	b = appendJSONString(b, number)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, ev.MessageID)
	b = append(b, `,"timestamp":"`...)
	b = strconv.AppendInt(b, ev.Timestamp/usSecond, 10)
	b = append(b, `","type":"text","text":{"body":`...)
	b = appendJSONString(b, inboundTexts[h%uint64(len(inboundTexts))])
	b = append(b, "}}]}}]}]}\n"...)
	w.queueWebhook(b)
}

func countryIndex(iso string) int {
	for i := range countries {
		if countries[i].iso == iso {
			return i
		}
	}
	return 0
}

// queueWebhook puts a line in the shuffle window; when the window is full
// a random waiting line is written.
func (w *RawWriter) queueWebhook(line []byte) {
	if len(w.window) < webhookWindow {
		w.window = append(w.window, line)
		return
	}
	i := w.r.IntN(len(w.window))
	w.writeWebhook(w.window[i])
	w.window[i] = line
}

func (w *RawWriter) writeWebhook(line []byte) {
	if _, err := w.webhooks.Write(line); err != nil && w.err == nil {
		w.err = fmt.Errorf("write webhooks: %w", err)
	}
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// accountLine writes the webhook body of an account event, in Meta's
// format (one change per body, entry.time in Unix seconds; see
// docs/simulator.md). The previous quality of a template and the previous
// limit of a number, which the bodies carry, are the writer's to
// remember.
func (w *RawWriter) accountLine(ev *pipeline.Event) error {
	sec := ev.Timestamp / usSecond
	b := make([]byte, 0, 512)
	b = append(b, `{"object":"whatsapp_business_account","entry":[{"id":`...)
	b = appendJSONString(b, ev.WABAID)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `,"changes":[{"field":"`...)
	tplKey := ev.Template + "|" + ev.Language
	template := func(b []byte) []byte {
		b = append(b, `"message_template_id":`...)
		b = strconv.AppendUint(b, 1_000_000_000_000_000+mix64(hashString(ev.WABAID+"|"+tplKey))%9_000_000_000_000_000, 10)
		b = append(b, `,"message_template_name":`...)
		b = appendJSONString(b, ev.Template)
		b = append(b, `,"message_template_language":`...)
		return appendJSONString(b, ev.Language)
	}
	switch ev.Status {
	case pipeline.StatusTemplateQuality:
		prev, ok := w.quality[tplKey]
		if !ok {
			prev = "GREEN"
		}
		w.quality[tplKey] = ev.AccountValue
		b = append(b, `message_template_quality_update","value":{"previous_quality_score":`...)
		b = appendJSONString(b, prev)
		b = append(b, `,"new_quality_score":`...)
		b = appendJSONString(b, ev.AccountValue)
		b = append(b, ',')
		b = template(b)
	case pipeline.StatusTemplateStatus:
		b = append(b, `message_template_status_update","value":{"event":`...)
		b = appendJSONString(b, ev.AccountValue)
		b = append(b, ',')
		b = template(b)
		b = append(b, `,"reason":"NONE","message_template_category":`...)
		b = appendJSONString(b, strings.ToUpper(ev.Category))
		switch {
		case ev.AccountValue == "PAUSED" && ev.AccountNumber >= 1 && ev.AccountNumber <= 2:
			title := "FIRST_PAUSE"
			if ev.AccountNumber == 2 {
				title = "SECOND_PAUSE"
			}
			b = append(b, `,"other_info":{"title":"`+title+`","description":`...)
			b = appendJSONString(b, ev.ErrorDetails)
			b = append(b, '}')
		case ev.AccountValue == "DISABLED" || ev.AccountValue == "FLAGGED":
			b = append(b, `,"disable_info":{"disable_date":`...)
			b = strconv.AppendInt(b, ev.AccountUntil/usSecond, 10)
			b = append(b, '}')
		}
	case pipeline.StatusPhoneQuality:
		old, cur := w.limits[ev.PhoneNumberID], tierName(ev.AccountNumber)
		w.limits[ev.PhoneNumberID] = cur
		b = append(b, `phone_number_quality_update","value":{"display_phone_number":`...)
		b = appendJSONString(b, w.display[ev.PhoneNumberID])
		b = append(b, `,"event":`...)
		b = appendJSONString(b, ev.AccountValue)
		b = append(b, `,"current_limit":`...)
		b = appendJSONString(b, cur)
		if old != "" {
			b = append(b, `,"old_limit":`...)
			b = appendJSONString(b, old)
		}
		b = append(b, `,"max_daily_conversations_per_business":`...)
		b = appendJSONString(b, cur)
	case pipeline.StatusAccountUpdate:
		event, kind, _ := strings.Cut(ev.AccountValue, ":")
		b = append(b, `account_update","value":{"phone_number":`...)
		b = appendJSONString(b, w.display[ev.PhoneNumberID])
		b = append(b, `,"event":`...)
		b = appendJSONString(b, event)
		switch event {
		case "ACCOUNT_VIOLATION":
			b = append(b, `,"violation_info":{"violation_type":`...)
			b = appendJSONString(b, kind)
			b = append(b, '}')
		case "ACCOUNT_RESTRICTION":
			b = append(b, `,"restriction_info":[{"restriction_type":`...)
			b = appendJSONString(b, kind)
			b = append(b, `,"expiration":`...)
			b = strconv.AppendInt(b, ev.AccountUntil/usSecond, 10)
			b = append(b, `}]`...)
		}
	case pipeline.StatusUserPreference:
		number, ok := w.numberOf[ev.Recipient]
		if !ok {
			return fmt.Errorf("raw forms: event %s: recipient %q is not a recipient of this world (is the history from the same config?)", ev.EventID, ev.Recipient)
		}
		country := countryIndex(ev.Country)
		names := countries[country].names
		detail := "User requested to stop marketing messages"
		if ev.AccountValue == "resume" {
			detail = "User requested to resume marketing messages"
		}
		b = append(b, `user_preferences","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":`...)
		b = appendJSONString(b, w.display[ev.PhoneNumberID])
		b = append(b, `,"phone_number_id":`...)
		b = appendJSONString(b, ev.PhoneNumberID)
		b = append(b, `},"contacts":[{"profile":{"name":`...)
		b = appendJSONString(b, names[mix64(hashString(number))%uint64(len(names))])
		b = append(b, `},"wa_id":`...)
		b = appendJSONString(b, number)
		b = append(b, `}],"user_preferences":[{"wa_id":`...)
		b = appendJSONString(b, number)
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, detail)
		b = append(b, `,"category":"marketing_messages","value":`...)
		b = appendJSONString(b, ev.AccountValue)
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, sec, 10)
		b = append(b, `}]`...)
	default:
		return fmt.Errorf("raw forms: event %s: no webhook form for account event %s", ev.EventID, ev.Status)
	}
	b = append(b, "}}]}]}\n"...)
	w.queueWebhook(b)
	return nil
}

// tierName is Meta's name of a messaging limit (TIER_2K, ...).
func tierName(limit int64) string {
	switch {
	case limit == pipeline.NoLimit:
		return "TIER_UNLIMITED"
	case limit >= 1000 && limit%1000 == 0:
		return "TIER_" + strconv.FormatInt(limit/1000, 10) + "K"
	}
	return "TIER_" + strconv.FormatInt(limit, 10)
}

package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// sendLogMappings are the mappings the send-log fast path is tested with:
// the default, and one with shared prefixes, an array index, a path that
// is the prefix of another, and a number-like object key.
var sendLogMappings = []string{
	"",
	"recipient=to,message_id=resp.msgs[1].id,template=t,language=t.lang,error_code=resp.err.0,country=resp",
}

func newSendLogTestExporter(t testing.TB, spec string) *Exporter {
	t.Helper()
	m, err := ParseMapping(spec)
	if err != nil {
		t.Fatal(err)
	}
	x, err := New(Options{HashKey: []byte("fast-path-test-key"), Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	return x.worker()
}

// sendLogBoth reads line's fields with the fast path and the general way
// and reports whether the fast path took it and how they differ ("" when
// they do not; the general way's reject when it rejects the line).
func sendLogBoth(x *Exporter, line []byte) (took bool, diff string) {
	if utf8.Valid(line) && rawControlInString(line) == nil {
		took = x.fastSendLogFields(line)
	}
	fast := x.fields
	if le := x.sendLogFieldsGeneral(line); le != nil {
		return took, "the general way rejects it: " + le.reason
	}
	for f := range numFields {
		a, b := fast[f], x.fields[f]
		if a.kind != b.kind || a.typ != b.typ || !bytes.Equal(a.b, b.b) {
			return took, fmt.Sprintf("field %s: %+v, general %+v", sendLogFields[f].name, a, b)
		}
	}
	return took, ""
}

func TestFastSendLogFields(t *testing.T) {
	t.Parallel()
	take := []string{
		`{"request_id":"r-1","sent_at":"2026-09-21T13:33:20.120Z","request":{"to":"5511987654321","type":"template","template":{"name":"bf","language":{"code":"pt_BR"}}},"response":{"messages":[{"id":"wamid.A"}]}}`,
		`{"request_id":7,"sent_at":1790000000.5,"exploration":true,"media_bytes":-0,"response":{"messages":[{"id":"wamid.A"},{"id":"wamid.B"}],"error":{"code":"131026","message":null,"error_data":{"details":"d"}}},"request":null}`,
		`{"request_id":"r-1","request_id":"r-2","request":{"to":[1],"type":{"a":1}},"response":{"messages":[],"error":[1,2]},"exploration":false}`,
		` { "to" : "5511" , "t" : { "lang" : "pt" , "x" : [ 1e5 , { } ] } , "resp" : { "msgs" : [ 0 , { "id" : "w" } ] , "err" : { "0" : 42 } } } `,
		`{"resp":[{"0":1}],"t":"name","t":{"lang":"shadowed"}}`,
		`{}`,
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, "testdata/send-log.ndjson"))), "\n") {
		take = append(take, line)
	}
	leave := []string{
		`null`, `[]`, `"s"`, `{"a":1}x`, `{"a":1,}`, `{"a":01}`, `{"a":1-2}`, `{"a":"b\"c"}`, `{"a":tru}`, `{"a"}`,
		`{"request":` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `}`,
	}
	for _, spec := range sendLogMappings {
		x := newSendLogTestExporter(t, spec)
		for i, line := range take {
			took, diff := sendLogBoth(x, []byte(line))
			if !took {
				t.Errorf("mapping %q, take %d: the fast path left %s", spec, i, line)
			} else if diff != "" {
				t.Errorf("mapping %q, take %d: %s: %s", spec, i, diff, line)
			}
		}
		for i, line := range leave {
			if took, _ := sendLogBoth(x, []byte(line)); took {
				t.Errorf("mapping %q, leave %d: the fast path took %s", spec, i, line)
			}
		}
	}
	// Keys the fast path cannot follow: two array indexes that are one.
	m, _ := ParseMapping("template=a[0],language=a[00]")
	if x, err := New(Options{NoHash: true, Mapping: m}); err != nil || x.pathTree != nil {
		t.Errorf("paths a[0] and a[00]: tree %v, error %v; want none", x.pathTree, err)
	}
}

// Whatever send-log line the fast path takes, the general way reads the
// same fields from it.
func FuzzFastSendLogFields(f *testing.F) {
	for line := range strings.SplitSeq(string(mustRead(f, "testdata/send-log.ndjson")), "\n") {
		f.Add([]byte(line), uint8(0))
	}
	f.Add([]byte(`{"to":"5511","t":{"lang":"pt"},"resp":{"msgs":[0,{"id":"w"}],"err":{"0":42}}}`), uint8(1))
	xs := make([]*Exporter, len(sendLogMappings))
	for i, spec := range sendLogMappings {
		xs[i] = newSendLogTestExporter(f, spec)
	}
	f.Fuzz(func(t *testing.T, line []byte, mapping uint8) {
		line = bytes.ReplaceAll(line, []byte("\n"), []byte(" "))
		x := xs[int(mapping)%len(xs)]
		if took, diff := sendLogBoth(x, line); took && diff != "" {
			t.Fatalf("%s: %q", diff, line)
		}
	})
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// fieldQuery names one field of a JSON log line or document.
type fieldQuery struct {
	msg        string // "" reads the input as one JSON object
	whereKey   string
	whereValue string
	key        string
}

// lookupValue returns the field q names in r (see the package doc),
// formatted as text: strings as they are, numbers in full precision.
func lookupValue(r io.Reader, name string, q fieldQuery) (string, error) {
	if q.msg == "" {
		var doc map[string]json.RawMessage
		dec := json.NewDecoder(r)
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return "", fmt.Errorf("%s: want one JSON object: %w", name, err)
		}
		raw, ok := doc[q.key]
		if !ok {
			return "", fmt.Errorf("%s: no field %q", name, q.key)
		}
		return formatRaw(raw)
	}
	var found json.RawMessage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue // not a JSON log line (a summary the command printed)
		}
		var rec map[string]json.RawMessage
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		if m, _ := formatRaw(rec["msg"]); m != q.msg {
			continue
		}
		if q.whereKey != "" {
			if v, _ := formatRaw(rec[q.whereKey]); v != q.whereValue {
				continue
			}
		}
		if raw, ok := rec[q.key]; ok {
			found = append(found[:0], raw...)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	if found == nil {
		where := ""
		if q.whereKey != "" {
			where = fmt.Sprintf(" and %s=%s", q.whereKey, q.whereValue)
		}
		return "", fmt.Errorf("%s: no log line with msg %q%s has field %q", name, q.msg, where, q.key)
	}
	return formatRaw(found)
}

// formatRaw formats a JSON scalar as text.
func formatRaw(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", fmt.Errorf("empty value")
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '{', '[':
		return "", fmt.Errorf("value %.40s is not a scalar", raw)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := strconv.ParseFloat(string(n), 64); err == nil {
			return string(n), nil
		}
	}
	s := strings.TrimSpace(string(raw))
	if s == "true" || s == "false" || s == "null" {
		return s, nil
	}
	return "", fmt.Errorf("value %.40s is not a JSON scalar", raw)
}

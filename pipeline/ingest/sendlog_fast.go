package ingest

import (
	"bytes"
	"strconv"
)

// The fast path of NDJSON send-log lines: the fields' JSON paths (the
// mapping) are put in a tree, and fastSendLogFields reads a line in one
// pass along it, filling x.fields as the general way (a fastjson document,
// then one Get per field) does, without building the document. Like the
// webhooks' fast path (webhook_fast.go) it only accepts: a line with a
// backslash, that is not one JSON object of strict syntax, or that nests
// deeper than fastMaxDepth, is left to the general way, which decides on
// its reject. buildSend validates the fields the same way after either.

// pathNode is a node of the tree of the send-log fields' paths: the
// fields whose path ends at it, and the keys that go on from it.
type pathNode struct {
	key      string
	index    int     // key as an array index, as fastjson's Get reads it on an array (-1: not a number)
	fields   []field // fields whose path ends here
	children []*pathNode
}

// newPathTree returns the tree of keys, or nil when the fast path cannot
// follow them: two keys of one node that name the same array index ("0"
// and "00"), or a node with more than 64 keys.
func newPathTree(keys *[numFields][]string) *pathNode {
	root := &pathNode{index: -1}
	for f := range numFields {
		n := root
		for _, k := range keys[f] {
			var next *pathNode
			for _, c := range n.children {
				if c.key == k {
					next = c
					break
				}
			}
			if next == nil {
				next = &pathNode{key: k, index: -1}
				if i, err := strconv.Atoi(k); err == nil && i >= 0 {
					next.index = i
				}
				n.children = append(n.children, next)
			}
			n = next
		}
		if n == root {
			return nil // an empty path
		}
		n.fields = append(n.fields, field(f))
	}
	var ok func(n *pathNode) bool
	ok = func(n *pathNode) bool {
		if len(n.children) > 64 {
			return false
		}
		for i, c := range n.children {
			for _, d := range n.children[:i] {
				if c.index >= 0 && c.index == d.index {
					return false
				}
			}
			if !ok(c) {
				return false
			}
		}
		return true
	}
	if !ok(root) {
		return nil
	}
	return root
}

// fastSendLogFields fills x.fields from line and reports whether it did;
// on false x.fields is undefined and the caller parses the line the
// general way. line has passed parseObjectLine's byte checks.
func (x *Exporter) fastSendLogFields(line []byte) bool {
	if x.pathTree == nil || bytes.IndexByte(line, '\\') >= 0 {
		return false
	}
	for f := range numFields {
		x.fields[f] = fieldValue{}
	}
	s := &jscan{b: line}
	if s.peek() != '{' {
		return false // not an object: a reject
	}
	x.fastPathValue(s, x.pathTree, 0)
	if s.bad {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// fastPathValue reads the value at node n: the fields that end at n take
// it, and the keys of n are looked up in it (the first of repeated keys,
// as fastjson's Get).
func (x *Exporter) fastPathValue(s *jscan, n *pathNode, depth int) {
	if depth > fastMaxDepth {
		s.fail()
		return
	}
	set := func(v fieldValue) {
		for _, f := range n.fields {
			x.fields[f] = v
		}
	}
	switch c := s.peek(); {
	case c == '"':
		set(fieldValue{b: s.str(), kind: kindString})
	case c == '{':
		set(fieldValue{kind: kindOther, typ: "an object"})
		var seen uint64
		for more := s.open('{', '}'); more && !s.bad; more = s.next('}') {
			k := s.key()
			var next *pathNode
			for i, ch := range n.children {
				if seen&(1<<i) == 0 && ch.key == string(k) {
					next, seen = ch, seen|1<<i
					break
				}
			}
			if next != nil {
				x.fastPathValue(s, next, depth+1)
			} else {
				s.skip(depth + 1)
			}
		}
	case c == '[':
		set(fieldValue{kind: kindOther, typ: "an array"})
		i := 0
		for more := s.open('[', ']'); more && !s.bad; more = s.next(']') {
			var next *pathNode
			for _, ch := range n.children {
				if ch.index == i {
					next = ch
					break
				}
			}
			if next != nil {
				x.fastPathValue(s, next, depth+1)
			} else {
				s.skip(depth + 1)
			}
			i++
		}
	case c == 't':
		s.lit("true")
		set(fieldValue{b: []byte("true"), kind: kindBool})
	case c == 'f':
		s.lit("false")
		set(fieldValue{b: []byte("false"), kind: kindBool})
	case c == 'n':
		s.lit("null") // null is absent
	default:
		set(fieldValue{b: s.num(), kind: kindNumber})
	}
}

package zabbix

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The three export formats are read into one small tree, so the converter
// walks one shape whatever the file was: YAML and JSON give mappings and
// lists, XML gives elements whose children are either named fields or the
// items of a list (<steps><step>…</step><step>…</step></steps>).

type nodeKind uint8

const (
	scalarNode nodeKind = iota
	mapNode
	listNode
)

type node struct {
	kind  nodeKind
	value string   // scalarNode
	keys  []string // mapNode: the key of each kid (XML may repeat one)
	kids  []*node  // mapNode values, listNode items
}

// get is the first value under key, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.kids[i]
		}
	}
	return nil
}

// str is the scalar under key and whether the key is there at all.
func (n *node) str(key string) (string, bool) {
	v := n.get(key)
	if v == nil {
		return "", false
	}
	if v.kind != scalarNode {
		return "", true
	}
	return v.value, true
}

// text is the scalar under key, "" when absent.
func (n *node) text(key string) string {
	s, _ := n.str(key)
	return s
}

// items are the entries of the list under key: a YAML or JSON list, or the
// children of an XML wrapper element. An empty element is an empty list.
func (n *node) items(key string) []*node {
	v := n.get(key)
	if v == nil || v.kind == scalarNode {
		return nil
	}
	return v.kids
}

// Bounds on the tree: real exports nest about a dozen levels deep.
const maxDepth = 64

type format int

const (
	formatYAML format = iota
	formatJSON
	formatXML
)

func (f format) String() string {
	return [...]string{"YAML", "JSON", "XML"}[f]
}

// detect tells the format by the first meaningful byte, not by the file's
// extension: exports are often renamed or pasted.
func detect(data []byte) format {
	s := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(s) > 0 && s[0] == '<':
		return formatXML
	case len(s) > 0 && (s[0] == '{' || s[0] == '['):
		return formatJSON
	}
	return formatYAML
}

func decode(data []byte, f format) (*node, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch f {
	case formatJSON:
		return decodeJSON(data)
	case formatXML:
		return decodeXML(data)
	}
	return decodeYAML(data)
}

var errTooDeep = fmt.Errorf("nested more than %d levels deep: not the shape of a Zabbix export", maxDepth)

func decodeYAML(data []byte) (root *node, err error) {
	// The YAML parser is third-party code fed with whatever file a user
	// hands over: a panic in it must become an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("the YAML parser gave up on this file (%v)", r)
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 {
		return nil, errors.New("the file is empty")
	}
	return fromYAML(&doc, 0)
}

func fromYAML(y *yaml.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return nil, errors.New("the file is empty")
		}
		return fromYAML(y.Content[0], depth)
	case yaml.AliasNode:
		// Zabbix never writes anchors; following them would let a small
		// file expand into a huge tree.
		return nil, fmt.Errorf("line %d: YAML aliases (*%s) are not part of Zabbix exports", y.Line, y.Value)
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			return &node{kind: scalarNode}, nil
		}
		return &node{kind: scalarNode, value: y.Value}, nil
	case yaml.SequenceNode:
		n := &node{kind: listNode}
		for _, c := range y.Content {
			k, err := fromYAML(c, depth+1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	case yaml.MappingNode:
		n := &node{kind: mapNode}
		for i := 0; i+1 < len(y.Content); i += 2 {
			key := y.Content[i]
			if key.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain name", key.Line)
			}
			v, err := fromYAML(y.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, key.Value)
			n.kids = append(n.kids, v)
		}
		return n, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", y.Line)
}

func decodeJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := fromJSON(dec, 0)
	if err != nil {
		return nil, jsonErr(dec, data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, jsonErr(dec, data, errors.New("more data after the end of the JSON document"))
	}
	return n, nil
}

// jsonErr names the line the decoder stopped at.
func jsonErr(dec *json.Decoder, data []byte, err error) error {
	off := min(int(dec.InputOffset()), len(data))
	return fmt.Errorf("line %d: %v", 1+bytes.Count(data[:off], []byte("\n")), err)
}

func fromJSON(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, errors.New("the file ends before the JSON document does")
	}
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: mapNode}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("an object key must be a string")
				}
				v, err := fromJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.kids = append(n.kids, v)
			}
			if _, err := dec.Token(); err != nil { // the closing }
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: listNode}
			for dec.More() {
				v, err := fromJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.kids = append(n.kids, v)
			}
			if _, err := dec.Token(); err != nil { // the closing ]
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	case string:
		return &node{kind: scalarNode, value: t}, nil
	case json.Number:
		return &node{kind: scalarNode, value: t.String()}, nil
	case bool:
		return &node{kind: scalarNode, value: fmt.Sprint(t)}, nil
	case nil:
		return &node{kind: scalarNode}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// decodeXML returns a mapping with the root element under its name, the
// same shape as the YAML and JSON exports ({zabbix_export: {…}}).
func decodeXML(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, errors.New("no XML element in the file")
		}
		if err != nil {
			return nil, xmlErr(dec, err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			n, err := fromXML(dec, 0)
			if err != nil {
				return nil, xmlErr(dec, err)
			}
			return &node{kind: mapNode, keys: []string{start.Name.Local}, kids: []*node{n}}, nil
		}
	}
}

func xmlErr(dec *xml.Decoder, err error) error {
	if _, ok := err.(*xml.SyntaxError); ok {
		return err // already names its line
	}
	line, _ := dec.InputPos()
	return fmt.Errorf("XML line %d: %v", line, err)
}

// fromXML reads the content of an element whose start tag was just read:
// an element with child elements is a mapping of them, any other one is
// its text.
func fromXML(dec *xml.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	var text strings.Builder
	n := &node{kind: scalarNode}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("the file ends inside an element")
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			kid, err := fromXML(dec, depth+1)
			if err != nil {
				return nil, err
			}
			n.kind = mapNode
			n.keys = append(n.keys, t.Name.Local)
			n.kids = append(n.kids, kid)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if n.kind == scalarNode {
				n.value = text.String()
			}
			return n, nil
		}
	}
}

package pages_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// node is an element (or, with tag "", a text) of a parsed page. The pages
// are read with encoding/xml in its HTML mode (void elements auto-closed,
// HTML entities, attributes without values), which is enough for HTML that
// html/template wrote: no third-party parser is needed.
type node struct {
	tag    string
	attr   map[string]string
	kids   []*node
	text   string
	parent *node
}

func parseHTML(t *testing.T, body string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{tag: "#document", attr: map[string]string{}}
	cur := root
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the page is not well-formed HTML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{tag: strings.ToLower(tok.Name.Local), attr: map[string]string{}, parent: cur}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Name.Local)
				if a.Name.Space != "" {
					name = strings.ToLower(a.Name.Space) + ":" + name
				}
				if _, dup := n.attr[name]; dup {
					t.Errorf("<%s> has attribute %s twice", n.tag, name)
				}
				n.attr[name] = a.Value
			}
			cur.kids = append(cur.kids, n)
			cur = n
		case xml.EndElement:
			if cur.parent != nil {
				cur = cur.parent
			}
		case xml.CharData:
			cur.kids = append(cur.kids, &node{text: string(tok), parent: cur})
		}
	}
	return root
}

func (n *node) all(pred func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(x *node) {
		for _, k := range x.kids {
			if k.tag != "" && pred(k) {
				out = append(out, k)
			}
			walk(k)
		}
	}
	walk(n)
	return out
}

func (n *node) tags(tag string) []*node {
	return n.all(func(x *node) bool { return x.tag == tag })
}

func (n *node) byID(id string) *node {
	found := n.all(func(x *node) bool { return x.attr["id"] == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

func (n *node) has(attr string) bool {
	_, ok := n.attr[attr]
	return ok
}

// text is the element's text content with white space collapsed.
func (n *node) textContent() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(x *node) {
		if x.tag == "" {
			b.WriteString(x.text)
			return
		}
		if x.tag == "script" || x.tag == "style" {
			return
		}
		for _, k := range x.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (n *node) hidden() bool {
	for x := n; x != nil; x = x.parent {
		if x.has("hidden") || x.attr["aria-hidden"] == "true" || x.tag == "noscript" || x.tag == "template" {
			return true
		}
	}
	return false
}

// role is the element's ARIA role, as a browser maps it (HTML-AAM), for the
// elements the pages use. Password inputs have no role; they are "password"
// here so that tests can name them.
func (n *node) role() string {
	if r := n.attr["role"]; r != "" {
		return r
	}
	switch n.tag {
	case "button":
		return "button"
	case "a":
		if n.has("href") {
			return "link"
		}
	case "img":
		if n.attr["alt"] == "" && !n.has("aria-label") {
			return "presentation"
		}
		return "img"
	case "input":
		switch n.attr["type"] {
		case "", "text":
			return "textbox"
		case "password":
			return "password"
		case "submit", "button":
			return "button"
		}
	case "h1", "h2", "h3":
		return "heading"
	case "main":
		return "main"
	}
	return ""
}

// name is the element's accessible name (the parts of the W3C accname
// algorithm the pages need): aria-labelledby, aria-label, <label for>, alt,
// then its content.
func (n *node) name(doc *node) string {
	if ids := n.attr["aria-labelledby"]; ids != "" {
		var parts []string
		for _, id := range strings.Fields(ids) {
			if x := doc.byID(id); x != nil {
				parts = append(parts, x.textContent())
			}
		}
		return strings.Join(parts, " ")
	}
	if l := strings.TrimSpace(n.attr["aria-label"]); l != "" {
		return l
	}
	switch n.tag {
	case "input", "select", "textarea":
		if id := n.attr["id"]; id != "" {
			for _, l := range doc.tags("label") {
				if l.attr["for"] == id {
					return l.textContent()
				}
			}
		}
		return ""
	case "img":
		return n.attr["alt"]
	}
	return n.textContent()
}

// description is the element's accessible description (aria-describedby).
func (n *node) description(doc *node) string {
	var parts []string
	for _, id := range strings.Fields(n.attr["aria-describedby"]) {
		if x := doc.byID(id); x != nil {
			parts = append(parts, x.textContent())
		}
	}
	return strings.Join(parts, " ")
}

// controls returns the visible elements with the role and the exact name.
func (n *node) controls(role, name string) []*node {
	return n.all(func(x *node) bool { return x.role() == role && x.name(n) == name && !x.hidden() })
}

// control returns the one visible element with the role and name, failing
// the test if there is none or more than one (a browser test's getByRole
// would be ambiguous).
func (n *node) control(t *testing.T, role, name string) *node {
	t.Helper()
	found := n.controls(role, name)
	if len(found) != 1 {
		t.Fatalf("%d elements with role %s named %q, want 1", len(found), role, name)
	}
	return found[0]
}

// form returns the form an element is in.
func (n *node) form() *node {
	for x := n.parent; x != nil; x = x.parent {
		if x.tag == "form" {
			return x
		}
	}
	return nil
}

// fields returns a form's inputs with a name, as the browser would send them
// (hidden ones included, buttons not).
func (n *node) fields() map[string]string {
	out := map[string]string{}
	for _, in := range n.tags("input") {
		if in.attr["name"] != "" && in.attr["type"] != "submit" {
			out[in.attr["name"]] = in.attr["value"]
		}
	}
	return out
}

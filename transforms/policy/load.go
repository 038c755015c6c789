package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/recal-project/recal/transforms/cases"
	"github.com/recal-project/recal/transforms/civil"
)

// MaxFileBytes bounds a policy file.
const MaxFileBytes = 1 << 20

// maxExprBytes bounds one expression.
const maxExprBytes = 4096

// Limits on numeric settings.
const (
	maxNoticeDays  = 365
	maxHorizonDays = 3650
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Load parses, checks and compiles the policy in data; name is the file
// name used in errors. Every problem found is returned, as an ErrorList.
func Load(name string, data []byte) (*Policy, error) {
	l := &loader{file: name, lines: bytes.Split(data, []byte("\n"))}
	p := l.load(data)
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			a, b := l.errs[i], l.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, l.errs
	}
	h := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(h[:])
	p.Source = name
	return p, nil
}

// loader walks the YAML tree, collecting errors rather than stopping at
// the first.
type loader struct {
	file  string
	lines [][]byte
	errs  ErrorList
	env   *compiler
}

func (l *loader) add(e *Error) {
	if len(l.errs) < maxErrors {
		e.File = l.file
		l.errs = append(l.errs, e)
	}
}

func (l *loader) errf(n *yaml.Node, path string, sentinel error, format string, a ...any) {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, a...), Err: sentinel}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	l.add(e)
}

var (
	yamlLine  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	anchorRef = regexp.MustCompile(`unknown anchor '([^']+)' referenced`)
)

func (l *loader) load(data []byte) *Policy {
	if len(data) > MaxFileBytes {
		l.errf(nil, "", ErrValue, "policy file is %d bytes; the limit is %d", len(data), MaxFileBytes)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errf(nil, "", ErrSyntax, "the file is empty; a policy is a YAML mapping with id, title, effective, …")
			return nil
		}
		l.yamlErr(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errf(&extra, "", ErrSyntax, "a policy file holds one YAML document; found another")
		return nil
	} else if !errors.Is(err, io.EOF) {
		l.yamlErr(err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	c, err := newCompiler()
	if err != nil {
		l.errf(nil, "", ErrPolicy, "expression environment: %v", err)
		return nil
	}
	l.env = c
	return l.policy(root)
}

func (l *loader) yamlErr(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		// "unknown anchor 'x' referenced" has no line: find the reference.
		if m := anchorRef.FindStringSubmatch(msg); m != nil {
			for i, ln := range l.lines {
				if bytes.Contains(ln, []byte("*"+m[1])) {
					line = i + 1
					break
				}
			}
		}
	}
	l.add(&Error{Line: line, Msg: "YAML: " + msg, Err: ErrSyntax})
}

// mapping checks that n is a mapping with only the allowed keys (each at
// most once) and returns the values by key.
func (l *loader) mapping(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	if n.Kind == yaml.AliasNode {
		l.errf(n, path, ErrValue, "YAML aliases are not allowed in a policy")
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, path, ErrValue, "expected a mapping with keys %s, found %s", strings.Join(allowed, ", "), kindName(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if !contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			l.errf(k, kp, ErrUnknownKey, "%s; allowed here: %s", msg, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			l.errf(k, kp, ErrUnknownKey, "key %q appears twice", k.Value)
			continue
		}
		if v.Kind == yaml.AliasNode {
			l.errf(v, kp, ErrValue, "YAML aliases are not allowed in a policy")
			continue
		}
		out[k.Value] = v
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	}
	return "an alias"
}

// required reports a missing key at the mapping n.
func (l *loader) required(m map[string]*yaml.Node, parent *yaml.Node, path string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if v, found := m[k]; !found || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			l.errf(parent, join(path, k), ErrMissingKey, "missing required key %q", k)
			ok = false
		}
	}
	return ok
}

func (l *loader) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n, path, ErrValue, "expected a single value, found %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (l *loader) text(n *yaml.Node, path string) string {
	s, ok := l.scalar(n, path)
	if ok && strings.TrimSpace(s) == "" {
		l.errf(n, path, ErrValue, "must not be empty")
	}
	return strings.TrimSpace(s)
}

func (l *loader) intIn(n *yaml.Node, path string, lo, hi int, why string) int {
	s, ok := l.scalar(n, path)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || n.Tag != "!!int" {
		l.errf(n, path, ErrValue, "expected a whole number of days, found %q", s)
		return 0
	}
	if v < lo || v > hi {
		l.errf(n, path, ErrValue, "%d is outside %d..%d%s", v, lo, hi, why)
	}
	return v
}

func (l *loader) id(n *yaml.Node, path string) string {
	s, ok := l.scalar(n, path)
	if !ok {
		return ""
	}
	if !idPattern.MatchString(s) {
		l.errf(n, path, ErrValue, "id %q must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", s)
	}
	return s
}

var topKeys = []string{"id", "title", "effective", "rationale", "notice", "horizon_days", "exempt", "recalendar", "tiers", "score", "docket"}

func (l *loader) policy(root *yaml.Node) *Policy {
	m := l.mapping(root, "", topKeys...)
	if m == nil {
		return nil
	}
	l.required(m, root, "", "id", "title", "effective", "horizon_days", "recalendar", "tiers", "score", "docket")
	p := &Policy{MinNoticeDays: INANoticeFloor}
	if n := m["id"]; n != nil {
		p.ID = l.id(n, "id")
	}
	if n := m["title"]; n != nil {
		p.Title = l.text(n, "title")
	}
	if n := m["rationale"]; n != nil {
		p.Rationale = l.text(n, "rationale")
	}
	if n := m["effective"]; n != nil {
		if s, ok := l.scalar(n, "effective"); ok {
			d, ok := civil.ParseDate(s)
			if !ok || len(s) != 10 {
				l.errf(n, "effective", ErrValue, "expected a date YYYY-MM-DD, found %q", s)
			}
			p.Effective = d
		}
	}
	l.notice(p, m["notice"])
	if n := m["horizon_days"]; n != nil {
		p.HorizonDays = l.intIn(n, "horizon_days", 1, maxHorizonDays, "")
	}

	ids := map[string]*yaml.Node{}
	l.ruleLists(p, m, root, ids)
	if n := m["score"]; n != nil {
		p.score = l.expr(n, "score", scoreExpr)
	}
	if n := m["docket"]; n != nil {
		p.dockets = l.rules(n, "docket", ids, docketRule) // no match: NON_DETAINED
	}
	return p
}

// notice reads the notice section n (nil: absent) into p: the notice
// lead, and the juveniles' (the general one unless set, never less).
func (l *loader) notice(p *Policy, n *yaml.Node) {
	juvenileSet := false
	if n != nil {
		nm := l.mapping(n, "notice", "min_days", "juvenile_min_days")
		if v := nm["min_days"]; v != nil {
			p.MinNoticeDays = l.intIn(v, "notice.min_days", INANoticeFloor, maxNoticeDays, " (INA 239(b)(1) sets a floor of 10 days)")
		}
		if v := nm["juvenile_min_days"]; v != nil {
			p.JuvenileNoticeDays = l.intIn(v, "notice.juvenile_min_days", INANoticeFloor, maxNoticeDays, "")
			juvenileSet = true
		}
	}
	if !juvenileSet {
		p.JuvenileNoticeDays = p.MinNoticeDays
	} else if p.JuvenileNoticeDays < p.MinNoticeDays {
		l.errf(n, "notice.juvenile_min_days", ErrValue, "juvenile_min_days %d is less than min_days %d", p.JuvenileNoticeDays, p.MinNoticeDays)
	}
}

// ruleLists reads the exempt, recalendar and tier rules of mapping m (of
// node root) into p, with their ids (unique across lists, in ids).
func (l *loader) ruleLists(p *Policy, m map[string]*yaml.Node, root *yaml.Node, ids map[string]*yaml.Node) {
	p.RuleIDs, p.RuleRationale = []string{NotSelected}, []string{"matched no exempt or recalendar rule"}
	if n := m["exempt"]; n != nil {
		p.exempt = l.rules(n, "exempt", ids, decisionRule)
	}
	if n := m["recalendar"]; n != nil {
		p.recalendar = l.rules(n, "recalendar", ids, decisionRule)
	}
	p.NumExempt = len(p.exempt)
	for _, r := range append(append([]*rule(nil), p.exempt...), p.recalendar...) {
		p.RuleIDs = append(p.RuleIDs, r.id)
		p.RuleRationale = append(p.RuleRationale, r.rationale)
	}
	if n := m["tiers"]; n != nil {
		p.tiers = l.rules(n, "tiers", ids, tierRule)
	}
	for _, r := range p.tiers {
		p.TierRuleIDs = append(p.TierRuleIDs, r.id)
	}
	p.TierRuleIDs = append(p.TierRuleIDs, DefaultTier)
	if len(p.TierRuleIDs) > 255 {
		l.errf(m["tiers"], "tiers", ErrValue, "at most 254 tiers")
	}
	if len(p.RuleIDs) > 65535 {
		l.errf(root, "", ErrValue, "too many rules")
	}
}

func (l *loader) seq(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "exempt:" with nothing: an empty list
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, path, ErrValue, "expected a list of rules, found %s", kindName(n))
		return nil
	}
	return n.Content
}

func (l *loader) claim(ids map[string]*yaml.Node, n *yaml.Node, path, id string) {
	if id == "" {
		return
	}
	if id == NotSelected || id == DefaultTier {
		l.errf(n, path, ErrDuplicateID, "rule id %q is reserved", id)
		return
	}
	if prev, dup := ids[id]; dup {
		l.errf(n, path, ErrDuplicateID, "rule id %q is already used at line %d", id, prev.Line)
		return
	}
	ids[id] = n
}

// ruleKind says which keys a list's rules have.
type ruleKind int

const (
	decisionRule ruleKind = iota // exempt, recalendar: id, when, rationale required
	tierRule                     // id and when required, rationale optional
	docketRule                   // docket and when required, id and rationale optional
)

// rules reads an ordered list of rules.
func (l *loader) rules(n *yaml.Node, path string, ids map[string]*yaml.Node, kind ruleKind) []*rule {
	allowed, required := []string{"id", "when", "rationale"}, []string{"id", "when", "rationale"}
	switch kind {
	case tierRule:
		required = required[:2]
	case docketRule:
		allowed, required = append(allowed, "docket"), []string{"docket", "when"}
	}
	var out []*rule
	for i, item := range l.seq(n, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		m := l.mapping(item, ip, allowed...)
		if m == nil {
			continue
		}
		l.required(m, item, ip, required...)
		r := &rule{}
		if v := m["id"]; v != nil {
			r.id = l.id(v, ip+".id")
			l.claim(ids, v, ip+".id", r.id)
		}
		if v := m["docket"]; v != nil {
			if s, ok := l.scalar(v, ip+".docket"); ok {
				d, ok := cases.ParseDocket(s)
				if !ok {
					l.errf(v, ip+".docket", ErrValue, "docket %q is not DETAINED, NON_DETAINED or JUVENILE", s)
				}
				r.docket = d
			}
		}
		if v := m["rationale"]; v != nil {
			r.rationale = l.text(v, ip+".rationale")
		}
		if v := m["when"]; v != nil {
			r.when = l.expr(v, ip+".when", condExpr)
		}
		out = append(out, r)
	}
	return out
}

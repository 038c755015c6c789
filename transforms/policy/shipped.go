package policy

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed shipped/*.yaml
var shippedFS embed.FS

// Shipped lists the ids of the policies that ship with recal, sorted.
func Shipped() []string {
	ents, _ := shippedFS.ReadDir("shipped")
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// ShippedSource returns the YAML text of a shipped policy.
func ShippedSource(id string) ([]byte, bool) {
	if !idPattern.MatchString(id) {
		return nil, false
	}
	b, err := shippedFS.ReadFile("shipped/" + id + ".yaml")
	return b, err == nil
}

var shippedCache sync.Map // id → *Policy

// LoadShipped loads a shipped policy by id.
func LoadShipped(id string) (*Policy, error) {
	if p, ok := shippedCache.Load(id); ok {
		return p.(*Policy), nil
	}
	b, ok := ShippedSource(id)
	if !ok {
		return nil, fmt.Errorf("%w: no shipped policy %q (shipped: %s)", ErrPolicy, id, strings.Join(Shipped(), ", "))
	}
	p, err := Load("shipped:"+id+".yaml", b)
	if err != nil {
		return nil, err
	}
	shippedCache.Store(id, p)
	return p, nil
}

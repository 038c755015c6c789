package eoirimport

import "math/bits"

// idIndex maps the sorted ids of the closed cases to their positions. For
// ids up to maxDense it is a bitset with a running count per word (about
// 0.19 bytes per possible id: 2.8 MB for ids up to 15M), where a lookup is
// a few instructions and a miss, the common case, touches one word; past
// that, a map.
type idIndex struct {
	bits   []uint64
	prefix []int32 // set bits before each word
	m      map[int64]int32
}

const maxDense = 1 << 31

// newIDIndex indexes ids, which must be ascending and positive.
func newIDIndex(ids []int64) *idIndex {
	x := &idIndex{}
	if len(ids) > 0 && ids[len(ids)-1] >= maxDense {
		x.m = make(map[int64]int32, len(ids))
		for i, id := range ids {
			x.m[id] = int32(i)
		}
		return x
	}
	var words int64
	if len(ids) > 0 {
		words = ids[len(ids)-1]/64 + 1
	}
	x.bits, x.prefix = make([]uint64, words), make([]int32, words)
	for _, id := range ids {
		x.bits[id/64] |= 1 << (id % 64)
	}
	n := int32(0)
	for w, b := range x.bits {
		x.prefix[w] = n
		n += int32(bits.OnesCount64(b))
	}
	return x
}

// get returns id's position among the indexed ids.
func (x *idIndex) get(id int64) (int32, bool) {
	if x.m != nil {
		i, ok := x.m[id]
		return i, ok
	}
	w := id / 64
	if id < 0 || w >= int64(len(x.bits)) {
		return 0, false
	}
	b := x.bits[w]
	mask := uint64(1) << (id % 64)
	if b&mask == 0 {
		return 0, false
	}
	return x.prefix[w] + int32(bits.OnesCount64(b&(mask-1))), true
}

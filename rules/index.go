package rules

import (
	"slices"

	"vigie/record"
	"vigie/store/query"
)

// matcherIndex files each query under its keys (query.Keys): a record is
// tried only against the queries one of whose keys it meets, and those
// without keys. With a hundred rules most records meet the keys of a few.
type matcherIndex struct {
	always []int32
	eq     []eqIndex
	prefix []prefixIndex
	num    []numIndex
	word   map[string][]int32
	// wordSeen has the bit of every indexed word's wordBit set: most of a
	// message's words are in no rule, and testing a bit costs less than a
	// map lookup.
	wordSeen [64]uint64
}

// wordBit mixes a word's first and last bytes and its length into one of
// 4096 bits; words told apart by these seldom share a bit.
func wordBit(w string) uint {
	if w == "" {
		return 0
	}
	return ((uint(w[0])*131+uint(w[len(w)-1]))*131 + uint(len(w))) % 4096
}

// eqIndex holds the queries that need one field to equal a value.
type eqIndex struct {
	field query.Field
	by    map[string][]int32
}

// prefixIndex holds the queries that need one field to start with a
// prefix; lens are the distinct prefix lengths, so a record costs one map
// lookup per length rather than one test per query.
type prefixIndex struct {
	field query.Field
	by    map[string][]int32
	lens  []int
}

// numIndex holds the queries that compare one field as a number: the
// field is read once per record, and only the queries whose comparison
// holds are tried.
type numIndex struct {
	name string
	keys []numKey
}

type numKey struct {
	k  query.Key
	js []int32 // the query, as a slice for try
}

func indexMatchers(ms []*matcher) matcherIndex {
	ix := matcherIndex{word: map[string][]int32{}}
	for j, m := range ms {
		keys := m.q.Keys()
		if keys == nil {
			ix.always = append(ix.always, int32(j))
		}
		for _, k := range keys {
			switch k.Kind {
			case query.KeyWord:
				ix.word[k.Text] = append(ix.word[k.Text], int32(j))
				b := wordBit(k.Text)
				ix.wordSeen[b/64] |= 1 << (b % 64)
			case query.KeyEq:
				e := ix.eqFor(k.Field)
				e.by[k.Text] = append(e.by[k.Text], int32(j))
			case query.KeyPrefix:
				p := ix.prefixFor(k.Field)
				p.by[k.Text] = append(p.by[k.Text], int32(j))
				if !slices.Contains(p.lens, len(k.Text)) {
					p.lens = append(p.lens, len(k.Text))
				}
			case query.KeyNum:
				n := ix.numFor(k.Field.Name)
				n.keys = append(n.keys, numKey{k, []int32{int32(j)}})
			}
		}
	}
	return ix
}

func (ix *matcherIndex) eqFor(f query.Field) *eqIndex {
	for i := range ix.eq {
		if ix.eq[i].field == f {
			return &ix.eq[i]
		}
	}
	ix.eq = append(ix.eq, eqIndex{field: f, by: map[string][]int32{}})
	return &ix.eq[len(ix.eq)-1]
}

func (ix *matcherIndex) prefixFor(f query.Field) *prefixIndex {
	for i := range ix.prefix {
		if ix.prefix[i].field == f {
			return &ix.prefix[i]
		}
	}
	ix.prefix = append(ix.prefix, prefixIndex{field: f, by: map[string][]int32{}})
	return &ix.prefix[len(ix.prefix)-1]
}

func (ix *matcherIndex) numFor(name string) *numIndex {
	for i := range ix.num {
		if ix.num[i].name == name {
			return &ix.num[i]
		}
	}
	ix.num = append(ix.num, numIndex{name: name})
	return &ix.num[len(ix.num)-1]
}

// candidates calls try with the queries r may match (its words in w);
// a query filed under several keys may come more than once.
func (ix *matcherIndex) candidates(r *record.Record, w *query.Words, try func([]int32)) {
	try(ix.always)
	for i := range ix.eq {
		if v, ok := ix.eq[i].field.Get(r); ok {
			try(ix.eq[i].by[v])
		}
	}
	for i := range ix.prefix {
		p := &ix.prefix[i]
		if v, ok := p.field.Get(r); ok {
			for _, n := range p.lens {
				if n <= len(v) {
					try(p.by[v[:n]])
				}
			}
		}
	}
	for i := range ix.num {
		n := &ix.num[i]
		v, ok := query.Number(r.Fields[n.name])
		if !ok {
			continue
		}
		for _, nk := range n.keys {
			if nk.k.Compare(v) {
				try(nk.js)
			}
		}
	}
	if len(ix.word) > 0 {
		for _, x := range w.List() {
			if b := wordBit(x); ix.wordSeen[b/64]&(1<<(b%64)) != 0 {
				try(ix.word[x])
			}
		}
	}
}

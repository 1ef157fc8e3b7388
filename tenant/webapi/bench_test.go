package webapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-superoffice/superoffice/tenant/webapi/internal/spec"
)

// contactEntityResponse is a full ContactEntity as GetContactEntity
// returns it: every field, objects three levels deep, three persons and
// field properties for every field.
func contactEntityResponse(tb testing.TB) []byte {
	s := loadSpec(tb)
	smp := &spec.Sampler{Spec: s}
	obj := smp.Object("ContactEntity", 0)
	props := map[string]any{}
	for _, f := range s.AllFields(s.TypeByName("ContactEntity")) {
		props[f.Wire] = smp.Object("FieldProperty", 1)
	}
	obj["FieldProperties"] = props
	obj["Persons"] = []any{smp.Object("Person", 1), smp.Object("Person", 1), smp.Object("Person", 1)}
	return mustJSON(tb, obj)
}

func TestBenchmarkTypesDecodeTheSameResponse(t *testing.T) {
	b := contactEntityResponse(t)
	var gen ContactEntity
	var hand handContactEntity
	require.NoError(t, json.Unmarshal(b, &gen))
	require.NoError(t, json.Unmarshal(b, &hand))
	assert.Equal(t, hand.Name, gen.Name)
	assert.Len(t, gen.Persons, 3)
	assert.Len(t, hand.Persons, 3)
	assert.Len(t, gen.FieldProperties, len(hand.FieldProperties))
	assert.JSONEq(t, string(b), string(mustJSON(t, gen)), "the generated ContactEntity round-trips the response")
}

// BenchmarkDecodeContactEntity compares decoding a full ContactEntity with
// the generated type and with the plain hand-written one.
func BenchmarkDecodeContactEntity(b *testing.B) {
	data := contactEntityResponse(b)
	b.Run("generated", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v ContactEntity
			require.NoError(b, json.Unmarshal(data, &v))
		}
	})
	b.Run("hand", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v handContactEntity
			require.NoError(b, json.Unmarshal(data, &v))
		}
	})
}

// BenchmarkDecodeContactEntityRatio decodes with both types in turn and
// reports the generated type's time over the hand-written one's (the
// fastest of each), which a loaded machine disturbs far less than two
// separate benchmarks.
func BenchmarkDecodeContactEntityRatio(b *testing.B) {
	data := contactEntityResponse(b)
	minGen, minHand := time.Duration(1<<62), time.Duration(1<<62)
	for b.Loop() {
		start := time.Now()
		var g ContactEntity
		require.NoError(b, json.Unmarshal(data, &g))
		mid := time.Now()
		var h handContactEntity
		require.NoError(b, json.Unmarshal(data, &h))
		end := time.Now()
		minGen, minHand = min(minGen, mid.Sub(start)), min(minHand, end.Sub(mid))
	}
	b.ReportMetric(float64(minGen)/float64(minHand), "gen/hand")
}

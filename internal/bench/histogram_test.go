package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted ds.
func exactQuantile(ds []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(ds)) + 0.999999999)
	rank = min(max(rank, 1), len(ds))
	return ds[rank-1]
}

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Every value falls in a bucket whose upper bound is at least the value
	// and whose previous bucket's upper bound is below it.
	vals := []uint64{0, 1, 63, 64, 65, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<20 + 12345, 1 << 40, 1<<62 + 7}
	for _, v := range vals {
		b := bucket(v)
		if upper(b) < v {
			t.Errorf("value %d: bucket %d ends at %d, below it", v, b, upper(b))
		}
		if b > 0 && upper(b-1) >= v {
			t.Errorf("value %d: bucket %d, but bucket %d already ends at %d", v, b, b-1, upper(b-1))
		}
		if v >= 64 && float64(upper(b)-v) > float64(v)/64 {
			t.Errorf("value %d: bucket %d is wider than 1/64 (ends at %d)", v, b, upper(b))
		}
	}
}

func TestQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"uniform 1..1000 ms", func(i int) time.Duration { return time.Duration(i+1) * time.Millisecond }, 1000},
		{"exponential, mean 5 ms", func(int) time.Duration { return time.Duration(r.ExpFloat64() * 5e6) }, 20000},
		{"bimodal 1 ms and 200 ms", func(i int) time.Duration {
			if i%10 == 0 {
				return 200 * time.Millisecond
			}
			return time.Millisecond
		}, 5000},
		{"one value", func(int) time.Duration { return 42 * time.Microsecond }, 1},
		{"tiny values in ns", func(i int) time.Duration { return time.Duration(i % 50) }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			ds := make([]time.Duration, tt.n)
			var sum time.Duration
			for i := range ds {
				ds[i] = tt.gen(i)
				sum += ds[i]
				h.Record(ds[i])
			}
			slices.Sort(ds)
			if h.Count() != uint64(tt.n) || h.Max() != ds[len(ds)-1] || h.Mean() != sum/time.Duration(tt.n) {
				t.Fatalf("count %d max %s mean %s, want %d %s %s", h.Count(), h.Max(), h.Mean(), tt.n, ds[len(ds)-1], sum/time.Duration(tt.n))
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(ds, q)
				if got < want || float64(got-want) > float64(want)/64+1 {
					t.Errorf("q=%v: %s, want %s (within 1/64 above)", q, got, want)
				}
			}
		})
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	var a, b, all Histogram
	for i := range 3000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("q=%v: merged %s, all %s", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != all.Count() || m.Mean() != all.Mean() || m.Max() != all.Max() {
		t.Errorf("merged %d/%s/%s, all %d/%s/%s", m.Count(), m.Mean(), m.Max(), all.Count(), all.Mean(), all.Max())
	}
}

func TestEmptyAndNegative(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram is not all zero")
	}
	h.Record(-time.Second)
	if h.Quantile(1) != 0 || h.Count() != 1 {
		t.Fatalf("negative duration: %s, %d", h.Quantile(1), h.Count())
	}
}

// Package bench drives whole logins against a running identity provider and
// measures them (CONTRACT.md, "openmitid bench"): a runner of N virtual users
// for a duration after a warm-up ([Run]), the OpenMitID flows over HTTP
// ([NewOpenMitID]), the bulk loader's identities ([LoadSpec]), and the
// password hash's bound ([HashRate]).
//
// A [Flow] performs one whole login at a time for one virtual user, ending in
// the OpenID Connect code exchange, and reports each step's duration to a
// [Recorder]; the runner adds the whole login's duration, counts logins and
// errors by kind, and reports percentiles from [Histogram]s.
package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBits is the number of bits below the leading one that a bucket keeps:
// 2^6 = 64 buckets per power of two, so a bucket's width is at most 1/64 of
// its lower bound and a reported percentile is within 1.6 % of the truth.
const subBits = 6

// A Histogram counts durations in logarithmic buckets (the HdrHistogram idea,
// simplified): constant memory, exact counts, percentiles to within 1.6 %. The
// zero value is empty and ready. It is not safe for concurrent use; the runner
// keeps one per virtual user and merges them.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

// bucket returns the bucket of v ≥ 0: values below 2^subBits ns have a bucket
// each; above, a power of two is split into 2^subBits buckets.
func bucket(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - 1 - subBits // how far v's top subBits+1 bits are shifted
	return (e+1)<<subBits + int(v>>e) - 1<<subBits
}

// upper returns the largest value that falls in bucket b.
func upper(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	e := b>>subBits - 1
	top := uint64(b&(1<<subBits-1)) + 1<<subBits
	return (top+1)<<e - 1
}

// Record adds one duration; a negative one counts as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	b := bucket(uint64(d))
	if b >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, b+1-len(h.counts))...)
	}
	h.counts[b]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds o's durations to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Mean returns the mean duration (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max returns the longest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank method: the
// smallest recorded duration, to within the bucket's width, that at least
// ⌈q·n⌉ of the durations do not exceed. It never exceeds the maximum
// recorded. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(time.Duration(upper(b)), h.min), h.max)
		}
	}
	return h.max // unreachable: the counts add up to n
}

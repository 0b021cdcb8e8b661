package gbdt

import (
	"sync"
	"sync/atomic"
)

// parallelFor calls fn(i) for every i in [0, n) on up to workers
// goroutines. Callers keep results deterministic by writing fn(i)'s result
// to slot i and combining slots in index order afterwards.
func parallelFor(n, workers int, fn func(i int)) {
	parallelForWorker(n, workers, func(_, i int) { fn(i) })
}

// parallelForWorker is parallelFor with the index of the goroutine, in
// [0, workers), that calls fn: callers give each goroutine a buffer of its
// own.
func parallelForWorker(n, workers int, fn func(worker, i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(w, i)
			}
		}()
	}
	wg.Wait()
}

// sumBlockRows is the fixed block size of parallel row sums: partial sums
// per block are added in block order, so totals do not depend on the
// number of workers.
const sumBlockRows = 16384

// parallelSum returns the sum over rows [0, n) of fn(lo, hi), computed
// per fixed-size block in parallel and added in block order.
func parallelSum(n, workers int, fn func(lo, hi int) float64) float64 {
	a, _ := parallelSum2(n, workers, func(lo, hi int) (float64, float64) { return fn(lo, hi), 0 })
	return a
}

// parallelSum2 is parallelSum for two sums taken in the same pass.
func parallelSum2(n, workers int, fn func(lo, hi int) (a, b float64)) (a, b float64) {
	blocks := (n + sumBlockRows - 1) / sumBlockRows
	parts := make([][2]float64, blocks)
	parallelFor(blocks, workers, func(i int) {
		x, y := fn(i*sumBlockRows, min((i+1)*sumBlockRows, n))
		parts[i] = [2]float64{x, y}
	})
	for _, p := range parts {
		a += p[0]
		b += p[1]
	}
	return a, b
}

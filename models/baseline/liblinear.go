package baseline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/linear_models"
)

// golearnLogs routes golearn's logger (liblinear prints every solver
// iteration through it, to stdout by default) to slog at debug level.
var golearnLogs sync.Once

func quietGolearn() {
	golearnLogs.Do(func() { base.SetLogger(log.New(debugWriter{}, "", 0)) })
}

// debugWriter logs each write at debug level on the current slog default.
type debugWriter struct{}

func (debugWriter) Write(p []byte) (int, error) {
	if msg := strings.TrimSpace(string(p)); msg != "" {
		slog.Debug("golearn", "msg", msg)
	}
	return len(p), nil
}

// pinProblem pins the Go memory a liblinear problem points to, so that
// passing it to C satisfies the cgo pointer rules without GODEBUG=cgocheck=0.
//
// linear_models.NewProblem allocates three Go objects and stores pointers
// to them in the C struct it returns: the label array (problem.y), the
// array of row pointers (problem.x) and the feature-node array the row
// pointers point into. linear_models.Train then passes &problem to C,
// which the runtime's cgo check rejects ("cgo argument has Go pointer to
// unpinned Go pointer") unless those objects are pinned. golearn exports
// no way to reach them, so we read the two pointer fields by name through
// reflect (read-only; no layout is assumed) and follow problem.x to the
// first row's nodes, which all rows share one allocation with.
func pinProblem(p *linear_models.Problem, pin *runtime.Pinner) error {
	prob := reflect.ValueOf(p).Elem().FieldByName("c_prob")
	if !prob.IsValid() {
		return errors.New("baseline: golearn's linear_models.Problem has no c_prob field: the golearn version changed, see pinProblem")
	}
	y, x := prob.FieldByName("y"), prob.FieldByName("x")
	if !y.IsValid() || !x.IsValid() || y.Kind() != reflect.Pointer || x.Kind() != reflect.Pointer {
		return errors.New("baseline: liblinear's struct problem has no y and x pointers: the golearn version changed, see pinProblem")
	}
	rows := x.UnsafePointer()
	if y.IsNil() || rows == nil {
		return errors.New("baseline: liblinear problem without rows")
	}
	pin.Pin(y.UnsafePointer())
	pin.Pin(rows)
	pin.Pin(*(*unsafe.Pointer)(rows)) // x[0]: the feature-node array of all rows
	return nil
}

// trainLiblinear fits L2-regularised logistic regression (liblinear's
// L2R_LR, primal trust-region Newton) on dense rows with 0/1 labels and
// returns one weight per column, for the positive class: P(y=1|x) =
// sigmoid(w.x). It adds no bias term: the caller adds a constant column.
func trainLiblinear(rows [][]float64, y []float64, c, eps float64) ([]float64, error) {
	quietGolearn()
	cols := len(rows[0])
	prob := linear_models.NewProblem(rows, y, 0)
	param := linear_models.NewParameter(linear_models.L2R_LR, c, eps)

	var pin runtime.Pinner
	if err := pinProblem(prob, &pin); err != nil {
		return nil, err
	}
	model := linear_models.Train(prob, param)
	pin.Unpin()
	runtime.KeepAlive(prob)

	// golearn exports the model only as liblinear's text file.
	f, err := os.CreateTemp("", "failcast-liblinear-*.model")
	if err != nil {
		return nil, fmt.Errorf("baseline: liblinear model file: %w", err)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := linear_models.Export(model, path); err != nil {
		return nil, fmt.Errorf("baseline: export liblinear model: %w", err)
	}
	f, err = os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: liblinear model file: %w", err)
	}
	defer f.Close()
	return parseLiblinearModel(f, cols)
}

// parseLiblinearModel reads a binary logistic-regression model in
// liblinear's save_model format and returns the first cols weights,
// oriented so that positive means label 1.
func parseLiblinearModel(r io.Reader, cols int) ([]float64, error) {
	sc := bufio.NewScanner(r)
	var labels []int
	nrFeature := -1
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "label":
			for _, s := range fields[1:] {
				v, err := strconv.Atoi(s)
				if err != nil {
					return nil, fmt.Errorf("baseline: liblinear model line %d: label %q: %w", line, s, err)
				}
				labels = append(labels, v)
			}
		case "nr_feature":
			if len(fields) != 2 {
				return nil, fmt.Errorf("baseline: liblinear model line %d: want \"nr_feature N\"", line)
			}
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				return nil, fmt.Errorf("baseline: liblinear model line %d: nr_feature: %w", line, err)
			}
			nrFeature = n
		case "w":
			if nrFeature < cols {
				return nil, fmt.Errorf("baseline: liblinear model has %d features, want at least %d", nrFeature, cols)
			}
			if len(labels) != 2 {
				return nil, fmt.Errorf("baseline: liblinear model has labels %v, want two classes", labels)
			}
			w := make([]float64, 0, nrFeature)
			for len(w) < nrFeature && sc.Scan() {
				line++
				for _, s := range strings.Fields(sc.Text()) {
					v, err := strconv.ParseFloat(s, 64)
					if err != nil {
						return nil, fmt.Errorf("baseline: liblinear model line %d: weight %q: %w", line, s, err)
					}
					w = append(w, v)
				}
			}
			if len(w) != nrFeature {
				return nil, fmt.Errorf("baseline: liblinear model has %d weights, want %d", len(w), nrFeature)
			}
			w = w[:cols]
			// liblinear's weights score labels[0] (the first label it saw).
			if labels[0] != 1 {
				for i := range w {
					w[i] = -w[i]
				}
			}
			return w, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("baseline: read liblinear model: %w", err)
	}
	return nil, errors.New("baseline: liblinear model has no weights")
}

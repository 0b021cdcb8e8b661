package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxCurvePoints bounds the points drawn per curve; longer curves are
// thinned evenly (keeping both ends), which is invisible at chart size.
const maxCurvePoints = 400

const chartSize = 5 * vg.Inch

func curveChart(title, xLabel, yLabel string, curves []Curve, diagonal bool) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top = !diagonal
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	if diagonal {
		d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return nil, err
		}
		d.Color = color.Gray{Y: 160}
		d.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(d)
	}
	for i, c := range curves {
		pts := thin(c.Points, maxCurvePoints)
		if len(pts) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(pts))
		for k, pt := range pts {
			xys[k] = plotter.XY{X: clamp01(pt.X), Y: clamp01(pt.Y)}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("curve %s: %w", c.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		if i == 0 {
			l.Width = vg.Points(2.5)
		}
		p.Add(l)
		label := c.Name
		if !math.IsNaN(c.AUC) {
			label = fmt.Sprintf("%s (AUC %.3f)", c.Name, c.AUC)
		}
		p.Legend.Add(label, l)
	}
	return renderPNG(p, chartSize, chartSize)
}

func calibrationChart(before, after []CalibrationBin) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Calibration (validation)"
	p.X.Label.Text = "mean predicted P(fail)"
	p.Y.Label.Text = "observed failure rate"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(plotter.NewGrid())
	d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	d.Color = color.Gray{Y: 160}
	d.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(d)
	series := []struct {
		name string
		bins []CalibrationBin
	}{{"model", before}, {"calibrated", after}}
	if len(after) == 0 {
		series = series[:1]
	}
	for k, s := range series {
		var xys plotter.XYs
		for _, b := range s.bins {
			if b.Count == 0 || math.IsNaN(b.MeanPredicted) || math.IsNaN(b.Observed) {
				continue
			}
			xys = append(xys, plotter.XY{X: clamp01(b.MeanPredicted), Y: clamp01(b.Observed)})
		}
		if len(xys) == 0 {
			continue
		}
		lp, sp, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		lp.Color = plotutil.Color(k)
		sp.Color = plotutil.Color(k)
		sp.Shape = plotutil.Shape(k)
		p.Add(lp, sp)
		p.Legend.Add(s.name, lp, sp)
		p.Legend.Top = true
		p.Legend.Left = true
	}
	return renderPNG(p, chartSize, chartSize)
}

func importanceChart(top []Importance) ([]byte, error) {
	// Horizontal bars, largest at the top.
	n := len(top)
	vals := make(plotter.Values, n)
	names := make([]string, n)
	for i, f := range top {
		vals[n-1-i] = f.Value
		names[n-1-i] = f.Feature
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Feature importance (top %d)", n)
	p.X.Label.Text = "importance"
	bars, err := plotter.NewBarChart(vals, vg.Points(10))
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(names...)
	p.X.Min = 0
	h := vg.Length(n)*vg.Points(16) + vg.Inch
	return renderPNG(p, 7*vg.Inch, h)
}

func classChart(title string, classes []ClassResult) ([]byte, error) {
	vals := make(plotter.Values, len(classes))
	names := make([]string, len(classes))
	for i, c := range classes {
		v := c.PRAUC
		if math.IsNaN(v) {
			v = 0
		}
		vals[i] = v
		names[i] = c.Name
	}
	p := plot.New()
	if title == "" {
		title = "Per-class results"
	}
	p.Title.Text = title + ": PR-AUC one-vs-rest"
	p.Y.Label.Text = "PR-AUC"
	p.Y.Min, p.Y.Max = 0, 1
	bars, err := plotter.NewBarChart(vals, vg.Points(18))
	if err != nil {
		return nil, err
	}
	bars.Color = plotutil.Color(1)
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	w := max(vg.Length(len(classes))*vg.Points(40)+2*vg.Inch, 6*vg.Inch)
	return renderPNG(p, w, 4*vg.Inch)
}

func renderPNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// thin returns at most n points of pts, evenly spaced, keeping both ends.
func thin(pts []Point, n int) []Point {
	if len(pts) <= n || n < 2 {
		return pts
	}
	out := make([]Point, 0, n)
	step := float64(len(pts)-1) / float64(n-1)
	for i := 0; i < n; i++ {
		out = append(out, pts[int(math.Round(float64(i)*step))])
	}
	return out
}

func clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

package models

import "fmt"

// Matrix is a dense row-major float32 matrix: the value of feature j for
// row i is Data[i*Cols+j]. Missing values are not allowed: the feature
// layer defines a value for every cell.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zeroed rows x cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// Row returns row i as a slice aliasing m.Data.
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// At returns the value of column j in row i.
func (m Matrix) At(i, j int) float32 { return m.Data[i*m.Cols+j] }

// Validate checks that the shape matches the data length.
func (m Matrix) Validate() error {
	if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("models: matrix shape %dx%d does not match %d values", m.Rows, m.Cols, len(m.Data))
	}
	return nil
}

// SelectRows returns a new matrix holding the given rows of m, in order.
func (m Matrix) SelectRows(rows []int) Matrix {
	out := NewMatrix(len(rows), m.Cols)
	for k, i := range rows {
		copy(out.Row(k), m.Row(i))
	}
	return out
}

// Slice returns rows [from, to) of m, aliasing m.Data.
func (m Matrix) Slice(from, to int) Matrix {
	return Matrix{Rows: to - from, Cols: m.Cols, Data: m.Data[from*m.Cols : to*m.Cols]}
}

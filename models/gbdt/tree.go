package gbdt

// tree is one regression tree as parallel flat arrays indexed by node;
// node 0 is the root and children always have larger indices than their
// parent. An internal node sends a row left when its value of feature is
// <= threshold (NaN goes right). A leaf has feature, left and right -1
// and holds its output in value (already scaled by the learning rate).
// gain is the loss reduction of an internal node's split (0 for leaves);
// it feeds feature importance. cover, nil until SetCover (or a model file
// with a cover section) sets it, is the number of reference rows reaching
// each node; TreeSHAP needs it (see shap.go).
type tree struct {
	feature   []int32
	threshold []float32
	left      []int32
	right     []int32
	value     []float64
	gain      []float64
	cover     []uint64
}

func (t *tree) numNodes() int { return len(t.feature) }

// addLeaf appends a leaf and returns its index.
func (t *tree) addLeaf() int32 {
	t.feature = append(t.feature, -1)
	t.threshold = append(t.threshold, 0)
	t.left = append(t.left, -1)
	t.right = append(t.right, -1)
	t.value = append(t.value, 0)
	t.gain = append(t.gain, 0)
	return int32(len(t.feature) - 1)
}

// predictRow returns the leaf value reached by row x.
func (t *tree) predictRow(x []float32) float64 {
	n := int32(0)
	for t.left[n] >= 0 {
		if x[t.feature[n]] <= t.threshold[n] {
			n = t.left[n]
		} else {
			n = t.right[n]
		}
	}
	return t.value[n]
}

// Package mix holds SplitMix64's finaliser, the one integer scramble that
// failcast's seeded, order-free draws are built on: the simulator's keys,
// training's down-sampling draws and the drift meter's row sample. A draw
// made this way depends only on its inputs (a seed, a row number), never
// on the order or chunking in which rows arrive.
package mix

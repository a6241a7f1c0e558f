// The first convolution fused with its ReLU and the max-pool after it: one
// pass over the (small) input image writes only the pooled output, and the
// backward pass reads only the pooled gradient and the winning positions.
// oneDNN instead writes and re-reads the full-resolution activation and its
// gradient (145 MB each for net2's conv1 at batch 128), which made pooling
// about a third of the training step.
#pragma once

#include <cstdint>

namespace fp {

struct FirstLayerShape {
  int64_t n, channels, height, width;  // input (plain NCHW)
  int64_t filters, kernel_h, kernel_w;  // filters % 16 == 0
  int64_t pool, pooled_h, pooled_w;     // pool <= 15
};

// Whether the fused kernels run here (AVX-512) for this shape; else the
// engine uses oneDNN's separate primitives.
bool first_layer_supported(const FirstLayerShape& s);

// dst is nChw16c: [n][filters / 16][pooled_h][pooled_w][16]. `winner` (same
// indexing, may be null) records the window position of each max, or 255 where
// the ReLU zeroed it (no gradient flows there).
void first_layer_forward(const FirstLayerShape& s, const float* x, const float* w_oihw, const float* bias, float* dst,
                         uint8_t* winner);

// Gradients of the weights (OIHW) and bias from the pooled gradient (nChw16c).
// `partial` holds n * filters * (channels * kernel_h * kernel_w + 1) floats of
// scratch; per-sample partial sums are added in sample order, so the result
// does not depend on the thread count.
void first_layer_backward(const FirstLayerShape& s, const float* x, const float* diff_dst, const uint8_t* winner,
                          float* diff_w_oihw, float* diff_bias, float* partial);

}  // namespace fp

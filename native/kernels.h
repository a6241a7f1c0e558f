// Element-wise loops that oneDNN has no primitive for: the masked loss, the
// seeded dropout and the Nesterov update. All are memory-bound OpenMP loops.
#pragma once

#include <cstdint>

namespace fp {

// Masked MSE over `count` values (NaN target = missing). Writes the gradient
// 2 (p - y) / present into `grad` when it is not null (0 for missing targets).
double masked_mse(const float* pred, const float* target, float* grad, int64_t count);

// Inverted dropout: keeps a value with probability 1 - rate and scales it by
// 1 / (1 - rate). The mask is a pure function of (seed, salt, index), so it is
// the same for any thread count.
void dropout_forward(const float* src, float* dst, uint8_t* mask, int64_t count, float rate, uint64_t seed,
                     uint64_t salt);
void dropout_backward(const float* diff_dst, float* diff_src, const uint8_t* mask, int64_t count, float rate);

// Lasagne's Nesterov momentum: v = m v - lr g; p = p + m v - lr g.
void nesterov_update(float* param, float* velocity, const float* grad, int64_t count, float lr, float momentum);

}  // namespace fp

// Element-wise loops that oneDNN has no primitive for: the masked losses, the
// seeded dropout and the updates (Nesterov, Adam). All are memory-bound loops.
#pragma once

#include <cstdint>

namespace fp {

// Masked MSE over `count` values (NaN target = missing). Writes the gradient
// 2 (p - y) / present into `grad` when it is not null (0 for missing targets).
double masked_mse(const float* pred, const float* target, float* grad, int64_t count);

// The losses of src/nn/loss.ts; kind 0 mse, 1 l1, 2 smooth-l1 (a = beta), 3 wing (a = w, b = epsilon).
struct LossParams {
  int kind = 0;
  double a = 0, b = 0;
};

// Masked mean of f(pred - target) over present targets (NaN target = missing);
// writes f'(d) / present into `grad` when it is not null (0 for missing targets).
double masked_loss(const LossParams& loss, const float* pred, const float* target, float* grad, int64_t count);

// Inverted dropout: keeps a value with probability 1 - rate and scales it by
// 1 / (1 - rate). The mask is a pure function of (seed, salt, index), so it is
// the same for any thread count.
void dropout_forward(const float* src, float* dst, uint8_t* mask, int64_t count, float rate, uint64_t seed,
                     uint64_t salt);
void dropout_backward(const float* diff_dst, float* diff_src, const uint8_t* mask, int64_t count, float rate);

// Lasagne's Nesterov momentum: v = m v - lr g; p = p + m v - lr g, with g = grad + decay * p.
void nesterov_update(float* param, float* velocity, const float* grad, int64_t count, float lr, float momentum,
                     float decay);

// Lasagne's Adam with g = grad + decay * p: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p = p - step_size * m / (sqrt(v) + eps), step_size = lr sqrt(1 - b2^t) / (1 - b1^t). The caller
// gives 1 - b1 and 1 - b2 computed in double (in float32, 1 - 0.999f is 1.3e-5 off).
void adam_update(float* param, float* m, float* v, const float* grad, int64_t count, float step_size, float beta1,
                 float one_minus_beta1, float beta2, float one_minus_beta2, float eps, float decay);

// Soft-argmax over `planes` planes of `cells` values each (sample-major NCHW):
// prob = softmax of each plane; out[2k] = sum prob * cell_x, out[2k + 1] = sum
// prob * cell_y (cell_x, cell_y: each cell's centre in target units).
void softargmax_forward(const float* logits, float* prob, float* out, int64_t planes, int64_t cells,
                        const float* cell_x, const float* cell_y);
// Its backward from the forward's prob and out: d logit_i = prob_i ((cell_x_i - out_x) g_x + (cell_y_i - out_y) g_y).
void softargmax_backward(const float* prob, const float* out, const float* diff_out, float* diff_logits,
                         int64_t planes, int64_t cells, const float* cell_x, const float* cell_y);

}  // namespace fp

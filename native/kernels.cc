#include "kernels.h"

#include <algorithm>
#include <cmath>

namespace fp {

double masked_mse(const float* pred, const float* target, float* grad, int64_t count) {
  double sum = 0;
  int64_t present = 0;
  for (int64_t i = 0; i < count; i++) {
    if (std::isnan(target[i])) continue;
    const double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
    sum += d * d;
    present++;
  }
  if (grad) {
    const double scale = present > 0 ? 2.0 / static_cast<double>(present) : 0.0;
    for (int64_t i = 0; i < count; i++) {
      grad[i] = std::isnan(target[i])
                    ? 0.0f
                    : static_cast<float>(scale * (static_cast<double>(pred[i]) - static_cast<double>(target[i])));
    }
  }
  return present > 0 ? sum / static_cast<double>(present) : 0.0;
}

double masked_loss(const LossParams& loss, const float* pred, const float* target, float* grad, int64_t count) {
  if (loss.kind == 0) return masked_mse(pred, target, grad, count);
  int64_t present = 0;
  for (int64_t i = 0; i < count; i++) present += std::isnan(target[i]) ? 0 : 1;
  const double scale = present > 0 ? 1.0 / static_cast<double>(present) : 0.0;
  const double a = loss.a, b = loss.b;
  const double wing_c = loss.kind == 3 ? a - a * std::log1p(a / b) : 0.0;
  double sum = 0;
  for (int64_t i = 0; i < count; i++) {
    if (std::isnan(target[i])) {
      if (grad) grad[i] = 0.0f;
      continue;
    }
    const double d = static_cast<double>(pred[i]) - static_cast<double>(target[i]);
    const double ad = std::fabs(d);
    const double sign = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
    double f = 0, slope = 0;
    switch (loss.kind) {
      case 1:  // l1
        f = ad;
        slope = sign;
        break;
      case 2:  // smooth-l1, beta = a
        if (ad < a) {
          f = 0.5 * d * d / a;
          slope = d / a;
        } else {
          f = ad - 0.5 * a;
          slope = sign;
        }
        break;
      default:  // wing, w = a, epsilon = b
        if (ad < a) {
          f = a * std::log1p(ad / b);
          slope = sign * a / (b + ad);
        } else {
          f = ad - wing_c;
          slope = sign;
        }
        break;
    }
    sum += f;
    if (grad) grad[i] = static_cast<float>(slope * scale);
  }
  return sum * scale;
}

namespace {

// splitmix64's finaliser: a good 64-bit mix, cheap enough per element.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void dropout_forward(const float* src, float* dst, uint8_t* mask, int64_t count, float rate, uint64_t seed,
                     uint64_t salt) {
  const uint64_t base = mix64(seed * 0x9e3779b97f4a7c15ULL ^ mix64(salt + 0x632be59bd9b4e019ULL));
  // Keep when the top 24 bits of the hash are >= rate * 2^24.
  const uint64_t threshold = static_cast<uint64_t>(std::llround(static_cast<double>(rate) * 16777216.0));
  const float scale = 1.0f / (1.0f - rate);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; i++) {
    const uint8_t keep = (mix64(base + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL) >> 40) >= threshold;
    mask[i] = keep;
    dst[i] = keep ? src[i] * scale : 0.0f;
  }
}

void dropout_backward(const float* diff_dst, float* diff_src, const uint8_t* mask, int64_t count, float rate) {
  const float scale = 1.0f / (1.0f - rate);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; i++) diff_src[i] = mask[i] ? diff_dst[i] * scale : 0.0f;
}

void nesterov_update(float* param, float* velocity, const float* grad, int64_t count, float lr, float momentum,
                     float decay) {
  if (decay == 0.0f) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < count; i++) {
      const float step = -lr * grad[i];
      const float v = momentum * velocity[i] + step;
      velocity[i] = v;
      param[i] += momentum * v + step;
    }
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < count; i++) {
    const float step = -lr * (grad[i] + decay * param[i]);
    const float v = momentum * velocity[i] + step;
    velocity[i] = v;
    param[i] += momentum * v + step;
  }
}

void adam_update(float* param, float* m, float* v, const float* grad, int64_t count, float step_size, float beta1,
                 float one_minus_b1, float beta2, float one_minus_b2, float eps, float decay) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < count; i++) {
    const float g = grad[i] + decay * param[i];
    const float mi = beta1 * m[i] + one_minus_b1 * g;
    const float vi = beta2 * v[i] + one_minus_b2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= step_size * mi / (std::sqrt(vi) + eps);
  }
}

void softargmax_forward(const float* logits, float* prob, float* out, int64_t planes, int64_t cells,
                        const float* cell_x, const float* cell_y) {
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < planes; k++) {
    const float* z = logits + k * cells;
    float* pk = prob + k * cells;
    float top = z[0];
    for (int64_t i = 1; i < cells; i++) top = std::max(top, z[i]);
    double total = 0;
    for (int64_t i = 0; i < cells; i++) {
      pk[i] = std::exp(z[i] - top);
      total += pk[i];
    }
    const float scale = static_cast<float>(1.0 / total);
    double x = 0, y = 0;
    for (int64_t i = 0; i < cells; i++) {
      pk[i] *= scale;
      x += static_cast<double>(pk[i]) * cell_x[i];
      y += static_cast<double>(pk[i]) * cell_y[i];
    }
    out[2 * k] = static_cast<float>(x);
    out[2 * k + 1] = static_cast<float>(y);
  }
}

void softargmax_backward(const float* prob, const float* out, const float* diff_out, float* diff_logits,
                         int64_t planes, int64_t cells, const float* cell_x, const float* cell_y) {
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < planes; k++) {
    const float* pk = prob + k * cells;
    float* d = diff_logits + k * cells;
    const float ox = out[2 * k], oy = out[2 * k + 1], gx = diff_out[2 * k], gy = diff_out[2 * k + 1];
    for (int64_t i = 0; i < cells; i++) d[i] = pk[i] * ((cell_x[i] - ox) * gx + (cell_y[i] - oy) * gy);
  }
}

}  // namespace fp

#include "first_layer.h"

#if defined(__x86_64__) || defined(_M_X64)
#define FP_HAVE_X86 1
#include <immintrin.h>
#endif

#include <cstring>
#include <vector>

namespace fp {

#ifdef FP_HAVE_X86

namespace {

constexpr int kLanes = 16;  // output channels per block, as in nChw16c: one AVX-512 register
constexpr int kMaxTaps = 64;  // channels * kernel_h * kernel_w of the generic kernels

// KH, KW > 0: kernel size known at compile time (accumulators stay in
// registers); 0: any size, read from `s`.
template <int KH, int KW>
__attribute__((target("avx512f"))) void forward_impl(const FirstLayerShape& s, const float* __restrict x,
                                                     const float* __restrict packed, const float* __restrict bias,
                                                     float* __restrict dst, uint8_t* __restrict winner) {
  const int64_t kh = KH > 0 ? KH : s.kernel_h, kw = KW > 0 ? KW : s.kernel_w;
  const int64_t blocks = s.filters / kLanes;
  const int64_t taps = s.channels * kh * kw;
  const int64_t p = s.pool;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t nb = 0; nb < s.n * blocks; nb++) {
    for (int64_t i = 0; i < s.pooled_h; i++) {
      const int64_t n = nb / blocks, ob = nb % blocks;
      const float* wb = packed + ob * taps * kLanes;
      const __m512 bv = _mm512_loadu_ps(bias + ob * kLanes);
      for (int64_t j = 0; j < s.pooled_w; j++) {
        __m512 best = _mm512_set1_ps(-__builtin_inff());
        __m512 arg = _mm512_setzero_ps();
        for (int64_t a = 0; a < p; a++) {
          for (int64_t b = 0; b < p; b++) {
            __m512 acc = bv;
            const float* wt = wb;
            for (int64_t c = 0; c < s.channels; c++) {
              const float* plane = x + ((n * s.channels + c) * s.height + i * p + a) * s.width + j * p + b;
              for (int64_t u = 0; u < kh; u++) {
                for (int64_t v = 0; v < kw; v++, wt += kLanes) {
                  acc = _mm512_fmadd_ps(_mm512_loadu_ps(wt), _mm512_set1_ps(plane[u * s.width + v]), acc);
                }
              }
            }
            const __mmask16 better = _mm512_cmp_ps_mask(acc, best, _CMP_GT_OQ);
            best = _mm512_mask_blend_ps(better, best, acc);
            arg = _mm512_mask_blend_ps(better, arg, _mm512_set1_ps(static_cast<float>(a * p + b)));
          }
        }
        const int64_t at = (((n * blocks + ob) * s.pooled_h + i) * s.pooled_w + j) * kLanes;
        const __m512 zero = _mm512_setzero_ps();
        _mm512_storeu_ps(dst + at, _mm512_max_ps(best, zero));
        if (winner) {
          const __mmask16 alive = _mm512_cmp_ps_mask(best, zero, _CMP_GT_OQ);
          const __m512i pos = _mm512_mask_blend_epi32(alive, _mm512_set1_epi32(255), _mm512_cvttps_epi32(arg));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(winner + at), _mm512_cvtepi32_epi8(pos));
        }
      }
    }
  }
}

// One input channel, kernel and pool known at compile time (net2's 3x3 conv +
// 2x2 pool): the block's weights stay in registers and each input value of a
// pooling window's patch is broadcast once, not once per tap.
template <int KH, int KW, int P>
__attribute__((target("avx512f"))) void forward_c1(const FirstLayerShape& s, const float* __restrict x,
                                                   const float* __restrict packed, const float* __restrict bias,
                                                   float* __restrict dst, uint8_t* __restrict winner) {
  constexpr int RH = P + KH - 1, RW = P + KW - 1;  // input patch under one pooling window
  const int64_t blocks = s.filters / kLanes;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t nb = 0; nb < s.n * blocks; nb++) {
    for (int64_t i = 0; i < s.pooled_h; i++) {
      const int64_t n = nb / blocks, ob = nb % blocks;
      __m512 w[KH * KW];
      for (int t = 0; t < KH * KW; t++) w[t] = _mm512_loadu_ps(packed + (ob * KH * KW + t) * kLanes);
      const __m512 bv = _mm512_loadu_ps(bias + ob * kLanes);
      const float* rows = x + (n * s.height + i * P) * s.width;
      for (int64_t j = 0; j < s.pooled_w; j++) {
        __m512 patch[RH * RW];
        for (int r = 0; r < RH; r++) {
          for (int c = 0; c < RW; c++) patch[r * RW + c] = _mm512_set1_ps(rows[r * s.width + j * P + c]);
        }
        __m512 best = _mm512_set1_ps(-__builtin_inff());
        __m512 arg = _mm512_setzero_ps();
        for (int a = 0; a < P; a++) {
          for (int b = 0; b < P; b++) {
            __m512 acc = bv;
            for (int u = 0; u < KH; u++) {
              for (int v = 0; v < KW; v++) acc = _mm512_fmadd_ps(w[u * KW + v], patch[(a + u) * RW + b + v], acc);
            }
            const __mmask16 better = _mm512_cmp_ps_mask(acc, best, _CMP_GT_OQ);
            best = _mm512_mask_blend_ps(better, best, acc);
            arg = _mm512_mask_blend_ps(better, arg, _mm512_set1_ps(static_cast<float>(a * P + b)));
          }
        }
        const int64_t at = (((n * blocks + ob) * s.pooled_h + i) * s.pooled_w + j) * kLanes;
        const __m512 zero = _mm512_setzero_ps();
        _mm512_storeu_ps(dst + at, _mm512_max_ps(best, zero));
        if (winner) {
          const __mmask16 alive = _mm512_cmp_ps_mask(best, zero, _CMP_GT_OQ);
          const __m512i pos = _mm512_mask_blend_epi32(alive, _mm512_set1_epi32(255), _mm512_cvttps_epi32(arg));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(winner + at), _mm512_cvtepi32_epi8(pos));
        }
      }
    }
  }
}

// KH, KW > 0: a 1-channel kernel size known at compile time; 0: any (channels * kh * kw <= kMaxTaps).
template <int KH, int KW>
__attribute__((target("avx512f"))) void backward_impl(const FirstLayerShape& s, const float* __restrict x,
                                                      const float* __restrict diff_dst,
                                                      const uint8_t* __restrict winner, float* __restrict partial) {
  constexpr int kFixed = KH * KW;  // accumulators in registers when > 0
  const int64_t kh = KH > 0 ? KH : s.kernel_h, kw = KW > 0 ? KW : s.kernel_w;
  const int64_t blocks = s.filters / kLanes;
  const int64_t taps = s.channels * kh * kw;
  const int64_t p = s.pool;
#pragma omp parallel for schedule(static)
  for (int64_t nb = 0; nb < s.n * blocks; nb++) {
    const int64_t n = nb / blocks, ob = nb % blocks;
    float* out = partial + nb * (taps + 1) * kLanes;  // [taps + 1][16]: weights, then bias
    __m512 acc[kFixed > 0 ? kFixed : kMaxTaps];
    for (int64_t t = 0; t < taps; t++) acc[t] = _mm512_setzero_ps();
    __m512 accb = _mm512_setzero_ps();
    for (int64_t i = 0; i < s.pooled_h; i++) {
      for (int64_t j = 0; j < s.pooled_w; j++) {
        const int64_t at = (((n * blocks + ob) * s.pooled_h + i) * s.pooled_w + j) * kLanes;
        const __m512 g = _mm512_loadu_ps(diff_dst + at);
        const __m512i win = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(winner + at)));
        for (int64_t a = 0; a < p; a++) {
          for (int64_t b = 0; b < p; b++) {
            const __mmask16 sel = _mm512_cmpeq_epi32_mask(win, _mm512_set1_epi32(static_cast<int>(a * p + b)));
            if (sel == 0) continue;
            const __m512 gs = _mm512_maskz_mov_ps(sel, g);
            accb = _mm512_add_ps(accb, gs);
            int64_t t = 0;
            for (int64_t c = 0; c < s.channels; c++) {
              const float* plane = x + ((n * s.channels + c) * s.height + i * p + a) * s.width + j * p + b;
              for (int64_t u = 0; u < kh; u++) {
                for (int64_t v = 0; v < kw; v++, t++) {
                  acc[t] = _mm512_fmadd_ps(gs, _mm512_set1_ps(plane[u * s.width + v]), acc[t]);
                }
              }
            }
          }
        }
      }
    }
    for (int64_t t = 0; t < taps; t++) _mm512_storeu_ps(out + t * kLanes, acc[t]);
    _mm512_storeu_ps(out + taps * kLanes, accb);
  }
}

}  // namespace

bool first_layer_supported(const FirstLayerShape& s) {
  return __builtin_cpu_supports("avx512f") && s.filters % kLanes == 0 && s.pool >= 1 && s.pool <= 15 &&
         s.channels * s.kernel_h * s.kernel_w <= kMaxTaps;
}

void first_layer_forward(const FirstLayerShape& s, const float* x, const float* w_oihw, const float* bias, float* dst,
                         uint8_t* winner) {
  // Weights repacked [block][c][kh][kw][16] so the 16 output channels of a block are contiguous.
  const int64_t taps = s.channels * s.kernel_h * s.kernel_w;
  std::vector<float> packed(static_cast<size_t>(s.filters * taps));
  for (int64_t o = 0; o < s.filters; o++) {
    for (int64_t t = 0; t < taps; t++) packed[((o / kLanes) * taps + t) * kLanes + o % kLanes] = w_oihw[o * taps + t];
  }
  if (s.channels == 1 && s.kernel_h == 3 && s.kernel_w == 3 && s.pool == 2) {
    forward_c1<3, 3, 2>(s, x, packed.data(), bias, dst, winner);
  } else if (s.channels == 1 && s.kernel_h == 3 && s.kernel_w == 3) {
    forward_impl<3, 3>(s, x, packed.data(), bias, dst, winner);
  } else {
    forward_impl<0, 0>(s, x, packed.data(), bias, dst, winner);
  }
}

void first_layer_backward(const FirstLayerShape& s, const float* x, const float* diff_dst, const uint8_t* winner,
                          float* diff_w_oihw, float* diff_bias, float* partial) {
  if (s.channels == 1 && s.kernel_h == 3 && s.kernel_w == 3) {
    backward_impl<3, 3>(s, x, diff_dst, winner, partial);
  } else if (s.channels == 1 && s.kernel_h == 2 && s.kernel_w == 2) {
    backward_impl<2, 2>(s, x, diff_dst, winner, partial);
  } else {
    backward_impl<0, 0>(s, x, diff_dst, winner, partial);
  }
  const int64_t blocks = s.filters / kLanes;
  const int64_t taps = s.channels * s.kernel_h * s.kernel_w;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < s.filters; o++) {
    const int64_t ob = o / kLanes, l = o % kLanes;
    for (int64_t t = 0; t <= taps; t++) {
      double sum = 0;
      for (int64_t n = 0; n < s.n; n++) sum += partial[((n * blocks + ob) * (taps + 1) + t) * kLanes + l];
      if (t < taps) {
        diff_w_oihw[o * taps + t] = static_cast<float>(sum);
      } else {
        diff_bias[o] = static_cast<float>(sum);
      }
    }
  }
}

#else  // not x86-64: the engine keeps oneDNN's separate primitives

bool first_layer_supported(const FirstLayerShape&) { return false; }
void first_layer_forward(const FirstLayerShape&, const float*, const float*, const float*, float*, uint8_t*) {}
void first_layer_backward(const FirstLayerShape&, const float*, const float*, const uint8_t*, float*, float*, float*) {}

#endif

}  // namespace fp

// The machine's single-precision FMA peak: each thread runs 12 independent
// chains of 8-wide fused multiply-adds in registers (no memory traffic), enough
// to keep both FMA pipes of a core busy through their latency. The benchmark
// compares an engine's sustained FLOP rate with this, so a speed-up claim over a
// peer can be read against what the hardware allows. Usage: peak-flops THREADS
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static double chains(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iterations; n++) {
    // Spelled out: the twelve accumulators must stay in registers for the FMAs to overlap.
    acc[0] = _mm256_fmadd_ps(acc[0], a, b);
    acc[1] = _mm256_fmadd_ps(acc[1], a, b);
    acc[2] = _mm256_fmadd_ps(acc[2], a, b);
    acc[3] = _mm256_fmadd_ps(acc[3], a, b);
    acc[4] = _mm256_fmadd_ps(acc[4], a, b);
    acc[5] = _mm256_fmadd_ps(acc[5], a, b);
    acc[6] = _mm256_fmadd_ps(acc[6], a, b);
    acc[7] = _mm256_fmadd_ps(acc[7], a, b);
    acc[8] = _mm256_fmadd_ps(acc[8], a, b);
    acc[9] = _mm256_fmadd_ps(acc[9], a, b);
    acc[10] = _mm256_fmadd_ps(acc[10], a, b);
    acc[11] = _mm256_fmadd_ps(acc[11], a, b);
  }
  float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < 12; i++) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(out, sum);
  return out[0];  // used, so the loop is not optimised away
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  if (threads <= 0) threads = std::thread::hardware_concurrency();
  const long iterations = 100'000'000;
  chains(iterations / 10);  // wake the cores up to speed
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<double> sink(threads);
  for (int t = 0; t < threads; t++) pool.emplace_back([&, t] { sink[t] = chains(iterations); });
  for (auto& th : pool) th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double flops = 2.0 * 8 * 12 * iterations * threads;
  std::printf("{\"gflops\":%.1f,\"threads\":%d,\"seconds\":%.3f,\"check\":%g}\n", flops / seconds / 1e9, threads,
              seconds, sink[0]);
  return 0;
}

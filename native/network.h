// The native engine's network: a layer stack compiled onto oneDNN 2.x
// primitives. Everything here is plain C++ (no N-API), so it can be timed and
// debugged on its own; addon.cc only marshals arrays and promises.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <dnnl.hpp>

namespace fp {

enum class LayerKind { Input, Conv, Pool, Dense, Dropout };

// One layer of a resolved spec (src/nn/spec.ts), per-sample shapes.
struct LayerSpec {
  LayerKind kind = LayerKind::Input;
  std::string name;
  bool relu = false;
  int64_t filters = 0, kernel_h = 0, kernel_w = 0;  // conv
  int64_t pool = 0;                                 // maxpool
  int64_t units = 0;                                // dense
  float rate = 0;                                   // dropout
  std::vector<int64_t> in_shape, out_shape;
};

// A parameter with its master copy kept in the layout the training
// primitives prefer (blocked, e.g. OIhw16i16o), so no per-step reorders are
// needed; the canonical layouts of spec.ts exist only at get/set time.
struct Param {
  std::string name;
  dnnl::memory::dims dims;       // oneDNN logical dims (O,I,KH,KW / O,C,H,W / O,I / O)
  dnnl::memory::desc canonical;  // the boundary layout (strides of spec.ts)
  bool established = false;      // master/velocity exist
  dnnl::memory master, velocity;
  std::vector<float> pending_value, pending_velocity;  // until established
  uint64_t version = 1;          // bumped on every change of the values
};

struct Plan;

// Per-op wall times, printed when FACEPOINTS_NATIVE_PROFILE is set.
struct Profile {
  bool enabled = false;
  std::vector<std::pair<std::string, double>> times;
};

class Network {
 public:
  Network(std::vector<LayerSpec> layers, int threads);
  ~Network();

  int64_t input_size() const { return input_size_; }
  int64_t output_size() const { return output_size_; }
  int threads() const { return threads_; }
  const std::vector<Param>& params() const { return params_; }

  std::vector<float> predict(const float* x, int64_t n);
  // `masks` (may be null): one dropout mask per dropout layer, n * units values in C, H, W order, each
  // the factor a unit is multiplied by; null draws them from `seed`.
  double train_step(const float* x, const float* y, int64_t n, float lr, float momentum, uint64_t seed,
                    const std::vector<std::vector<float>>* masks = nullptr);
  double evaluate_loss(const float* x, const float* y, int64_t n);
  double gradients(const float* x, const float* y, int64_t n, std::vector<std::vector<float>>& out);

  // Values in canonical layouts, in parameter order.
  std::vector<std::vector<float>> get_params(bool velocity);
  void set_params(const std::vector<std::vector<float>>& values, bool velocity);

  // Size of the OpenMP team this network's calls run with (for tests).
  int probe_threads();
  // One line per primitive of every plan built so far: which implementation oneDNN chose.
  std::string describe();

 private:
  friend struct PlanBuilder;
  Plan& plan(int64_t n, bool training);
  void establish(size_t k, const dnnl::memory::desc& desc);
  void run_forward(Plan& p);
  void run_backward(Plan& p);
  double run_loss(Plan& p, const float* y, bool with_grad);
  void report(const char* what, Plan& p);

  std::vector<LayerSpec> layers_;
  std::vector<Param> params_;
  std::vector<int> layer_param_;  // index of a layer's W in params_, -1 if none
  int64_t input_size_ = 0, output_size_ = 0;
  int threads_ = 1;
  dnnl::engine eng_;
  dnnl::stream stream_;
  std::map<std::pair<int64_t, bool>, std::unique_ptr<Plan>> plans_;
  uint64_t clock_ = 0;
  Profile profile_;
};

}  // namespace fp

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

#include "kernels.h"

namespace fp {

// The layer kinds of src/nn/layers/. Each has one forward and one backward
// builder in network.cc, listed in its kBuilders table (docs/layers.md).
enum class LayerKind { Input, Conv, Pool, AvgPool, GlobalAvgPool, BatchNorm, Dense, Dropout, SoftArgmax };

// The kind of a spec's `kind` string; false when the engine has none of that name.
bool parse_kind(const std::string& name, LayerKind& kind);

// The update rule of train_step (src/engine/engine.ts states both).
enum class Optimizer { Nesterov, Adam };

// Hyper-parameters of one update; step_size (Adam's a_t) and 1 - beta are computed by the caller in double.
struct StepParams {
  float lr = 0, momentum = 0, beta1 = 0, beta2 = 0, one_minus_beta1 = 0, one_minus_beta2 = 0, eps = 0, decay = 0,
        step_size = 0;
};

// Which buffer of a parameter get_params/set_params address.
enum class Slot { Value = 0, Velocity = 1, Second = 2 };

// One layer of a resolved spec (src/nn/spec.ts), per-sample shapes.
struct LayerSpec {
  LayerKind kind = LayerKind::Input;
  std::string name;
  bool relu = false;       // relu or leaky relu: max(x, leakiness * x)
  float leakiness = 0;
  int64_t filters = 0, kernel_h = 0, kernel_w = 0;  // conv
  int64_t stride_h = 1, stride_w = 1;               // conv
  int64_t pad_t = 0, pad_b = 0, pad_l = 0, pad_r = 0;  // conv: zeros around the input
  int64_t pool = 0;                                 // maxpool, avgpool
  float epsilon = 1e-5f, alpha = 0.1f;              // batchnorm
  int64_t units = 0;                                // dense
  float rate = 0;                                   // dropout
  int64_t frame_h = 0, frame_w = 0;                 // softargmax: the network input's height and width
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
  bool decay = false;            // weight decay applies (W, not b)
  dnnl::memory master, velocity;  // velocity: Nesterov's v, or Adam's m
  dnnl::memory second;            // Adam's v (Adam only)
  std::vector<float> pending_value, pending_velocity, pending_second;  // until established
  uint64_t version = 1;          // bumped on every change of the values
};

// Non-trainable layer state (batch norm's running mean and variance), plain
// float vectors in the boundary layout; updated by training steps only.
struct State {
  std::string name;
  std::vector<float> values;
  uint64_t version = 1;  // bumped on every change
};

struct Plan;

// Per-op wall times, printed when FACEPOINTS_NATIVE_PROFILE is set.
struct Profile {
  bool enabled = false;
  std::vector<std::pair<std::string, double>> times;
};

class Network {
 public:
  Network(std::vector<LayerSpec> layers, int threads, Optimizer optimizer = Optimizer::Nesterov);
  ~Network();

  int64_t input_size() const { return input_size_; }
  int64_t output_size() const { return output_size_; }
  int threads() const { return threads_; }
  const std::vector<Param>& params() const { return params_; }

  std::vector<float> predict(const float* x, int64_t n);
  // `masks` (may be null): one dropout mask per dropout layer, n * units values in C, H, W order, each
  // the factor a unit is multiplied by; null draws them from `seed`.
  double train_step(const float* x, const float* y, int64_t n, const StepParams& step, uint64_t seed,
                    const LossParams& loss = {}, const std::vector<std::vector<float>>* masks = nullptr);
  double evaluate_loss(const float* x, const float* y, int64_t n, const LossParams& loss = {});
  double gradients(const float* x, const float* y, int64_t n, std::vector<std::vector<float>>& out,
                   const LossParams& loss = {});

  Optimizer optimizer() const { return optimizer_; }

  // Values in canonical layouts, in parameter order.
  std::vector<std::vector<float>> get_params(Slot slot);
  void set_params(const std::vector<std::vector<float>>& values, Slot slot);
  // Layer state in layer order (per batch norm: mean, var).
  std::vector<std::vector<float>> get_state() const;
  void set_state(const std::vector<std::vector<float>>& values);

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
  double run_loss(Plan& p, const float* y, bool with_grad, const LossParams& loss);
  void report(const char* what, Plan& p);

  std::vector<LayerSpec> layers_;
  std::vector<Param> params_;
  std::vector<int> layer_param_;  // index of a layer's first parameter (W, gamma) in params_, -1 if none
  std::vector<State> states_;
  std::vector<int> layer_state_;  // index of a layer's first state (mean) in states_, -1 if none
  int64_t input_size_ = 0, output_size_ = 0;
  int threads_ = 1;
  Optimizer optimizer_ = Optimizer::Nesterov;
  dnnl::engine eng_;
  dnnl::stream stream_;
  std::map<std::pair<int64_t, bool>, std::unique_ptr<Plan>> plans_;
  uint64_t clock_ = 0;
  Profile profile_;
};

}  // namespace fp

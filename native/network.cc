#include "network.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "first_layer.h"
#include "kernels.h"

namespace fp {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

// Plans kept per network; each holds every buffer of one batch size, so a
// few are plenty (train batch, its last partial batch, validation batches).
constexpr size_t kMaxPlans = 6;
// predict/evaluateLoss split larger batches into chunks of this size, so a
// call on a whole data set does not allocate activations for all of it.
constexpr int64_t kInferenceChunk = 128;

memory::desc any_desc(const memory::dims& dims) { return memory::desc(dims, dt::f32, tag::any); }

bool is_ref(const dnnl::primitive_desc_base& pd) {
  const std::string impl = pd.impl_info_str();
  return impl.rfind("ref", 0) == 0;
}

bool is_plain(const memory::desc& d) {
  return d.data.format_kind == dnnl_blocked && d.data.format_desc.blocking.inner_nblks == 0;
}

// Two descs that address memory identically (e.g. nchw and nhwc with C = 1)
// need no reorder between them.
bool same_layout(const memory::desc& a, const memory::desc& b) {
  if (a == b) return true;
  if (a.data.ndims != b.data.ndims || !is_plain(a) || !is_plain(b) || a.data.data_type != b.data.data_type) {
    return false;
  }
  if (a.data.offset0 != b.data.offset0 || a.get_size() != b.get_size()) return false;
  for (int i = 0; i < a.data.ndims; i++) {
    if (a.data.dims[i] != b.data.dims[i] || a.data.padded_dims[i] != b.data.padded_dims[i]) return false;
    if (a.data.dims[i] > 1 && a.data.format_desc.blocking.strides[i] != b.data.format_desc.blocking.strides[i]) {
      return false;
    }
  }
  return true;
}

int64_t float_count(const memory& m) { return static_cast<int64_t>(m.get_desc().get_size() / sizeof(float)); }
float* data_of(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

dnnl::primitive_attr scratch_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::primitive_attr relu_attr(bool relu, float leakiness) {
  dnnl::primitive_attr attr = scratch_attr();
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, leakiness, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

// Creates a primitive desc with the layouts we would like (`forced`); when
// oneDNN can only serve those with a slow reference kernel, or not at all,
// lets it choose (`free`) and the caller inserts reorders where needed.
template <typename PD, typename Make>
PD pick(Make&& make) {
  std::optional<PD> forced;
  try {
    forced = make(true);
  } catch (const dnnl::error&) {
  }
  if (forced && !is_ref(*forced)) return *forced;
  PD chosen = make(false);
  if (forced && is_ref(chosen)) return *forced;
  return chosen;
}

memory::dims conv_strides(const LayerSpec& L) { return {L.stride_h, L.stride_w}; }
memory::dims conv_pad_l(const LayerSpec& L) { return {L.pad_t, L.pad_l}; }
memory::dims conv_pad_r(const LayerSpec& L) { return {L.pad_b, L.pad_r}; }

// An image batch's dims, or a flat batch's.
memory::dims batch_dims(int64_t n, const std::vector<int64_t>& shape) {
  memory::dims d = {n};
  d.insert(d.end(), shape.begin(), shape.end());
  return d;
}

// Batch norm followed by a plain relu runs it inside oneDNN's batch norm
// (`fuse_norm_relu`: no separate pass forward or backward; training keeps a
// bit mask in the workspace); leaky relu runs as its own eltwise op.
bool bn_fuses_relu(const LayerSpec& L) { return L.relu && L.leakiness == 0.0f; }

dnnl::normalization_flags bn_flags(const LayerSpec& L) {
  auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  if (bn_fuses_relu(L)) flags = flags | dnnl::normalization_flags::fuse_norm_relu;
  return flags;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

struct Op {
  std::string name;
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  memory::desc scratch;       // empty unless the primitive takes a user scratchpad
  std::function<void()> fn;  // set for our own loops instead of prim
};

// A weight in a layout other than its master's, refreshed when stale.
struct WeightCopy {
  size_t param;
  memory mem;
  uint64_t version = 0;
};

struct Plan {
  int64_t n = 0;
  bool training = false;
  memory input, output, d_output;
  std::vector<Op> forward, backward, grad_sync;
  std::vector<WeightCopy> copies;
  std::vector<memory> grads;  // per parameter, master layout
  std::vector<std::unique_ptr<std::vector<uint8_t>>> masks;  // dropout keep-masks, one per dropout layer
  std::vector<uint8_t> winners;  // fused first layer: position of each pooled max
  std::vector<float> partials;   // fused first layer: per-sample weight-gradient sums
  bool dropout_on = false;
  bool update_state = false;  // training steps update batch norm's running statistics; gradients() does not
  uint64_t seed = 0;
  // Masks given by the caller (CompileOptions.dropoutMask): one per dropout layer, in that layer's
  // layout, filled from the caller's C, H, W order before each step that has them.
  std::vector<memory> given_masks;
  std::vector<memory> given_masks_user;  // the same masks in plain nchw / nc layout
  bool masks_given = false;
  memory scratch;
  uint64_t last_used = 0;
  std::vector<std::string> impls;
  std::vector<double> fwd_ms, bwd_ms;
};

struct PlanBuilder;
// One forward and one backward builder per layer kind. forward(l, input)
// appends layer l's forward ops to the plan and returns its output; backward(l,
// diff of the output, need diff of the input) appends its backward ops and
// returns the diff of its input.
struct LayerBuilder {
  LayerKind kind;
  const char* name;  // the spec's `kind`
  memory (PlanBuilder::*forward)(size_t, const memory&);
  memory (PlanBuilder::*backward)(size_t, const memory&, bool);
};

const LayerBuilder& builder(LayerKind kind);

struct PlanBuilder {
  Network& net;
  Plan& p;
  dnnl::engine& eng;
  prop_kind pk;

  // Per layer: what its backward needs from its forward.
  struct Fwd {
    memory src, dst, ws;
    dnnl::convolution_forward::primitive_desc conv;
    dnnl::inner_product_forward::primitive_desc ip;
    dnnl::pooling_forward::primitive_desc pool;
    dnnl::batch_normalization_forward::primitive_desc bn;
    memory mean, variance;  // batch norm in training: the batch's statistics
    std::vector<uint8_t>* mask = nullptr;
    memory given;  // dropout: the caller's mask in this layer's layout
    bool relu_done = false;  // relu's backward already applied above a pool
    bool folded = false;     // batch norm folded into the convolution before it (inference)
  };
  std::vector<Fwd> f;

  PlanBuilder(Network& network, Plan& plan, dnnl::engine& engine)
      : net(network), p(plan), eng(engine), pk(plan.training ? prop_kind::forward_training : prop_kind::forward_inference) {}

  void add(std::vector<Op>& ops, const std::string& name, const dnnl::primitive& prim,
           std::unordered_map<int, memory> args, const dnnl::primitive_desc_base& pd, bool user_scratch = true) {
    Op op;
    op.name = name;
    op.prim = prim;
    op.args = std::move(args);
    if (user_scratch) op.scratch = pd.scratchpad_desc();
    ops.push_back(std::move(op));
    p.impls.push_back(name + ": " + pd.impl_info_str());
  }

  void add_fn(std::vector<Op>& ops, const std::string& name, std::function<void()> fn) {
    Op op;
    op.name = name;
    op.fn = std::move(fn);
    ops.push_back(std::move(op));
  }

  // `m` viewed in layout `want`: itself, an alias, or a reordered copy.
  memory as_desc(const memory& m, const memory::desc& want, std::vector<Op>& ops, const std::string& name) {
    const memory::desc have = m.get_desc();
    if (have == want) return m;
    if (same_layout(have, want)) return memory(want, eng, m.get_data_handle());
    memory out(want, eng);
    dnnl::reorder::primitive_desc rpd(eng, have, eng, want);
    add(ops, name + ".reorder", dnnl::reorder(rpd), {{DNNL_ARG_FROM, m}, {DNNL_ARG_TO, out}}, rpd, false);
    return out;
  }

  memory weights_as(size_t k, const memory::desc& want) {
    Param& param = net.params_[k];
    if (param.master.get_desc() == want) return param.master;
    if (same_layout(param.master.get_desc(), want)) return memory(want, eng, param.master.get_data_handle());
    for (WeightCopy& copy : p.copies) {
      if (copy.param == k && copy.mem.get_desc() == want) return copy.mem;
    }
    p.copies.push_back({k, memory(want, eng), 0});
    p.impls.push_back(param.name + ": kept in a second layout (reordered when it changes)");
    return p.copies.back().mem;
  }

  // Where a backward primitive writes parameter k's gradient: the master-layout
  // gradient itself, or a buffer reordered into it afterwards.
  memory grad_as(size_t k, const memory::desc& want) {
    const memory& grad = p.grads[k];
    if (grad.get_desc() == want) return grad;
    if (same_layout(grad.get_desc(), want)) return memory(want, eng, grad.get_data_handle());
    memory own(want, eng);
    dnnl::reorder::primitive_desc rpd(eng, want, eng, grad.get_desc());
    add(p.grad_sync, net.params_[k].name + ".grad.reorder", dnnl::reorder(rpd), {{DNNL_ARG_FROM, own}, {DNNL_ARG_TO, grad}},
        rpd, false);
    return own;
  }

  // ReLU's backward in place on `diff`, masked by `data` (the relu output or, above a pool, the pooled output).
  void relu_backward(const memory& diff, const memory& data, const std::string& name, float leakiness) {
    const memory::desc d = data.get_desc();
    dnnl::eltwise_forward::desc fwd(prop_kind::forward_training, algorithm::eltwise_relu_use_dst_for_bwd, d,
                                    leakiness, 0.0f);
    dnnl::eltwise_forward::primitive_desc hint(fwd, eng);
    dnnl::eltwise_backward::desc bwd(algorithm::eltwise_relu_use_dst_for_bwd, d, d, leakiness, 0.0f);
    dnnl::eltwise_backward::primitive_desc pd(bwd, scratch_attr(), eng, hint);
    add(p.backward, name, dnnl::eltwise_backward(pd),
        {{DNNL_ARG_DST, data}, {DNNL_ARG_DIFF_DST, diff}, {DNNL_ARG_DIFF_SRC, diff}}, pd);
  }

  void build() {
    const auto& layers = net.layers_;
    const int64_t n = p.n;
    const LayerSpec& in = layers[0];
    if (in.out_shape.size() == 3) {
      p.input = memory({{n, in.out_shape[0], in.out_shape[1], in.out_shape[2]}, dt::f32, tag::nchw}, eng);
    } else {
      p.input = memory({{n, in.out_shape[0]}, dt::f32, tag::nc}, eng);
    }
    f.resize(layers.size());
    memory cur = p.input;
    size_t l = 1;
    if (fusable_first()) {
      cur = fused_first_forward();
      l = 3;
    }
    for (; l < layers.size(); l++) cur = (this->*builder(layers[l].kind).forward)(l, cur);
    p.output = as_desc(cur, memory::desc({n, net.output_size_}, dt::f32, tag::nc), p.forward, "output");
    if (p.training) {
      // The forward pass above established every parameter's master layout.
      for (const Param& param : net.params_) p.grads.emplace_back(param.master.get_desc(), eng);
      p.d_output = memory({{n, net.output_size_}, dt::f32, tag::nc}, eng);
      build_backward();
    }
    allocate_scratchpad();
    p.fwd_ms.assign(p.forward.size(), 0);
    p.bwd_ms.assign(p.backward.size() + p.grad_sync.size(), 0);
  }

  bool fused = false;
  FirstLayerShape first{};

  // conv (relu, filters in blocks of 16) -> maxpool at the start of the network.
  bool fusable_first() const {
    const auto& layers = net.layers_;
    if (layers.size() < 3) return false;
    const LayerSpec& c = layers[1];
    const LayerSpec& pool = layers[2];
    if (c.kind != LayerKind::Conv || !c.relu || c.leakiness != 0.0f || c.filters % 16 != 0 ||
        pool.kind != LayerKind::Pool || pool.pool > 15 || c.stride_h != 1 || c.stride_w != 1 ||
        c.pad_t + c.pad_b + c.pad_l + c.pad_r != 0) {
      return false;
    }
    const char* env = std::getenv("FACEPOINTS_NATIVE_FUSION");
    if (env != nullptr && std::strcmp(env, "0") == 0) return false;
    if (!first_layer_supported({p.n, c.in_shape[0], c.in_shape[1], c.in_shape[2], c.filters, c.kernel_h, c.kernel_w,
                                pool.pool, pool.out_shape[1], pool.out_shape[2]})) {
      return false;
    }
    // The fused kernel reads plain OIHW weights: only when no plan chose another master layout.
    const Param& w = net.params_[static_cast<size_t>(net.layer_param_[1])];
    return !w.established || w.master.get_desc() == w.canonical;
  }

  memory fused_first_forward() {
    const LayerSpec& c = net.layers_[1];
    const LayerSpec& pool = net.layers_[2];
    const size_t k = static_cast<size_t>(net.layer_param_[1]);
    if (!net.params_[k].established) {
      net.establish(k, net.params_[k].canonical);
      net.establish(k + 1, net.params_[k + 1].canonical);
    }
    fused = true;
    first = {p.n, c.in_shape[0], c.in_shape[1], c.in_shape[2], c.filters, c.kernel_h, c.kernel_w,
             pool.pool, pool.out_shape[1], pool.out_shape[2]};
    memory dst({{p.n, c.filters, first.pooled_h, first.pooled_w}, dt::f32, tag::nChw16c}, eng);
    uint8_t* winners = nullptr;
    if (p.training) {
      p.winners.resize(dst.get_desc().get_size() / sizeof(float));
      winners = p.winners.data();
    }
    const FirstLayerShape s = first;
    memory x = p.input, w = net.params_[k].master, b = net.params_[k + 1].master;
    add_fn(p.forward, c.name + "+" + pool.name + ".fwd",
           [s, x, w, b, dst, winners]() { first_layer_forward(s, data_of(x), data_of(w), data_of(b), data_of(dst), winners); });
    p.impls.push_back(c.name + "+" + pool.name + ": conv + relu + maxpool fused (own kernel)");
    f[2].src = p.input;
    f[2].dst = dst;
    return dst;
  }

  void fused_first_backward(const memory& g_in) {
    const LayerSpec& c = net.layers_[1];
    const LayerSpec& pool = net.layers_[2];
    const size_t k = static_cast<size_t>(net.layer_param_[1]);
    memory g = as_desc(g_in, f[2].dst.get_desc(), p.backward, pool.name + ".diff");
    const FirstLayerShape s = first;
    p.partials.resize(static_cast<size_t>(s.n * s.filters * (s.channels * s.kernel_h * s.kernel_w + 1)));
    float* partials = p.partials.data();
    const uint8_t* winners = p.winners.data();
    memory x = p.input, gw = p.grads[k], gb = p.grads[k + 1];
    add_fn(p.backward, c.name + "+" + pool.name + ".bwd", [s, x, g, winners, gw, gb, partials]() {
      first_layer_backward(s, data_of(x), data_of(g), winners, data_of(gw), data_of(gb), partials);
    });
  }

  memory conv_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    const int64_t n = p.n;
    const memory::dims src_d = {n, L.in_shape[0], L.in_shape[1], L.in_shape[2]};
    const memory::dims w_d = {L.filters, L.in_shape[0], L.kernel_h, L.kernel_w};
    const memory::dims dst_d = {n, L.out_shape[0], L.out_shape[1], L.out_shape[2]};
    const memory::desc b_md({L.filters}, dt::f32, tag::x);
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    // Inference: a batch norm right after a linear convolution folds into its weights and bias, and the
    // batch norm's relu becomes the convolution's post-op: one primitive instead of three passes.
    const bool fold_bn = folds_batchnorm(l);
    const LayerSpec* bn = fold_bn ? &net.layers_[l + 1] : nullptr;
    const bool relu = fold_bn ? bn->relu : L.relu;
    const float leakiness = fold_bn ? bn->leakiness : L.leakiness;
    auto make = [&](prop_kind kind, const memory::desc& w_md, bool with_relu) {
      dnnl::convolution_forward::desc d(kind, algorithm::convolution_direct, any_desc(src_d), w_md, b_md,
                                        any_desc(dst_d), conv_strides(L), conv_pad_l(L), conv_pad_r(L));
      return dnnl::convolution_forward::primitive_desc(d, relu_attr(with_relu, leakiness), eng);
    };
    if (!net.params_[k].established) {
      auto pd0 = make(prop_kind::forward_training, any_desc(w_d), L.relu);
      net.establish(k, pd0.weights_desc());
      net.establish(k + 1, pd0.bias_desc());
    }
    auto pd = pick<dnnl::convolution_forward::primitive_desc>([&](bool forced) {
      return make(pk, forced ? net.params_[k].master.get_desc() : any_desc(w_d), relu);
    });
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.conv = pd;
    memory weights = weights_as(k, pd.weights_desc());
    memory bias = weights_as(k + 1, pd.bias_desc());
    if (fold_bn) {
      weights = memory(pd.weights_desc(), eng);
      bias = memory(pd.bias_desc(), eng);
      add_fold(l, weights, bias);
      f[l + 1].folded = true;
      p.impls.push_back(L.name + "+" + bn->name + ": batch norm" + (bn->relu ? " and its relu" : "") +
                        " folded into the convolution (inference)");
    }
    add(p.forward, L.name + ".fwd", dnnl::convolution_forward(pd),
        {{DNNL_ARG_SRC, r.src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, r.dst}}, pd);
    return r.dst;
  }

  // Inference plans fold a batch norm into the linear convolution before it (FACEPOINTS_NATIVE_FUSION=0: never).
  bool folds_batchnorm(size_t l) const {
    if (p.training || l + 1 >= net.layers_.size()) return false;
    const LayerSpec& conv = net.layers_[l];
    if (conv.kind != LayerKind::Conv || conv.relu || net.layers_[l + 1].kind != LayerKind::BatchNorm) return false;
    const char* env = std::getenv("FACEPOINTS_NATIVE_FUSION");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }

  // An op that recomputes the folded weights when the convolution's parameters or the batch norm's
  // parameters or running statistics changed: W'[o] = W[o] * s, b'[o] = (b[o] - mean[o]) * s + beta[o],
  // s = gamma[o] / sqrt(var[o] + epsilon).
  void add_fold(size_t l, const memory& weights, const memory& bias) {
    Network* network = &net;
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const size_t kb = static_cast<size_t>(net.layer_param_[l + 1]);
    const size_t sb = static_cast<size_t>(net.layer_state_[l + 1]);
    const LayerSpec& L = net.layers_[l];
    const float epsilon = net.layers_[l + 1].epsilon;
    const int64_t filters = L.filters;
    const int64_t per_filter = L.in_shape[0] * L.kernel_h * L.kernel_w;
    for (size_t j : {kb, kb + 1}) {
      if (!net.params_[j].established) net.establish(j, net.params_[j].canonical);
    }
    auto seen = std::make_shared<std::vector<uint64_t>>(6, 0);
    dnnl::engine engine = eng;
    add_fn(p.forward, L.name + "+bn.fold", [=]() {
      const std::vector<uint64_t> now = {network->params_[k].version,      network->params_[k + 1].version,
                                         network->params_[kb].version,     network->params_[kb + 1].version,
                                         network->states_[sb].version,     network->states_[sb + 1].version};
      if (now == *seen) return;
      *seen = now;
      dnnl::stream stream(engine);
      memory master = network->params_[k].master;
      std::vector<float> plain(static_cast<size_t>(filters * per_filter));
      memory plain_w(network->params_[k].canonical, engine, plain.data());
      dnnl::reorder(master, plain_w).execute(stream, master, plain_w);
      stream.wait();
      const float* b = data_of(network->params_[k + 1].master);
      const float* gamma = data_of(network->params_[kb].master);
      const float* beta = data_of(network->params_[kb + 1].master);
      const float* mean = network->states_[sb].values.data();
      const float* var = network->states_[sb + 1].values.data();
      float* folded_b = data_of(bias);
      for (int64_t o = 0; o < filters; o++) {
        const float scale = gamma[o] / std::sqrt(var[o] + epsilon);
        for (int64_t i = 0; i < per_filter; i++) plain[static_cast<size_t>(o * per_filter + i)] *= scale;
        folded_b[o] = (b[o] - mean[o]) * scale + beta[o];
      }
      memory target = weights;
      dnnl::reorder(plain_w, target).execute(stream, plain_w, target);
      stream.wait();
    });
  }

  memory pool_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    const memory::dims dst_d = {p.n, L.out_shape[0], L.out_shape[1], L.out_shape[2]};
    dnnl::pooling_forward::desc d(pk, algorithm::pooling_max, cur.get_desc(), any_desc(dst_d), {L.pool, L.pool},
                                  {L.pool, L.pool}, {0, 0}, {0, 0});
    dnnl::pooling_forward::primitive_desc pd(d, scratch_attr(), eng);
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.pool = pd;
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, r.src}, {DNNL_ARG_DST, r.dst}};
    if (p.training) {
      r.ws = memory(pd.workspace_desc(), eng);
      args[DNNL_ARG_WORKSPACE] = r.ws;
    }
    add(p.forward, L.name + ".fwd", dnnl::pooling_forward(pd), std::move(args), pd);
    return r.dst;
  }

  static memory::dims dense_src_dims(const LayerSpec& L, int64_t n) {
    if (L.in_shape.size() == 3) return {n, L.in_shape[0], L.in_shape[1], L.in_shape[2]};
    return {n, L.in_shape[0]};
  }

  static memory::dims dense_weight_dims(const LayerSpec& L) {
    if (L.in_shape.size() == 3) return {L.units, L.in_shape[0], L.in_shape[1], L.in_shape[2]};
    return {L.units, L.in_shape[0]};
  }

  memory dense_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    const memory::dims src_d = dense_src_dims(L, p.n);
    const memory::dims w_d = dense_weight_dims(L);
    const memory::desc b_md({L.units}, dt::f32, tag::x);
    const memory::desc dst_md({p.n, L.units}, dt::f32, tag::nc);
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    auto make = [&](prop_kind kind, const memory::desc& src_md, const memory::desc& w_md) {
      dnnl::inner_product_forward::desc d(kind, src_md, w_md, b_md, dst_md);
      return dnnl::inner_product_forward::primitive_desc(d, relu_attr(L.relu, L.leakiness), eng);
    };
    if (!net.params_[k].established) {
      auto pd0 = make(prop_kind::forward_training, cur.get_desc(), any_desc(w_d));
      net.establish(k, pd0.weights_desc());
      net.establish(k + 1, pd0.bias_desc());
    }
    auto pd = pick<dnnl::inner_product_forward::primitive_desc>([&](bool forced) {
      return forced ? make(pk, cur.get_desc(), net.params_[k].master.get_desc())
                    : make(pk, any_desc(src_d), any_desc(w_d));
    });
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.ip = pd;
    add(p.forward, L.name + ".fwd", dnnl::inner_product_forward(pd),
        {{DNNL_ARG_SRC, r.src},
         {DNNL_ARG_WEIGHTS, weights_as(k, pd.weights_desc())},
         {DNNL_ARG_BIAS, weights_as(k + 1, pd.bias_desc())},
         {DNNL_ARG_DST, r.dst}},
        pd);
    return r.dst;
  }

  memory dropout_forward(size_t l, const memory& cur) {
    // At inference dropout is the identity: no op at all.
    if (!p.training) return cur;
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    r.src = cur;
    r.dst = memory(cur.get_desc(), eng);
    p.masks.push_back(std::make_unique<std::vector<uint8_t>>(static_cast<size_t>(float_count(cur))));
    r.mask = p.masks.back().get();
    const memory::dims user_dims = L.in_shape.size() == 3
                                       ? memory::dims{p.n, L.in_shape[0], L.in_shape[1], L.in_shape[2]}
                                       : memory::dims{p.n, L.in_shape[0]};
    p.given_masks_user.emplace_back(memory::desc(user_dims, dt::f32, L.in_shape.size() == 3 ? tag::nchw : tag::nc),
                                    eng);
    p.given_masks.emplace_back(cur.get_desc(), eng);
    r.given = p.given_masks.back();
    Plan* plan = &p;
    memory src = r.src, dst = r.dst, given = r.given;
    std::vector<uint8_t>* mask = r.mask;
    const float rate = L.rate;
    const uint64_t salt = l;
    add_fn(p.forward, L.name + ".fwd", [plan, src, dst, mask, rate, salt, given]() {
      const int64_t count = float_count(src);
      if (plan->dropout_on && plan->masks_given) {
        const float* s = data_of(src);
        const float* m = data_of(given);
        float* d = data_of(dst);
        for (int64_t i = 0; i < count; i++) d[i] = s[i] * m[i];
      } else if (plan->dropout_on && rate > 0) {
        fp::dropout_forward(data_of(src), data_of(dst), mask->data(), count, rate, plan->seed, salt);
      } else {
        std::memcpy(data_of(dst), data_of(src), static_cast<size_t>(count) * sizeof(float));
      }
    });
    return r.dst;
  }

  void build_backward() {
    const auto& layers = net.layers_;
    // first_param: index of the first layer with parameters; nothing below it needs gradients.
    size_t first_param = layers.size();
    for (size_t l = 1; l < layers.size(); l++) {
      if (net.layer_param_[l] >= 0) {
        first_param = l;
        break;
      }
    }
    memory g = p.d_output;
    for (size_t l = layers.size() - 1; l >= 1 && l >= first_param; l--) {
      const LayerSpec& L = layers[l];
      const bool need_dsrc = l > first_param;
      if (fused && l == 2) {
        fused_first_backward(g);
        break;
      }
      g = (this->*builder(L.kind).backward)(l, g, need_dsrc);
      if (l == 1) break;
    }
  }

  memory input_forward(size_t, const memory&) { throw std::runtime_error("input layer after the first layer"); }
  memory input_backward(size_t, const memory& g, bool) { return g; }

  memory dropout_backward(size_t l, const memory& g, bool need_dsrc) {
    if (!need_dsrc) return g;
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    memory gd = as_desc(g, r.dst.get_desc(), p.backward, L.name + ".diff");
    memory gs(r.src.get_desc(), eng);
    Plan* plan = &p;
    std::vector<uint8_t>* mask = r.mask;
    const float rate = L.rate;
    memory given = r.given;
    add_fn(p.backward, L.name + ".bwd", [plan, gd, gs, mask, rate, given]() {
      const int64_t count = float_count(gd);
      if (plan->dropout_on && plan->masks_given) {
        const float* g = data_of(gd);
        const float* m = data_of(given);
        float* d = data_of(gs);
        for (int64_t i = 0; i < count; i++) d[i] = g[i] * m[i];
      } else if (plan->dropout_on && rate > 0) {
        fp::dropout_backward(data_of(gd), data_of(gs), mask->data(), count, rate);
      } else {
        std::memcpy(data_of(gs), data_of(gd), static_cast<size_t>(count) * sizeof(float));
      }
    });
    return gs;
  }

  memory pool_backward(size_t l, const memory& g, bool need_dsrc) {
    if (!need_dsrc) return g;
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    memory gd = as_desc(g, r.dst.get_desc(), p.backward, L.name + ".diff");
    const LayerSpec& below = net.layers_[l - 1];
    // relu(max(x)) == max(relu(x)) (leaky relu too: it is monotonic): apply the relu
    // mask on the pooled tensor, 4x less memory traffic than on the convolution's output.
    if ((below.kind == LayerKind::Conv || below.kind == LayerKind::Dense ||
         (below.kind == LayerKind::BatchNorm && !bn_fuses_relu(below))) &&
        below.relu) {
      relu_backward(gd, r.dst, below.name + ".relu.bwd", below.leakiness);
      f[l - 1].relu_done = true;
    }
    dnnl::pooling_backward::desc d(algorithm::pooling_max, r.pool.src_desc(), r.pool.dst_desc(), {L.pool, L.pool},
                                   {L.pool, L.pool}, {0, 0}, {0, 0});
    dnnl::pooling_backward::primitive_desc pd(d, scratch_attr(), eng, r.pool);
    memory gs(pd.diff_src_desc(), eng);
    add(p.backward, L.name + ".bwd", dnnl::pooling_backward(pd),
        {{DNNL_ARG_DIFF_DST, as_desc(gd, pd.diff_dst_desc(), p.backward, L.name + ".diff2")},
         {DNNL_ARG_DIFF_SRC, gs},
         {DNNL_ARG_WORKSPACE, r.ws}},
        pd);
    return gs;
  }

  // Average pooling (window = stride = poolSize; global: the whole plane) of an image batch.
  memory avg_pool_forward(size_t l, const memory& cur, int64_t kh, int64_t kw, const memory::dims& dst_d) {
    const LayerSpec& L = net.layers_[l];
    dnnl::pooling_forward::desc d(pk, algorithm::pooling_avg_exclude_padding, cur.get_desc(), any_desc(dst_d), {kh, kw},
                                  {kh, kw}, {0, 0}, {0, 0});
    dnnl::pooling_forward::primitive_desc pd(d, scratch_attr(), eng);
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.pool = pd;
    add(p.forward, L.name + ".fwd", dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, r.src}, {DNNL_ARG_DST, r.dst}}, pd);
    return r.dst;
  }

  memory avg_pool_backward(size_t l, const memory& g, int64_t kh, int64_t kw) {
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    dnnl::pooling_backward::desc d(algorithm::pooling_avg_exclude_padding, r.pool.src_desc(), r.pool.dst_desc(),
                                   {kh, kw}, {kh, kw}, {0, 0}, {0, 0});
    dnnl::pooling_backward::primitive_desc pd(d, scratch_attr(), eng, r.pool);
    memory gs(pd.diff_src_desc(), eng);
    add(p.backward, L.name + ".bwd", dnnl::pooling_backward(pd),
        {{DNNL_ARG_DIFF_DST, as_desc(g, pd.diff_dst_desc(), p.backward, L.name + ".diff")}, {DNNL_ARG_DIFF_SRC, gs}},
        pd);
    return gs;
  }

  memory avgpool_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    return avg_pool_forward(l, cur, L.pool, L.pool, batch_dims(p.n, L.out_shape));
  }

  memory avgpool_backward(size_t l, const memory& g, bool need_dsrc) {
    if (!need_dsrc) return g;
    const LayerSpec& L = net.layers_[l];
    return avg_pool_backward(l, g, L.pool, L.pool);
  }

  // Global average pooling: an average pool over the whole plane, then [n, C, 1, 1] seen as [n, C].
  memory globalavgpool_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    const int64_t c = L.in_shape[0];
    memory pooled = avg_pool_forward(l, cur, L.in_shape[1], L.in_shape[2], {p.n, c, 1, 1});
    memory plain = as_desc(pooled, memory::desc({p.n, c, 1, 1}, dt::f32, tag::nchw), p.forward, L.name + ".dst");
    return memory(memory::desc({p.n, c}, dt::f32, tag::nc), eng, plain.get_data_handle());
  }

  memory globalavgpool_backward(size_t l, const memory& g_in, bool need_dsrc) {
    if (!need_dsrc) return g_in;
    const LayerSpec& L = net.layers_[l];
    const int64_t c = L.in_shape[0];
    memory g = as_desc(g_in, memory::desc({p.n, c}, dt::f32, tag::nc), p.backward, L.name + ".diff");
    memory g4(memory::desc({p.n, c, 1, 1}, dt::f32, tag::nchw), eng, g.get_data_handle());
    return avg_pool_backward(l, g4, L.in_shape[1], L.in_shape[2]);
  }

  // Soft-argmax (src/nn/layers/soft-argmax.ts): the input in plain NCHW, a
  // softmax per channel plane kept for the backward, [n, 2C] expected centres.
  std::shared_ptr<std::vector<float>> softargmax_cells(const LayerSpec& L) {
    const int64_t h = L.in_shape[1], w = L.in_shape[2];
    auto cells = std::make_shared<std::vector<float>>(static_cast<size_t>(2 * h * w));
    auto centre = [](int64_t j, int64_t count, int64_t frame) {
      const double half = frame / 2.0;
      return static_cast<float>(((j + 0.5) * static_cast<double>(frame) / count - 0.5 - half) / half);
    };
    for (int64_t i = 0; i < h; i++)
      for (int64_t j = 0; j < w; j++) {
        (*cells)[i * w + j] = centre(j, w, L.frame_w);
        (*cells)[h * w + i * w + j] = centre(i, h, L.frame_h);
      }
    return cells;
  }

  memory softargmax_forward(size_t l, const memory& cur) {
    const LayerSpec& L = net.layers_[l];
    const int64_t c = L.in_shape[0], cells = L.in_shape[1] * L.in_shape[2];
    Fwd& r = f[l];
    r.src = as_desc(cur, memory::desc(batch_dims(p.n, L.in_shape), dt::f32, tag::nchw), p.forward, L.name + ".src");
    r.ws = memory(r.src.get_desc(), eng);  // the softmax
    r.dst = memory(memory::desc({p.n, 2 * c}, dt::f32, tag::nc), eng);
    auto grid = softargmax_cells(L);
    const int64_t planes = p.n * c;
    memory src = r.src, prob = r.ws, dst = r.dst;
    add_fn(p.forward, L.name + ".fwd", [src, prob, dst, grid, planes, cells]() {
      fp::softargmax_forward(data_of(src), data_of(prob), data_of(dst), planes, cells, grid->data(),
                             grid->data() + cells);
    });
    return r.dst;
  }

  memory softargmax_backward(size_t l, const memory& g_in, bool need_dsrc) {
    if (!need_dsrc) return g_in;
    const LayerSpec& L = net.layers_[l];
    const int64_t c = L.in_shape[0], cells = L.in_shape[1] * L.in_shape[2];
    Fwd& r = f[l];
    memory g = as_desc(g_in, r.dst.get_desc(), p.backward, L.name + ".diff");
    memory gs(r.src.get_desc(), eng);
    auto grid = softargmax_cells(L);
    const int64_t planes = p.n * c;
    memory prob = r.ws, dst = r.dst;
    add_fn(p.backward, L.name + ".bwd", [prob, dst, g, gs, grid, planes, cells]() {
      fp::softargmax_backward(data_of(prob), data_of(dst), data_of(g), data_of(gs), planes, cells, grid->data(),
                              grid->data() + cells);
    });
    return gs;
  }

  // Batch norm: oneDNN's batch normalisation with scale (gamma) and shift
  // (beta); in training on the batch's statistics (then the running ones are
  // updated, in training steps only), in inference on the running ones. A
  // relu or leaky relu runs after it in place.
  memory batchnorm_forward(size_t l, const memory& cur) {
    if (f[l].folded) return cur;
    const LayerSpec& L = net.layers_[l];
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const size_t s = static_cast<size_t>(net.layer_state_[l]);
    const int64_t c = L.in_shape[0];
    for (size_t j : {k, k + 1}) {
      if (!net.params_[j].established) net.establish(j, net.params_[j].canonical);
    }
    auto flags = bn_flags(L);
    if (!p.training) flags = flags | dnnl::normalization_flags::use_global_stats;
    dnnl::batch_normalization_forward::desc d(pk, cur.get_desc(), L.epsilon, flags);
    dnnl::batch_normalization_forward::primitive_desc pd(d, scratch_attr(), eng);
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.bn = pd;
    const memory::desc stat_md({c}, dt::f32, tag::x);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, r.src},
                                            {DNNL_ARG_DST, r.dst},
                                            {DNNL_ARG_SCALE, weights_as(k, stat_md)},
                                            {DNNL_ARG_SHIFT, weights_as(k + 1, stat_md)}};
    State& mean = net.states_[s];
    State& var = net.states_[s + 1];
    if (p.training) {
      r.mean = memory(pd.mean_desc(), eng);
      r.variance = memory(pd.variance_desc(), eng);
    } else {
      r.mean = memory(stat_md, eng, mean.values.data());
      r.variance = memory(stat_md, eng, var.values.data());
    }
    args[DNNL_ARG_MEAN] = r.mean;
    args[DNNL_ARG_VARIANCE] = r.variance;
    if (p.training && bn_fuses_relu(L)) {
      r.ws = memory(pd.workspace_desc(), eng);
      args[DNNL_ARG_WORKSPACE] = r.ws;
    }
    add(p.forward, L.name + ".fwd", dnnl::batch_normalization_forward(pd), std::move(args), pd);
    if (L.relu && !bn_fuses_relu(L)) {
      const memory::desc dd = r.dst.get_desc();
      dnnl::eltwise_forward::desc ed(pk, algorithm::eltwise_relu_use_dst_for_bwd, dd, L.leakiness, 0.0f);
      dnnl::eltwise_forward::primitive_desc epd(ed, scratch_attr(), eng);
      add(p.forward, L.name + ".relu", dnnl::eltwise_forward(epd), {{DNNL_ARG_SRC, r.dst}, {DNNL_ARG_DST, r.dst}}, epd);
    }
    if (p.training) {
      Plan* plan = &p;
      State* running_mean = &mean;
      State* running_var = &var;
      memory batch_mean = r.mean, batch_var = r.variance;
      const float a = L.alpha;
      add_fn(p.forward, L.name + ".running", [plan, running_mean, running_var, batch_mean, batch_var, a, c]() {
        if (!plan->update_state) return;
        const float* bm = data_of(batch_mean);
        const float* bv = data_of(batch_var);
        for (int64_t i = 0; i < c; i++) {
          running_mean->values[i] = (1.0f - a) * running_mean->values[i] + a * bm[i];
          running_var->values[i] = (1.0f - a) * running_var->values[i] + a * bv[i];
        }
        running_mean->version++;
        running_var->version++;
      });
    }
    return r.dst;
  }

  memory batchnorm_backward(size_t l, const memory& g_in, bool need_dsrc) {
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const int64_t c = L.in_shape[0];
    memory g = as_desc(g_in, r.dst.get_desc(), p.backward, L.name + ".diff");
    if (L.relu && !bn_fuses_relu(L) && !r.relu_done) relu_backward(g, r.dst, L.name + ".relu.bwd", L.leakiness);
    dnnl::batch_normalization_backward::desc d(prop_kind::backward, r.bn.dst_desc(), r.bn.src_desc(), L.epsilon,
                                               bn_flags(L));
    dnnl::batch_normalization_backward::primitive_desc pd(d, scratch_attr(), eng, r.bn);
    const memory::desc stat_md({c}, dt::f32, tag::x);
    memory gs(pd.diff_src_desc(), eng);
    add(p.backward, L.name + ".bwd", dnnl::batch_normalization_backward(pd),
        {{DNNL_ARG_SRC, r.src},
         {DNNL_ARG_MEAN, r.mean},
         {DNNL_ARG_VARIANCE, r.variance},
         {DNNL_ARG_DIFF_DST, as_desc(g, pd.diff_dst_desc(), p.backward, L.name + ".diff2")},
         {DNNL_ARG_SCALE, weights_as(k, stat_md)},
         {DNNL_ARG_SHIFT, weights_as(k + 1, stat_md)},
         {DNNL_ARG_DIFF_SRC, gs},
         {DNNL_ARG_DIFF_SCALE, grad_as(k, stat_md)},
         {DNNL_ARG_DIFF_SHIFT, grad_as(k + 1, stat_md)}},
        pd);
    if (bn_fuses_relu(L)) p.backward.back().args[DNNL_ARG_WORKSPACE] = r.ws;
    return need_dsrc ? gs : memory();
  }

  memory conv_backward(size_t l, const memory& g_in, bool need_dsrc) {
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const memory::desc src_md = r.conv.src_desc(), dst_md = r.conv.dst_desc();
    const memory::desc b_md({L.filters}, dt::f32, tag::x);
    // One reorder of diff_dst, shared by backward-data and backward-weights.
    memory g = as_desc(g_in, dst_md, p.backward, L.name + ".diff");
    if (L.relu && !r.relu_done) relu_backward(g, r.dst, L.name + ".relu.bwd", L.leakiness);
    const memory::dims w_d = {L.filters, L.in_shape[0], L.kernel_h, L.kernel_w};
    auto pdw = pick<dnnl::convolution_backward_weights::primitive_desc>([&](bool forced) {
      dnnl::convolution_backward_weights::desc d(
          algorithm::convolution_direct, forced ? src_md : any_desc(src_md.dims()),
          forced ? net.params_[k].master.get_desc() : any_desc(w_d), b_md, forced ? dst_md : any_desc(dst_md.dims()),
          conv_strides(L), conv_pad_l(L), conv_pad_r(L));
      return dnnl::convolution_backward_weights::primitive_desc(d, scratch_attr(), eng, r.conv);
    });
    add(p.backward, L.name + ".bwd_weights", dnnl::convolution_backward_weights(pdw),
        {{DNNL_ARG_SRC, as_desc(r.src, pdw.src_desc(), p.backward, L.name + ".src2")},
         {DNNL_ARG_DIFF_DST, as_desc(g, pdw.diff_dst_desc(), p.backward, L.name + ".diff3")},
         {DNNL_ARG_DIFF_WEIGHTS, grad_as(k, pdw.diff_weights_desc())},
         {DNNL_ARG_DIFF_BIAS, grad_as(k + 1, pdw.diff_bias_desc())}},
        pdw);
    if (!need_dsrc) return memory();
    auto pdd = pick<dnnl::convolution_backward_data::primitive_desc>([&](bool forced) {
      dnnl::convolution_backward_data::desc d(
          algorithm::convolution_direct, forced ? src_md : any_desc(src_md.dims()),
          forced ? r.conv.weights_desc() : any_desc(w_d), forced ? dst_md : any_desc(dst_md.dims()), conv_strides(L),
          conv_pad_l(L), conv_pad_r(L));
      return dnnl::convolution_backward_data::primitive_desc(d, scratch_attr(), eng, r.conv);
    });
    memory gs(pdd.diff_src_desc(), eng);
    add(p.backward, L.name + ".bwd_data", dnnl::convolution_backward_data(pdd),
        {{DNNL_ARG_DIFF_DST, as_desc(g, pdd.diff_dst_desc(), p.backward, L.name + ".diff4")},
         {DNNL_ARG_WEIGHTS, weights_as(k, pdd.weights_desc())},
         {DNNL_ARG_DIFF_SRC, gs}},
        pdd);
    return gs;
  }

  memory dense_backward(size_t l, const memory& g_in, bool need_dsrc) {
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const memory::desc src_md = r.ip.src_desc(), dst_md = r.ip.dst_desc();
    const memory::desc b_md({L.units}, dt::f32, tag::x);
    const memory::dims w_d = dense_weight_dims(L);
    memory g = as_desc(g_in, dst_md, p.backward, L.name + ".diff");
    if (L.relu && !r.relu_done) relu_backward(g, r.dst, L.name + ".relu.bwd", L.leakiness);
    // Backward primitives get the forward weights' desc: with `any` they pick
    // another layout and a large weight reorder appears on every step.
    auto pdw = pick<dnnl::inner_product_backward_weights::primitive_desc>([&](bool forced) {
      dnnl::inner_product_backward_weights::desc d(forced ? src_md : any_desc(src_md.dims()),
                                                   forced ? net.params_[k].master.get_desc() : any_desc(w_d), b_md,
                                                   dst_md);
      return dnnl::inner_product_backward_weights::primitive_desc(d, scratch_attr(), eng, r.ip);
    });
    add(p.backward, L.name + ".bwd_weights", dnnl::inner_product_backward_weights(pdw),
        {{DNNL_ARG_SRC, as_desc(r.src, pdw.src_desc(), p.backward, L.name + ".src2")},
         {DNNL_ARG_DIFF_DST, as_desc(g, pdw.diff_dst_desc(), p.backward, L.name + ".diff3")},
         {DNNL_ARG_DIFF_WEIGHTS, grad_as(k, pdw.diff_weights_desc())},
         {DNNL_ARG_DIFF_BIAS, grad_as(k + 1, pdw.diff_bias_desc())}},
        pdw);
    if (!need_dsrc) return memory();
    auto pdd = pick<dnnl::inner_product_backward_data::primitive_desc>([&](bool forced) {
      dnnl::inner_product_backward_data::desc d(forced ? src_md : any_desc(src_md.dims()),
                                                forced ? r.ip.weights_desc() : any_desc(w_d), dst_md);
      return dnnl::inner_product_backward_data::primitive_desc(d, scratch_attr(), eng, r.ip);
    });
    memory gs(pdd.diff_src_desc(), eng);
    add(p.backward, L.name + ".bwd_data", dnnl::inner_product_backward_data(pdd),
        {{DNNL_ARG_DIFF_DST, as_desc(g, pdd.diff_dst_desc(), p.backward, L.name + ".diff4")},
         {DNNL_ARG_WEIGHTS, weights_as(k, pdd.weights_desc())},
         {DNNL_ARG_DIFF_SRC, gs}},
        pdd);
    return gs;
  }

  // One scratchpad per plan, shared by all its primitives (they run one at a time).
  void allocate_scratchpad() {
    size_t size = 0;
    for (auto* ops : {&p.forward, &p.backward, &p.grad_sync}) {
      for (const Op& op : *ops) {
        if (!op.fn) size = std::max(size, op.scratch.get_size());
      }
    }
    if (size == 0) return;
    p.scratch = memory({{static_cast<int64_t>(size)}, dt::u8, tag::x}, eng);
    for (auto* ops : {&p.forward, &p.backward, &p.grad_sync}) {
      for (Op& op : *ops) {
        if (!op.fn && op.scratch.get_size() > 0) {
          op.args[DNNL_ARG_SCRATCHPAD] = memory(op.scratch, eng, p.scratch.get_data_handle());
        }
      }
    }
  }
};

const LayerBuilder kBuilders[] = {
    {LayerKind::Input, "input", &PlanBuilder::input_forward, &PlanBuilder::input_backward},
    {LayerKind::Conv, "conv2d", &PlanBuilder::conv_forward, &PlanBuilder::conv_backward},
    {LayerKind::Pool, "maxpool2d", &PlanBuilder::pool_forward, &PlanBuilder::pool_backward},
    {LayerKind::AvgPool, "avgpool2d", &PlanBuilder::avgpool_forward, &PlanBuilder::avgpool_backward},
    {LayerKind::GlobalAvgPool, "globalavgpool", &PlanBuilder::globalavgpool_forward,
     &PlanBuilder::globalavgpool_backward},
    {LayerKind::BatchNorm, "batchnorm", &PlanBuilder::batchnorm_forward, &PlanBuilder::batchnorm_backward},
    {LayerKind::Dense, "dense", &PlanBuilder::dense_forward, &PlanBuilder::dense_backward},
    {LayerKind::Dropout, "dropout", &PlanBuilder::dropout_forward, &PlanBuilder::dropout_backward},
    {LayerKind::SoftArgmax, "softargmax", &PlanBuilder::softargmax_forward, &PlanBuilder::softargmax_backward},
};

const LayerBuilder& builder(LayerKind kind) {
  for (const LayerBuilder& b : kBuilders) {
    if (b.kind == kind) return b;
  }
  throw std::logic_error("a layer kind without builders");
}

bool parse_kind(const std::string& name, LayerKind& kind) {
  for (const LayerBuilder& b : kBuilders) {
    if (name == b.name) {
      kind = b.kind;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------

Network::Network(std::vector<LayerSpec> layers, int threads, Optimizer optimizer)
    : layers_(std::move(layers)),
      threads_(threads > 0 ? threads : omp_get_num_procs()),
      optimizer_(optimizer),
      eng_(dnnl::engine::kind::cpu, 0),
      stream_(eng_) {
  if (layers_.size() < 2 || layers_[0].kind != LayerKind::Input) {
    throw std::invalid_argument("a network needs an input layer and at least one more layer");
  }
  const char* env = std::getenv("FACEPOINTS_NATIVE_PROFILE");
  profile_.enabled = env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
  input_size_ = 1;
  for (int64_t d : layers_[0].out_shape) input_size_ *= d;
  const LayerSpec& last = layers_.back();
  if (last.out_shape.size() != 1) throw std::invalid_argument("the last layer must produce a flat vector");
  output_size_ = last.out_shape[0];
  layer_param_.assign(layers_.size(), -1);
  layer_state_.assign(layers_.size(), -1);
  for (size_t l = 0; l < layers_.size(); l++) {
    const LayerSpec& L = layers_[l];
    if (L.kind == LayerKind::BatchNorm) {
      // Parameters gamma, beta (trainable) and state mean, var, one value per channel, as in src/nn/layers/batchnorm.ts.
      const int64_t c = L.in_shape[0];
      layer_param_[l] = static_cast<int>(params_.size());
      for (const char* name : {".gamma", ".beta"}) {
        Param param;
        param.name = L.name + name;
        param.dims = {c};
        param.canonical = memory::desc(param.dims, dt::f32, tag::x);
        param.pending_value.assign(static_cast<size_t>(c), 0.0f);
        param.pending_velocity.assign(static_cast<size_t>(c), 0.0f);
        if (optimizer_ == Optimizer::Adam) param.pending_second.assign(static_cast<size_t>(c), 0.0f);
        params_.push_back(std::move(param));
      }
      layer_state_[l] = static_cast<int>(states_.size());
      states_.push_back({L.name + ".mean", std::vector<float>(static_cast<size_t>(c), 0.0f)});
      states_.push_back({L.name + ".var", std::vector<float>(static_cast<size_t>(c), 1.0f)});
      continue;
    }
    if (L.kind != LayerKind::Conv && L.kind != LayerKind::Dense) continue;
    layer_param_[l] = static_cast<int>(params_.size());
    Param w, b;
    w.name = L.name + ".W";
    b.name = L.name + ".b";
    int64_t out = 0;
    if (L.kind == LayerKind::Conv) {
      out = L.filters;
      w.dims = {L.filters, L.in_shape[0], L.kernel_h, L.kernel_w};
      w.canonical = memory::desc(w.dims, dt::f32, tag::oihw);
    } else if (L.in_shape.size() == 3) {
      // spec.ts stores dense W as [in, out] with `in` flattened in C, H, W order.
      out = L.units;
      const int64_t c = L.in_shape[0], h = L.in_shape[1], wd = L.in_shape[2];
      w.dims = {out, c, h, wd};
      w.canonical = memory::desc(w.dims, dt::f32, memory::dims{1, h * wd * out, wd * out, out});
    } else {
      out = L.units;
      w.dims = {out, L.in_shape[0]};
      w.canonical = memory::desc(w.dims, dt::f32, tag::io);
    }
    b.dims = {out};
    b.canonical = memory::desc(b.dims, dt::f32, tag::x);
    w.decay = true;
    for (Param* param : {&w, &b}) {
      const size_t count = param->canonical.get_size() / sizeof(float);
      param->pending_value.assign(count, 0.0f);
      param->pending_velocity.assign(count, 0.0f);
      if (optimizer_ == Optimizer::Adam) param->pending_second.assign(count, 0.0f);
      params_.push_back(std::move(*param));
    }
  }
}

Network::~Network() = default;

void Network::establish(size_t k, const memory::desc& desc) {
  Param& param = params_[k];
  param.master = memory(desc, eng_);
  param.velocity = memory(desc, eng_);
  std::vector<std::pair<memory*, std::vector<float>*>> buffers = {{&param.master, &param.pending_value},
                                                                  {&param.velocity, &param.pending_velocity}};
  if (optimizer_ == Optimizer::Adam) {
    param.second = memory(desc, eng_);
    buffers.emplace_back(&param.second, &param.pending_second);
  }
  for (auto [target, source] : buffers) {
    std::memset(target->get_data_handle(), 0, desc.get_size());
    memory canonical(param.canonical, eng_, source->data());
    dnnl::reorder(canonical, *target).execute(stream_, canonical, *target);
  }
  stream_.wait();
  param.pending_value = {};
  param.pending_velocity = {};
  param.pending_second = {};
  param.established = true;
  param.version++;
}

Plan& Network::plan(int64_t n, bool training) {
  if (n <= 0) throw std::invalid_argument("a batch needs at least one sample");
  const auto key = std::make_pair(n, training);
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    if (plans_.size() >= kMaxPlans) {
      auto oldest = plans_.begin();
      for (auto i = plans_.begin(); i != plans_.end(); ++i) {
        if (i->second->last_used < oldest->second->last_used) oldest = i;
      }
      plans_.erase(oldest);
    }
    // Parameters take the layouts the training primitives choose, whichever plan comes first: an
    // inference plan picks other layouts (nhwc convolutions, say), and a net that predicted before it
    // trained would then train (and predict) with other rounding than one that did not.
    bool all_established = true;
    for (const Param& param : params_) all_established = all_established && param.established;
    if (!training && !all_established) {
      Plan layouts;
      layouts.n = n;
      layouts.training = true;
      PlanBuilder(*this, layouts, eng_).build();
    }
    auto fresh = std::make_unique<Plan>();
    fresh->n = n;
    fresh->training = training;
    PlanBuilder(*this, *fresh, eng_).build();
    if (profile_.enabled) {
      std::fprintf(stderr, "[facepoints native] plan n=%lld %s:\n", static_cast<long long>(n),
                   training ? "training" : "inference");
      for (const std::string& line : fresh->impls) std::fprintf(stderr, "  %s\n", line.c_str());
    }
    it = plans_.emplace(key, std::move(fresh)).first;
  }
  it->second->last_used = ++clock_;
  return *it->second;
}

namespace {

void run_ops(std::vector<Op>& ops, dnnl::stream& stream, bool timed, double* times) {
  for (size_t i = 0; i < ops.size(); i++) {
    Op& op = ops[i];
    const double start = timed ? now_ms() : 0;
    if (op.fn) {
      op.fn();
    } else {
      try {
        op.prim.execute(stream, op.args);
      } catch (const dnnl::error& e) {
        throw std::runtime_error("oneDNN: " + op.name + ": " + e.what());
      }
      if (timed) stream.wait();
    }
    if (timed) times[i] += now_ms() - start;
  }
  stream.wait();
}

}  // namespace

void Network::run_forward(Plan& p) {
  for (WeightCopy& copy : p.copies) {
    Param& param = params_[copy.param];
    if (copy.version == param.version) continue;
    dnnl::reorder(param.master, copy.mem).execute(stream_, param.master, copy.mem);
    copy.version = param.version;
  }
  run_ops(p.forward, stream_, profile_.enabled, p.fwd_ms.data());
}

void Network::run_backward(Plan& p) {
  run_ops(p.backward, stream_, profile_.enabled, p.bwd_ms.data());
  run_ops(p.grad_sync, stream_, profile_.enabled, p.bwd_ms.data() + p.backward.size());
}

double Network::run_loss(Plan& p, const float* y, bool with_grad, const LossParams& loss) {
  return masked_loss(loss, data_of(p.output), y, with_grad ? data_of(p.d_output) : nullptr, p.n * output_size_);
}

void Network::report(const char* what, Plan& p) {
  if (!profile_.enabled) return;
  const int64_t n = p.n;
  std::ostringstream out;
  double total = 0;
  for (double t : p.fwd_ms) total += t;
  for (double t : p.bwd_ms) total += t;
  out << "[facepoints native] " << what << " n=" << n << " ops " << total << " ms |";
  for (size_t i = 0; i < p.forward.size(); i++) out << ' ' << p.forward[i].name << ' ' << p.fwd_ms[i];
  for (size_t i = 0; i < p.backward.size(); i++) out << ' ' << p.backward[i].name << ' ' << p.bwd_ms[i];
  for (size_t i = 0; i < p.grad_sync.size(); i++) {
    out << ' ' << p.grad_sync[i].name << ' ' << p.bwd_ms[p.backward.size() + i];
  }
  std::fprintf(stderr, "%s\n", out.str().c_str());
  std::fill(p.fwd_ms.begin(), p.fwd_ms.end(), 0.0);
  std::fill(p.bwd_ms.begin(), p.bwd_ms.end(), 0.0);
}

std::vector<float> Network::predict(const float* x, int64_t n) {
  omp_set_num_threads(threads_);
  std::vector<float> result(static_cast<size_t>(n * output_size_));
  for (int64_t start = 0; start < n; start += kInferenceChunk) {
    const int64_t m = std::min(kInferenceChunk, n - start);
    Plan& p = plan(m, false);
    std::memcpy(p.input.get_data_handle(), x + start * input_size_, static_cast<size_t>(m * input_size_) * sizeof(float));
    run_forward(p);
    std::memcpy(result.data() + start * output_size_, data_of(p.output),
                static_cast<size_t>(m * output_size_) * sizeof(float));
    report("predict", p);
  }
  return result;
}

double Network::evaluate_loss(const float* x, const float* y, int64_t n, const LossParams& loss) {
  std::vector<float> pred = predict(x, n);
  return masked_loss(loss, pred.data(), y, nullptr, n * output_size_);
}

double Network::train_step(const float* x, const float* y, int64_t n, const StepParams& step, uint64_t seed,
                           const LossParams& loss, const std::vector<std::vector<float>>* masks) {
  omp_set_num_threads(threads_);
  Plan& p = plan(n, true);
  std::memcpy(p.input.get_data_handle(), x, static_cast<size_t>(n * input_size_) * sizeof(float));
  p.dropout_on = true;
  p.update_state = true;
  p.seed = seed;
  p.masks_given = masks != nullptr;
  if (masks) {
    if (masks->size() != p.given_masks.size()) {
      throw std::invalid_argument("expected " + std::to_string(p.given_masks.size()) + " dropout masks, got " +
                                  std::to_string(masks->size()));
    }
    for (size_t i = 0; i < masks->size(); i++) {
      memory& user = p.given_masks_user[i];
      const size_t count = user.get_desc().get_size() / sizeof(float);
      if ((*masks)[i].size() != count) {
        throw std::invalid_argument("dropout mask " + std::to_string(i) + ": expected " + std::to_string(count) +
                                    " values, got " + std::to_string((*masks)[i].size()));
      }
      std::memcpy(user.get_data_handle(), (*masks)[i].data(), count * sizeof(float));
      dnnl::reorder(user, p.given_masks[i]).execute(stream_, user, p.given_masks[i]);
    }
    stream_.wait();
  }
  run_forward(p);
  const double value = run_loss(p, y, true, loss);
  run_backward(p);
  const double t1 = profile_.enabled ? now_ms() : 0;
  for (size_t k = 0; k < params_.size(); k++) {
    Param& param = params_[k];
    const float decay = param.decay ? step.decay : 0.0f;
    if (optimizer_ == Optimizer::Adam) {
      adam_update(data_of(param.master), data_of(param.velocity), data_of(param.second), data_of(p.grads[k]),
                  float_count(param.master), step.step_size, step.beta1, step.one_minus_beta1, step.beta2,
                  step.one_minus_beta2, step.eps, decay);
    } else {
      nesterov_update(data_of(param.master), data_of(param.velocity), data_of(p.grads[k]), float_count(param.master),
                      step.lr, step.momentum, decay);
    }
    param.version++;
  }
  if (profile_.enabled) std::fprintf(stderr, "[facepoints native] update %.2f ms\n", now_ms() - t1);
  report("train", p);
  return value;
}

double Network::gradients(const float* x, const float* y, int64_t n, std::vector<std::vector<float>>& out,
                          const LossParams& loss_params) {
  omp_set_num_threads(threads_);
  Plan& p = plan(n, true);
  std::memcpy(p.input.get_data_handle(), x, static_cast<size_t>(n * input_size_) * sizeof(float));
  p.dropout_on = false;
  p.update_state = false;
  run_forward(p);
  const double loss = run_loss(p, y, true, loss_params);
  run_backward(p);
  out.clear();
  for (size_t k = 0; k < params_.size(); k++) {
    std::vector<float> values(params_[k].canonical.get_size() / sizeof(float));
    memory canonical(params_[k].canonical, eng_, values.data());
    dnnl::reorder(p.grads[k], canonical).execute(stream_, p.grads[k], canonical);
    out.push_back(std::move(values));
  }
  stream_.wait();
  report("gradients", p);
  return loss;
}

namespace {

void check_slot(Slot slot, Optimizer optimizer) {
  if (slot == Slot::Second && optimizer != Optimizer::Adam) {
    throw std::invalid_argument("only Adam keeps a second moment per parameter");
  }
}

memory& memory_of(Param& param, Slot slot) {
  return slot == Slot::Value ? param.master : slot == Slot::Velocity ? param.velocity : param.second;
}

std::vector<float>& pending_of(Param& param, Slot slot) {
  return slot == Slot::Value ? param.pending_value : slot == Slot::Velocity ? param.pending_velocity : param.pending_second;
}

}  // namespace

std::vector<std::vector<float>> Network::get_params(Slot slot) {
  omp_set_num_threads(threads_);
  check_slot(slot, optimizer_);
  std::vector<std::vector<float>> out;
  for (Param& param : params_) {
    if (!param.established) {
      out.push_back(pending_of(param, slot));
      continue;
    }
    std::vector<float> values(param.canonical.get_size() / sizeof(float));
    memory canonical(param.canonical, eng_, values.data());
    memory& source = memory_of(param, slot);
    dnnl::reorder(source, canonical).execute(stream_, source, canonical);
    out.push_back(std::move(values));
  }
  stream_.wait();
  return out;
}

void Network::set_params(const std::vector<std::vector<float>>& values, Slot slot) {
  omp_set_num_threads(threads_);
  check_slot(slot, optimizer_);
  if (values.size() != params_.size()) throw std::invalid_argument("wrong number of parameters");
  for (size_t k = 0; k < params_.size(); k++) {
    if (values[k].size() != params_[k].canonical.get_size() / sizeof(float)) {
      throw std::invalid_argument(params_[k].name + ": wrong number of values");
    }
  }
  for (size_t k = 0; k < params_.size(); k++) {
    Param& param = params_[k];
    if (!param.established) {
      pending_of(param, slot) = values[k];
    } else {
      memory canonical(param.canonical, eng_, const_cast<float*>(values[k].data()));
      memory& target = memory_of(param, slot);
      dnnl::reorder(canonical, target).execute(stream_, canonical, target);
    }
    param.version++;
  }
  stream_.wait();
}

std::vector<std::vector<float>> Network::get_state() const {
  std::vector<std::vector<float>> out;
  for (const State& state : states_) out.push_back(state.values);
  return out;
}

void Network::set_state(const std::vector<std::vector<float>>& values) {
  if (values.size() != states_.size()) throw std::invalid_argument("wrong number of state tensors");
  for (size_t i = 0; i < states_.size(); i++) {
    if (values[i].size() != states_[i].values.size()) {
      throw std::invalid_argument(states_[i].name + ": wrong number of values");
    }
  }
  for (size_t i = 0; i < states_.size(); i++) {
    // In place: inference plans read these vectors directly.
    std::copy(values[i].begin(), values[i].end(), states_[i].values.begin());
    states_[i].version++;
  }
}

int Network::probe_threads() {
  omp_set_num_threads(threads_);
  int team = 0;
#pragma omp parallel
  {
#pragma omp single
    team = omp_get_num_threads();
  }
  return team;
}

std::string Network::describe() {
  std::ostringstream out;
  for (const auto& [key, p] : plans_) {
    out << "plan n=" << key.first << (key.second ? " training" : " inference") << '\n';
    for (const std::string& line : p->impls) out << "  " << line << '\n';
  }
  return out.str();
}

}  // namespace fp

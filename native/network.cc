#include "network.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
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

dnnl::primitive_attr relu_attr(bool relu) {
  dnnl::primitive_attr attr = scratch_attr();
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
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
    std::vector<uint8_t>* mask = nullptr;
    memory given;  // dropout: the caller's mask in this layer's layout
    bool relu_done = false;  // relu's backward already applied above a pool
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
  void relu_backward(const memory& diff, const memory& data, const std::string& name) {
    const memory::desc d = data.get_desc();
    dnnl::eltwise_forward::desc fwd(prop_kind::forward_training, algorithm::eltwise_relu_use_dst_for_bwd, d, 0.0f,
                                    0.0f);
    dnnl::eltwise_forward::primitive_desc hint(fwd, eng);
    dnnl::eltwise_backward::desc bwd(algorithm::eltwise_relu_use_dst_for_bwd, d, d, 0.0f, 0.0f);
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
    for (; l < layers.size(); l++) {
      const LayerSpec& L = layers[l];
      switch (L.kind) {
        case LayerKind::Conv: cur = conv_forward(l, cur); break;
        case LayerKind::Pool: cur = pool_forward(l, cur); break;
        case LayerKind::Dense: cur = dense_forward(l, cur); break;
        case LayerKind::Dropout: cur = dropout_forward(l, cur); break;
        case LayerKind::Input: throw std::runtime_error("input layer after the first layer");
      }
    }
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
    if (c.kind != LayerKind::Conv || !c.relu || c.filters % 16 != 0 || pool.kind != LayerKind::Pool || pool.pool > 15) {
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
    auto make = [&](prop_kind kind, const memory::desc& w_md) {
      dnnl::convolution_forward::desc d(kind, algorithm::convolution_direct, any_desc(src_d), w_md, b_md,
                                        any_desc(dst_d), {1, 1}, {0, 0}, {0, 0});
      return dnnl::convolution_forward::primitive_desc(d, relu_attr(L.relu), eng);
    };
    if (!net.params_[k].established) {
      auto pd0 = make(prop_kind::forward_training, any_desc(w_d));
      net.establish(k, pd0.weights_desc());
      net.establish(k + 1, pd0.bias_desc());
    }
    auto pd = pick<dnnl::convolution_forward::primitive_desc>(
        [&](bool forced) { return make(pk, forced ? net.params_[k].master.get_desc() : any_desc(w_d)); });
    Fwd& r = f[l];
    r.src = as_desc(cur, pd.src_desc(), p.forward, L.name + ".src");
    r.dst = memory(pd.dst_desc(), eng);
    r.conv = pd;
    add(p.forward, L.name + ".fwd", dnnl::convolution_forward(pd),
        {{DNNL_ARG_SRC, r.src},
         {DNNL_ARG_WEIGHTS, weights_as(k, pd.weights_desc())},
         {DNNL_ARG_BIAS, weights_as(k + 1, pd.bias_desc())},
         {DNNL_ARG_DST, r.dst}},
        pd);
    return r.dst;
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
      return dnnl::inner_product_forward::primitive_desc(d, relu_attr(L.relu), eng);
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
      Fwd& r = f[l];
      if (fused && l == 2) {
        fused_first_backward(g);
        break;
      }
      switch (L.kind) {
        case LayerKind::Dropout: {
          if (!need_dsrc) break;
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
          g = gs;
          break;
        }
        case LayerKind::Pool: {
          if (!need_dsrc) break;
          memory gd = as_desc(g, r.dst.get_desc(), p.backward, L.name + ".diff");
          const LayerSpec& below = layers[l - 1];
          // relu(max(x)) == max(relu(x)): apply the relu mask on the pooled
          // tensor, 4x less memory traffic than on the convolution's output.
          if ((below.kind == LayerKind::Conv || below.kind == LayerKind::Dense) && below.relu) {
            relu_backward(gd, r.dst, below.name + ".relu.bwd");
            f[l - 1].relu_done = true;
          }
          dnnl::pooling_backward::desc d(algorithm::pooling_max, r.pool.src_desc(), r.pool.dst_desc(),
                                         {L.pool, L.pool}, {L.pool, L.pool}, {0, 0}, {0, 0});
          dnnl::pooling_backward::primitive_desc pd(d, scratch_attr(), eng, r.pool);
          memory gs(pd.diff_src_desc(), eng);
          add(p.backward, L.name + ".bwd", dnnl::pooling_backward(pd),
              {{DNNL_ARG_DIFF_DST, as_desc(gd, pd.diff_dst_desc(), p.backward, L.name + ".diff2")},
               {DNNL_ARG_DIFF_SRC, gs},
               {DNNL_ARG_WORKSPACE, r.ws}},
              pd);
          g = gs;
          break;
        }
        case LayerKind::Conv: g = conv_backward(l, g, need_dsrc); break;
        case LayerKind::Dense: g = dense_backward(l, g, need_dsrc); break;
        case LayerKind::Input: break;
      }
      if (l == 1) break;
    }
  }

  memory conv_backward(size_t l, const memory& g_in, bool need_dsrc) {
    const LayerSpec& L = net.layers_[l];
    Fwd& r = f[l];
    const size_t k = static_cast<size_t>(net.layer_param_[l]);
    const memory::desc src_md = r.conv.src_desc(), dst_md = r.conv.dst_desc();
    const memory::desc b_md({L.filters}, dt::f32, tag::x);
    // One reorder of diff_dst, shared by backward-data and backward-weights.
    memory g = as_desc(g_in, dst_md, p.backward, L.name + ".diff");
    if (L.relu && !r.relu_done) relu_backward(g, r.dst, L.name + ".relu.bwd");
    const memory::dims w_d = {L.filters, L.in_shape[0], L.kernel_h, L.kernel_w};
    auto pdw = pick<dnnl::convolution_backward_weights::primitive_desc>([&](bool forced) {
      dnnl::convolution_backward_weights::desc d(
          algorithm::convolution_direct, forced ? src_md : any_desc(src_md.dims()),
          forced ? net.params_[k].master.get_desc() : any_desc(w_d), b_md, forced ? dst_md : any_desc(dst_md.dims()),
          {1, 1}, {0, 0}, {0, 0});
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
          forced ? r.conv.weights_desc() : any_desc(w_d), forced ? dst_md : any_desc(dst_md.dims()), {1, 1}, {0, 0},
          {0, 0});
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
    if (L.relu && !r.relu_done) relu_backward(g, r.dst, L.name + ".relu.bwd");
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

// ---------------------------------------------------------------------------

Network::Network(std::vector<LayerSpec> layers, int threads)
    : layers_(std::move(layers)), threads_(threads > 0 ? threads : omp_get_num_procs()), eng_(dnnl::engine::kind::cpu, 0),
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
  for (size_t l = 0; l < layers_.size(); l++) {
    const LayerSpec& L = layers_[l];
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
    for (Param* param : {&w, &b}) {
      const size_t count = param->canonical.get_size() / sizeof(float);
      param->pending_value.assign(count, 0.0f);
      param->pending_velocity.assign(count, 0.0f);
      params_.push_back(std::move(*param));
    }
  }
}

Network::~Network() = default;

void Network::establish(size_t k, const memory::desc& desc) {
  Param& param = params_[k];
  param.master = memory(desc, eng_);
  param.velocity = memory(desc, eng_);
  for (auto [target, source] : {std::pair{&param.master, &param.pending_value},
                                std::pair{&param.velocity, &param.pending_velocity}}) {
    std::memset(target->get_data_handle(), 0, desc.get_size());
    memory canonical(param.canonical, eng_, source->data());
    dnnl::reorder(canonical, *target).execute(stream_, canonical, *target);
  }
  stream_.wait();
  param.pending_value = {};
  param.pending_velocity = {};
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
      op.prim.execute(stream, op.args);
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

double Network::run_loss(Plan& p, const float* y, bool with_grad) {
  return masked_mse(data_of(p.output), y, with_grad ? data_of(p.d_output) : nullptr, p.n * output_size_);
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

double Network::evaluate_loss(const float* x, const float* y, int64_t n) {
  std::vector<float> pred = predict(x, n);
  return masked_mse(pred.data(), y, nullptr, n * output_size_);
}

double Network::train_step(const float* x, const float* y, int64_t n, float lr, float momentum, uint64_t seed,
                           const std::vector<std::vector<float>>* masks) {
  omp_set_num_threads(threads_);
  Plan& p = plan(n, true);
  std::memcpy(p.input.get_data_handle(), x, static_cast<size_t>(n * input_size_) * sizeof(float));
  p.dropout_on = true;
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
  const double loss = run_loss(p, y, true);
  run_backward(p);
  const double t1 = profile_.enabled ? now_ms() : 0;
  for (size_t k = 0; k < params_.size(); k++) {
    Param& param = params_[k];
    nesterov_update(data_of(param.master), data_of(param.velocity), data_of(p.grads[k]), float_count(param.master), lr,
                    momentum);
    param.version++;
  }
  if (profile_.enabled) std::fprintf(stderr, "[facepoints native] update %.2f ms\n", now_ms() - t1);
  report("train", p);
  return loss;
}

double Network::gradients(const float* x, const float* y, int64_t n, std::vector<std::vector<float>>& out) {
  omp_set_num_threads(threads_);
  Plan& p = plan(n, true);
  std::memcpy(p.input.get_data_handle(), x, static_cast<size_t>(n * input_size_) * sizeof(float));
  p.dropout_on = false;
  run_forward(p);
  const double loss = run_loss(p, y, true);
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

std::vector<std::vector<float>> Network::get_params(bool velocity) {
  omp_set_num_threads(threads_);
  std::vector<std::vector<float>> out;
  for (Param& param : params_) {
    if (!param.established) {
      out.push_back(velocity ? param.pending_velocity : param.pending_value);
      continue;
    }
    std::vector<float> values(param.canonical.get_size() / sizeof(float));
    memory canonical(param.canonical, eng_, values.data());
    memory& source = velocity ? param.velocity : param.master;
    dnnl::reorder(source, canonical).execute(stream_, source, canonical);
    out.push_back(std::move(values));
  }
  stream_.wait();
  return out;
}

void Network::set_params(const std::vector<std::vector<float>>& values, bool velocity) {
  omp_set_num_threads(threads_);
  if (values.size() != params_.size()) throw std::invalid_argument("wrong number of parameters");
  for (size_t k = 0; k < params_.size(); k++) {
    if (values[k].size() != params_[k].canonical.get_size() / sizeof(float)) {
      throw std::invalid_argument(params_[k].name + ": wrong number of values");
    }
  }
  for (size_t k = 0; k < params_.size(); k++) {
    Param& param = params_[k];
    if (!param.established) {
      (velocity ? param.pending_velocity : param.pending_value) = values[k];
    } else {
      memory canonical(param.canonical, eng_, const_cast<float*>(values[k].data()));
      memory& target = velocity ? param.velocity : param.master;
      dnnl::reorder(canonical, target).execute(stream_, canonical, target);
    }
    param.version++;
  }
  stream_.wait();
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

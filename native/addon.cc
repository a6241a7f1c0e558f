// N-API surface of the native engine. Every heavy call runs on a libuv worker
// (Napi::AsyncWorker) and returns a Promise, so the JS thread stays free for
// progress output and Ctrl-C; a network refuses a second call while one runs.
#include <napi.h>
#include <omp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "network.h"

namespace {

class NetworkWrap;

class Job : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  Job(Napi::Env env, std::shared_ptr<std::atomic<bool>> busy, Napi::Object self, Work work, Done done)
      : Napi::AsyncWorker(env, "facepoints:native"),
        deferred_(Napi::Promise::Deferred::New(env)),
        busy_(std::move(busy)),
        work_(std::move(work)),
        done_(std::move(done)) {
    refs_.push_back(Napi::Persistent(self));
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      work_();
    } catch (const dnnl::error& e) {
      SetError(std::string("oneDNN: ") + e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    *busy_ = false;
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(done_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    *busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<std::atomic<bool>> busy_;
  Work work_;
  Done done_;
  std::vector<Napi::ObjectReference> refs_;
};

int64_t int_prop(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : 0;
}

std::vector<int64_t> shape_prop(const Napi::Object& o, const char* key) {
  std::vector<int64_t> shape;
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("layer field '") + key + "' must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) shape.push_back(a.Get(i).As<Napi::Number>().Int64Value());
  return shape;
}

double number_prop(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// Reads a resolved layer of src/nn/spec.ts (the fields of its kind's module in src/nn/layers/).
fp::LayerSpec parse_layer(const Napi::Object& o) {
  fp::LayerSpec L;
  const std::string kind = o.Get("kind").As<Napi::String>().Utf8Value();
  if (!fp::parse_kind(kind, L.kind)) throw Napi::TypeError::New(o.Env(), "unknown layer kind '" + kind + "'");
  L.name = o.Get("name").As<Napi::String>().Utf8Value();
  Napi::Value activation = o.Get("activation");
  const std::string act = activation.IsString() ? activation.As<Napi::String>().Utf8Value() : "linear";
  L.relu = act == "relu" || act == "leakyRelu";
  L.leakiness = act == "leakyRelu" ? static_cast<float>(number_prop(o, "leakiness", 0.0)) : 0.0f;
  L.filters = int_prop(o, "filters");
  if (o.Get("kernelSize").IsArray()) {
    const std::vector<int64_t> k = shape_prop(o, "kernelSize");
    L.kernel_h = k.at(0);
    L.kernel_w = k.at(1);
  }
  if (o.Get("stride").IsArray()) {
    const std::vector<int64_t> st = shape_prop(o, "stride");
    L.stride_h = st.at(0);
    L.stride_w = st.at(1);
  }
  if (o.Get("padding").IsArray()) {
    const std::vector<int64_t> pad = shape_prop(o, "padding");  // [top, bottom, left, right]
    L.pad_t = pad.at(0);
    L.pad_b = pad.at(1);
    L.pad_l = pad.at(2);
    L.pad_r = pad.at(3);
  }
  L.epsilon = static_cast<float>(number_prop(o, "epsilon", 1e-5));
  L.alpha = static_cast<float>(number_prop(o, "alpha", 0.1));
  L.pool = int_prop(o, "poolSize");
  L.units = int_prop(o, "units");
  L.rate = static_cast<float>(number_prop(o, "rate", 0.0));
  if (o.Get("frame").IsArray()) {
    const std::vector<int64_t> frame = shape_prop(o, "frame");  // [height, width]
    L.frame_h = frame.at(0);
    L.frame_w = frame.at(1);
  }
  L.in_shape = shape_prop(o, "inputShape");
  L.out_shape = shape_prop(o, "outputShape");
  return L;
}

double number_prop(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("field '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

// { loss, lossA, lossB } (see lossCode in src/nn/loss.ts); absent: the masked MSE.
fp::LossParams loss_arg(const Napi::CallbackInfo& info, size_t i) {
  fp::LossParams loss;
  if (info.Length() <= i || info[i].IsUndefined()) return loss;
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "loss must be { loss, lossA, lossB }");
  Napi::Object o = info[i].As<Napi::Object>();
  loss.kind = static_cast<int>(number_prop(o, "loss"));
  loss.a = number_prop(o, "lossA");
  loss.b = number_prop(o, "lossB");
  if (loss.kind < 0 || loss.kind > 3) throw Napi::RangeError::New(info.Env(), "unknown loss code");
  if (loss.kind >= 2 && !(loss.a > 0)) throw Napi::RangeError::New(info.Env(), "loss parameter must be positive");
  if (loss.kind == 3 && !(loss.b > 0)) throw Napi::RangeError::New(info.Env(), "wing epsilon must be positive");
  return loss;
}

// getParams/setParams' slot: 0 values, 1 velocity (Adam: m), 2 Adam's v; a boolean means velocity or not.
fp::Slot slot_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i) return fp::Slot::Value;
  if (info[i].IsNumber()) {
    const int slot = info[i].As<Napi::Number>().Int32Value();
    if (slot < 0 || slot > 2) throw Napi::RangeError::New(info.Env(), "slot must be 0, 1 or 2");
    return static_cast<fp::Slot>(slot);
  }
  return info[i].ToBoolean().Value() ? fp::Slot::Velocity : fp::Slot::Value;
}

// Copied on the JS thread: the caller may refill its arrays (a prefetching
// batch iterator, say) while the worker runs. ~1 ms for a batch of 128.
std::shared_ptr<std::vector<float>> copy_of(const Napi::Float32Array& a) {
  return std::make_shared<std::vector<float>>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Array to_js(Napi::Env env, const std::vector<std::vector<float>>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) {
    Napi::Float32Array a = Napi::Float32Array::New(env, values[i].size());
    std::copy(values[i].begin(), values[i].end(), a.Data());
    out.Set(static_cast<uint32_t>(i), a);
  }
  return out;
}

class NetworkWrap : public Napi::ObjectWrap<NetworkWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeNetwork",
                       {
                           InstanceMethod("predict", &NetworkWrap::Predict),
                           InstanceMethod("trainStep", &NetworkWrap::TrainStep),
                           InstanceMethod("evaluateLoss", &NetworkWrap::EvaluateLoss),
                           InstanceMethod("gradients", &NetworkWrap::Gradients),
                           InstanceMethod("getParams", &NetworkWrap::GetParams),
                           InstanceMethod("setParams", &NetworkWrap::SetParams),
                           InstanceMethod("getState", &NetworkWrap::GetState),
                           InstanceMethod("setState", &NetworkWrap::SetState),
                           InstanceMethod("probeThreads", &NetworkWrap::ProbeThreads),
                           InstanceMethod("describe", &NetworkWrap::Describe),
                           InstanceMethod("dispose", &NetworkWrap::Dispose),
                       });
  }

  // new NativeNetwork(layers: object[], threads: number, optimizer?: 'nesterov' | 'adam')
  explicit NetworkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "expected (layers: object[], threads: number, optimizer?: string)");
    }
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<fp::LayerSpec> layers;
    for (uint32_t i = 0; i < list.Length(); i++) layers.push_back(parse_layer(list.Get(i).As<Napi::Object>()));
    fp::Optimizer optimizer = fp::Optimizer::Nesterov;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      const std::string name = info[2].ToString().Utf8Value();
      if (name == "adam") optimizer = fp::Optimizer::Adam;
      else if (name != "nesterov") throw Napi::TypeError::New(env, "unknown optimizer '" + name + "'");
    }
    try {
      net_ = std::make_shared<fp::Network>(std::move(layers), info[1].As<Napi::Number>().Int32Value(), optimizer);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  std::shared_ptr<fp::Network> net_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);

  Job* start(const Napi::CallbackInfo& info, Job::Work work, Job::Done done) {
    if (!net_) throw Napi::Error::New(info.Env(), "this network was disposed");
    if (busy_->exchange(true)) {
      throw Napi::Error::New(info.Env(), "another call is still running on this network; await it first");
    }
    return new Job(info.Env(), busy_, info.This().As<Napi::Object>(), std::move(work), std::move(done));
  }

  Napi::Float32Array array_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
    if (info.Length() <= i || !info[i].IsTypedArray() ||
        info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Float32Array");
    }
    return info[i].As<Napi::Float32Array>();
  }

  int64_t batch_of(const Napi::CallbackInfo& info, const Napi::Float32Array& x) {
    const int64_t len = static_cast<int64_t>(x.ElementLength());
    if (len == 0 || len % net_->input_size() != 0) {
      throw Napi::RangeError::New(info.Env(), "x holds " + std::to_string(len) + " values, not a positive multiple of " +
                                                  std::to_string(net_->input_size()));
    }
    return len / net_->input_size();
  }

  void check_targets(const Napi::CallbackInfo& info, const Napi::Float32Array& y, int64_t n) {
    if (static_cast<int64_t>(y.ElementLength()) != n * net_->output_size()) {
      throw Napi::RangeError::New(info.Env(), "y holds " + std::to_string(y.ElementLength()) + " values, expected " +
                                                  std::to_string(n * net_->output_size()));
    }
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    if (!net_) throw Napi::Error::New(info.Env(), "this network was disposed");
    Napi::Float32Array x = array_arg(info, 0, "x");
    const int64_t n = batch_of(info, x);
    auto net = net_;
    auto xs = copy_of(x);
    auto out = std::make_shared<std::vector<float>>();
    Job* job = start(
        info, [net, xs, n, out]() { *out = net->predict(xs->data(), n); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Float32Array a = Napi::Float32Array::New(env, out->size());
          std::copy(out->begin(), out->end(), a.Data());
          return a;
        });
    job->Queue();
    return job->promise();
  }

  // The (x, y) batch of trainStep, evaluateLoss and gradients, checked and copied.
  struct LabelledBatch {
    std::shared_ptr<std::vector<float>> x, y;
    int64_t n;
  };

  LabelledBatch labelled_batch(const Napi::CallbackInfo& info) {
    if (!net_) throw Napi::Error::New(info.Env(), "this network was disposed");
    Napi::Float32Array x = array_arg(info, 0, "x");
    Napi::Float32Array y = array_arg(info, 1, "y");
    const int64_t n = batch_of(info, x);
    check_targets(info, y, n);
    return {copy_of(x), copy_of(y), n};
  }

  // trainStep(x, y, step: { learningRate, momentum, beta1, beta2, epsilon, weightDecay, stepSize, seed }, loss?,
  //           masks?: Float32Array[])
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    const LabelledBatch batch = labelled_batch(info);
    if (info.Length() < 3 || !info[2].IsObject()) {
      throw Napi::TypeError::New(info.Env(), "expected (x, y, step: object, loss?: object, masks?: Float32Array[])");
    }
    Napi::Object o = info[2].As<Napi::Object>();
    fp::StepParams step;
    step.lr = static_cast<float>(number_prop(o, "learningRate"));
    step.momentum = static_cast<float>(number_prop(o, "momentum"));
    step.beta1 = static_cast<float>(number_prop(o, "beta1"));
    step.beta2 = static_cast<float>(number_prop(o, "beta2"));
    step.one_minus_beta1 = static_cast<float>(1.0 - number_prop(o, "beta1"));
    step.one_minus_beta2 = static_cast<float>(1.0 - number_prop(o, "beta2"));
    step.eps = static_cast<float>(number_prop(o, "epsilon"));
    step.decay = static_cast<float>(number_prop(o, "weightDecay"));
    step.step_size = static_cast<float>(number_prop(o, "stepSize"));
    const uint64_t seed = static_cast<uint64_t>(o.Get("seed").As<Napi::Number>().Int64Value());
    const fp::LossParams loss = loss_arg(info, 3);
    // The caller's dropout masks, copied here like the batch.
    std::shared_ptr<std::vector<std::vector<float>>> masks;
    if (info.Length() > 4 && !info[4].IsUndefined()) {
      if (!info[4].IsArray()) throw Napi::TypeError::New(info.Env(), "masks must be an array of Float32Array");
      Napi::Array list = info[4].As<Napi::Array>();
      masks = std::make_shared<std::vector<std::vector<float>>>();
      for (uint32_t i = 0; i < list.Length(); i++) {
        Napi::Value v = list.Get(i);
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
          throw Napi::TypeError::New(info.Env(), "mask " + std::to_string(i) + " must be a Float32Array");
        }
        Napi::Float32Array a = v.As<Napi::Float32Array>();
        masks->emplace_back(a.Data(), a.Data() + a.ElementLength());
      }
    }
    auto net = net_;
    auto value = std::make_shared<double>(0);
    Job* job = start(
        info,
        [=]() {
          *value = net->train_step(batch.x->data(), batch.y->data(), batch.n, step, seed, loss, masks.get());
        },
        [value](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *value); });
    job->Queue();
    return job->promise();
  }

  // evaluateLoss(x, y, loss?)
  Napi::Value EvaluateLoss(const Napi::CallbackInfo& info) {
    const LabelledBatch batch = labelled_batch(info);
    const fp::LossParams loss = loss_arg(info, 2);
    auto net = net_;
    auto value = std::make_shared<double>(0);
    Job* job = start(
        info, [=]() { *value = net->evaluate_loss(batch.x->data(), batch.y->data(), batch.n, loss); },
        [value](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *value); });
    job->Queue();
    return job->promise();
  }

  // Resolves to { loss, grads: Float32Array[] } (canonical layouts, parameter order).
  Napi::Value Gradients(const Napi::CallbackInfo& info) {
    const LabelledBatch batch = labelled_batch(info);
    const fp::LossParams loss_params = loss_arg(info, 2);
    auto net = net_;
    auto loss = std::make_shared<double>(0);
    auto grads = std::make_shared<std::vector<std::vector<float>>>();
    Job* job = start(
        info, [=]() { *loss = net->gradients(batch.x->data(), batch.y->data(), batch.n, *grads, loss_params); },
        [loss, grads](Napi::Env env) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("loss", Napi::Number::New(env, *loss));
          result.Set("grads", to_js(env, *grads));
          return result;
        });
    job->Queue();
    return job->promise();
  }

  // getParams(slot: 0 | 1 | 2 | boolean): Promise<Float32Array[]>
  Napi::Value GetParams(const Napi::CallbackInfo& info) {
    const fp::Slot slot = slot_arg(info, 0);
    auto net = net_;
    auto values = std::make_shared<std::vector<std::vector<float>>>();
    Job* job = start(
        info, [=]() { *values = net->get_params(slot); },
        [values](Napi::Env env) -> Napi::Value { return to_js(env, *values); });
    job->Queue();
    return job->promise();
  }

  // setParams(values: Float32Array[], slot: 0 | 1 | 2 | boolean): Promise<void>
  Napi::Value SetParams(const Napi::CallbackInfo& info) {
    if (!net_) throw Napi::Error::New(info.Env(), "this network was disposed");
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "expected Float32Array[]");
    Napi::Array list = info[0].As<Napi::Array>();
    const fp::Slot slot = slot_arg(info, 1);
    // Copied here, on the JS thread: the caller may reuse its arrays at once.
    auto values = std::make_shared<std::vector<std::vector<float>>>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw Napi::TypeError::New(info.Env(), "parameter " + std::to_string(i) + " must be a Float32Array");
      }
      Napi::Float32Array a = v.As<Napi::Float32Array>();
      values->emplace_back(a.Data(), a.Data() + a.ElementLength());
    }
    auto net = net_;
    Job* job = start(
        info, [=]() { net->set_params(*values, slot); },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    job->Queue();
    return job->promise();
  }

  // getState(): Promise<Float32Array[]> (batch norm running statistics, layer order)
  Napi::Value GetState(const Napi::CallbackInfo& info) {
    auto net = net_;
    auto values = std::make_shared<std::vector<std::vector<float>>>();
    Job* job = start(
        info, [=]() { *values = net->get_state(); },
        [values](Napi::Env env) -> Napi::Value { return to_js(env, *values); });
    job->Queue();
    return job->promise();
  }

  // setState(values: Float32Array[]): Promise<void>
  Napi::Value SetState(const Napi::CallbackInfo& info) {
    if (!net_) throw Napi::Error::New(info.Env(), "this network was disposed");
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "expected Float32Array[]");
    Napi::Array list = info[0].As<Napi::Array>();
    auto values = std::make_shared<std::vector<std::vector<float>>>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw Napi::TypeError::New(info.Env(), "state " + std::to_string(i) + " must be a Float32Array");
      }
      Napi::Float32Array a = v.As<Napi::Float32Array>();
      values->emplace_back(a.Data(), a.Data() + a.ElementLength());
    }
    auto net = net_;
    Job* job = start(
        info, [=]() { net->set_state(*values); }, [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
    job->Queue();
    return job->promise();
  }

  // Size of the OpenMP team the network's calls run with.
  Napi::Value ProbeThreads(const Napi::CallbackInfo& info) {
    auto net = net_;
    auto team = std::make_shared<int>(0);
    Job* job = start(
        info, [=]() { *team = net->probe_threads(); },
        [team](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *team); });
    job->Queue();
    return job->promise();
  }

  // Which oneDNN implementation every primitive of every plan uses.
  Napi::Value Describe(const Napi::CallbackInfo& info) {
    auto net = net_;
    auto text = std::make_shared<std::string>();
    Job* job = start(
        info, [=]() { *text = net->describe(); },
        [text](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *text); });
    job->Queue();
    return job->promise();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (*busy_) throw Napi::Error::New(info.Env(), "cannot dispose while a call is running; await it first");
    net_.reset();
    return info.Env().Undefined();
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeNetwork", NetworkWrap::Define(env));
  const dnnl_version_t* v = dnnl_version();
  exports.Set("onednnVersion", Napi::String::New(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                                          std::to_string(v->patch)));
  exports.Set("defaultThreads", Napi::Number::New(env, omp_get_num_procs()));
  return exports;
}

}  // namespace

NODE_API_MODULE(facepoints_native, Init)

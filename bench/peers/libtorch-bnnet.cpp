// The libtorch peer of the benchmark's second net, bnnet (bench/nets.ts):
// seven 3x3 convolution + batch norm + relu blocks (32, 32/2, 64, 64/2, 128,
// 128/2, 256 filters; /2 = stride 2), global average pooling, a dense output
// of 30; batch 128, 96x96, MSE, SGD with Nesterov momentum, batch norm in
// training mode (its running statistics updated). Built and run only by
// `npm run bench -- --peer libtorch`. Prints one JSON line:
// {"trainStepMs":..,"trainStepCpuMs":..,"forwardMs":..,"peakRssMb":..,"threads":..}.
#include <sys/resource.h>
#include <time.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

struct BnNet : torch::nn::Module {
  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::BatchNorm2d> norms;
  torch::nn::Linear out{nullptr};
  BnNet() {
    const int filters[] = {32, 32, 64, 64, 128, 128, 256};
    const int strides[] = {1, 2, 1, 2, 1, 2, 1};
    int in = 1;
    for (int i = 0; i < 7; i++) {
      // 'same' for stride 1; for stride 2 the same output size (48, 24, 12) and work.
      convs.push_back(register_module(
          "conv" + std::to_string(i + 1),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in, filters[i], 3).stride(strides[i]).padding(1))));
      norms.push_back(register_module("bn" + std::to_string(i + 1),
                                      torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(filters[i]).eps(1e-5).momentum(0.1))));
      in = filters[i];
    }
    out = register_module("out", torch::nn::Linear(256, 30));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (size_t i = 0; i < convs.size(); i++) x = torch::relu(norms[i](convs[i](x)));
    return out(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
};

static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of all the process's threads: steadier than wall time on a shared machine.
static double cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  // Same default as the native engine: every core.
  const int threads = argc > 2 && std::atoi(argv[2]) > 0 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  auto net = std::make_shared<BnNet>();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).nesterov(true));
  auto x = torch::rand({128, 1, 96, 96});
  auto y = torch::rand({128, 30}) * 2 - 1;
  std::vector<double> train, forward;
  double cpu_start = 0;
  net->train();
  for (int i = 0; i <= steps; i++) {
    const double start = now_ms();
    opt.zero_grad();
    auto loss = torch::mse_loss(net->forward(x), y);
    loss.backward();
    opt.step();
    if (i > 0) train.push_back(now_ms() - start);
    if (i == 0) cpu_start = cpu_ms();
  }
  const double train_cpu = steps > 0 ? (cpu_ms() - cpu_start) / steps : 0;
  {
    torch::NoGradGuard no_grad;
    net->eval();
    for (int i = 0; i <= std::max(steps, 3); i++) {
      const double start = now_ms();
      net->forward(x);
      if (i > 0) forward.push_back(now_ms() - start);
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"trainStepMs\":%.1f,\"trainStepCpuMs\":%.1f,\"forwardMs\":%.1f,\"peakRssMb\":%.1f,\"threads\":%d}\n",
              median(train), train_cpu, median(forward), usage.ru_maxrss / 1024.0, torch::get_num_threads());
  return 0;
}

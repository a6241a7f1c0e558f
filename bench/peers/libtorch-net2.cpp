// The named peer of the native engine's benchmark: the same net2 training
// step (batch 128, 96x96, MSE, SGD with Nesterov momentum) in C++ on Debian's
// libtorch. Built and run only by `npm run bench -- --peer libtorch`.
// Prints one JSON line: {"trainStepMs":..,"trainStepCpuMs":..,"forwardMs":..,"peakRssMb":..}.
#include <sys/resource.h>
#include <time.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

struct Net2 : torch::nn::Module {
  torch::nn::Conv2d c1{nullptr}, c2{nullptr}, c3{nullptr};
  torch::nn::Linear d1{nullptr}, d2{nullptr}, out{nullptr};
  Net2() {
    c1 = register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)));
    c2 = register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 2)));
    c3 = register_module("c3", torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 128, 2)));
    d1 = register_module("d1", torch::nn::Linear(128 * 11 * 11, 500));
    d2 = register_module("d2", torch::nn::Linear(500, 500));
    out = register_module("out", torch::nn::Linear(500, 30));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(c1(x)), 2);
    x = torch::max_pool2d(torch::relu(c2(x)), 2);
    x = torch::max_pool2d(torch::relu(c3(x)), 2);
    x = torch::relu(d1(x.flatten(1)));
    x = torch::relu(d2(x));
    return out(x);
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
  auto net = std::make_shared<Net2>();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).nesterov(true));
  auto x = torch::rand({128, 1, 96, 96});
  auto y = torch::rand({128, 30}) * 2 - 1;
  std::vector<double> train, forward;
  double cpu_start = 0;
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

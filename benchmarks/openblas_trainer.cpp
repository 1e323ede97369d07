//===- openblas_trainer.cpp - mnist_mlp trained by hand with OpenBLAS
//------===//
///
/// \file
/// The outside baseline a careful programmer would write without nnc: the
/// network and recipe of examples/mnist_mlp.nn (784-128-64-10, relu, softmax
/// cross-entropy, SGD lr 0.05 momentum 0.9 as PyTorch does it, L2 1e-4 on
/// the weights, batch 64 unless --batch, shuffled each epoch, the last
/// partial batch used, no validation split) trained
/// on Fashion-MNIST. Every matrix product (forward, weight gradients, input
/// gradients) is one cblas_sgemm call; bias, activation, softmax, gradients
/// of the elementwise parts and the update are plain loops. Weights are
/// [in, out] row-major, as nnc lays them out.
///
///   openblas_trainer [--epochs N] [--batch N] [--data DIR] [--threads N]
///                    [--seed N]
///
/// Prints one line per epoch ("epoch 1: 0.412 s, 145631 samples/s, loss
/// 0.5210": the mean cross-entropy, L2 term left out; data loading is not
/// in the time), then the test accuracy.
/// --threads sets OpenBLAS's thread count; without it OPENBLAS_NUM_THREADS
/// (or OpenBLAS's own default) holds. Exit 1 on bad flags or data.
///
//===----------------------------------------------------------------------===//

#include <cblas.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

/// One IDX file (plain or gzipped: zlib reads both) as floats, with its dims.
struct Idx {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

Idx readIdx(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw std::runtime_error(path + ": cannot open");
  auto read = [&](void *dst, size_t n) {
    if (gzread(f, dst, static_cast<unsigned>(n)) != static_cast<int>(n)) {
      gzclose(f);
      throw std::runtime_error(path + ": truncated");
    }
  };
  uint8_t magic[4];
  read(magic, 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 ||
      magic[3] > 4) {
    gzclose(f);
    throw std::runtime_error(path + ": not an IDX file of unsigned bytes");
  }
  Idx r;
  int64_t count = 1;
  for (int i = 0; i < magic[3]; ++i) {
    uint8_t d[4];
    read(d, 4);
    r.dims.push_back(int64_t(d[0]) << 24 | int64_t(d[1]) << 16 |
                     int64_t(d[2]) << 8 | int64_t(d[3]));
    count *= r.dims.back();
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  read(bytes.data(), bytes.size());
  gzclose(f);
  r.values.assign(bytes.begin(), bytes.end());
  return r;
}

/// Images scaled to [0, 1] (one row of 784 per sample) and their labels.
struct Dataset {
  std::vector<float> images;
  std::vector<int> labels;
  int64_t size = 0;
};

std::string existing(const std::string &stem) {
  for (const std::string &p : {stem + ".gz", stem}) {
    if (FILE *f = std::fopen(p.c_str(), "rb")) {
      std::fclose(f);
      return p;
    }
  }
  throw std::runtime_error(stem + "[.gz]: no such file");
}

Dataset loadDataset(const std::string &prefix) {
  Idx images = readIdx(existing(prefix + "-images-idx3-ubyte"));
  Idx labels = readIdx(existing(prefix + "-labels-idx1-ubyte"));
  if (images.dims.size() != 3 || images.dims[1] * images.dims[2] != 784 ||
      labels.dims.size() != 1 || labels.dims[0] != images.dims[0])
    throw std::runtime_error(prefix + ": not 28x28 images with labels");
  Dataset d;
  d.size = images.dims[0];
  d.images = std::move(images.values);
  for (float &x : d.images)
    x /= 255.0f;
  for (float y : labels.values) {
    if (y > 9)
      throw std::runtime_error(prefix + ": a label is not 0..9");
    d.labels.push_back(static_cast<int>(y));
  }
  return d;
}

/// One dense layer: weights [in, out], bias, their momentum buffers and
/// gradients.
struct Layer {
  int in = 0, out = 0;
  std::vector<float> w, b, vw, vb, gw, gb;

  Layer(int in, int out, float scale, bool uniform, std::mt19937_64 &rng)
      : in(in), out(out), w(size_t(in) * out), b(out), vw(w.size()), vb(out),
        gw(w.size()), gb(out) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::uniform_real_distribution<float> flat(-scale, scale);
    for (float &x : w)
      x = uniform ? flat(rng) : normal(rng);
  }

  /// y[n, out] = x[n, in] W + b, then relu when asked.
  void forward(const float *x, float *y, int n, bool relu) const {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, out, in, 1.0f, x,
                in, w.data(), out, 0.0f, y, out);
    for (int i = 0; i < n; ++i) {
      float *row = y + size_t(i) * out;
      for (int j = 0; j < out; ++j) {
        float v = row[j] + b[j];
        row[j] = relu ? std::max(v, 0.0f) : v;
      }
    }
  }

  /// From dz[n, out] (the gradient at the pre-activation) and the layer's
  /// input x: gw = x^T dz + 2 l2 W, gb = column sums of dz, and, when dx is
  /// given, dx[n, in] = dz W^T.
  void backward(const float *x, const float *dz, float *dx, int n, float l2) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, n, 1.0f, x,
                in, dz, out, 0.0f, gw.data(), out);
    for (size_t i = 0; i < w.size(); ++i)
      gw[i] += 2.0f * l2 * w[i];
    std::fill(gb.begin(), gb.end(), 0.0f);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < out; ++j)
        gb[j] += dz[size_t(i) * out + j];
    if (dx)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, in, out, 1.0f, dz,
                  out, w.data(), out, 0.0f, dx, in);
  }

  /// PyTorch's SGD with momentum: v = mu v + g; w -= lr v.
  void update(float lr, float mu) {
    for (size_t i = 0; i < w.size(); ++i) {
      vw[i] = mu * vw[i] + gw[i];
      w[i] -= lr * vw[i];
    }
    for (int j = 0; j < out; ++j) {
      vb[j] = mu * vb[j] + gb[j];
      b[j] -= lr * vb[j];
    }
  }
};

struct Options {
  int epochs = 1;
  int batch = 64;
  int threads = 0; // 0: OPENBLAS_NUM_THREADS or OpenBLAS's default
  uint64_t seed = 42;
  std::string data = "/usr/share/datasets/fashion-mnist";
};

[[noreturn]] void usage(const std::string &why) {
  std::fprintf(stderr,
               "openblas_trainer: error: %s\nusage: openblas_trainer "
               "[--epochs N] [--batch N] [--data DIR] [--threads N] "
               "[--seed N]\n",
               why.c_str());
  std::exit(1);
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: openblas_trainer [--epochs N] [--batch N] "
                  "[--data DIR] [--threads N] [--seed N]\n");
      std::exit(0);
    }
    if (flag != "--epochs" && flag != "--batch" && flag != "--threads" &&
        flag != "--seed" && flag != "--data")
      usage("unknown flag '" + flag + "'");
    if (i + 1 >= argc)
      usage("'" + flag + "' needs a value");
    std::string value = argv[++i];
    auto number = [&](long lo) {
      char *end = nullptr;
      long v = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end || v < lo || v > 1000000)
        usage("'" + flag + "' needs an integer >= " + std::to_string(lo) +
              ", not '" + value + "'");
      return v;
    };
    if (flag == "--epochs")
      o.epochs = int(number(1));
    else if (flag == "--batch")
      o.batch = int(number(1));
    else if (flag == "--threads")
      o.threads = int(number(1));
    else if (flag == "--seed")
      o.seed = uint64_t(number(0));
    else
      o.data = value;
  }
  return o;
}

/// Softmax cross-entropy over logits[n, 10]: returns the summed loss and
/// writes dz = (softmax - onehot) / n.
double softmaxXent(const float *logits, const int *labels, float *dz, int n) {
  double loss = 0;
  for (int i = 0; i < n; ++i) {
    const float *z = logits + size_t(i) * 10;
    float *d = dz + size_t(i) * 10;
    float m = *std::max_element(z, z + 10);
    float sum = 0;
    for (int j = 0; j < 10; ++j)
      sum += d[j] = std::exp(z[j] - m);
    loss += std::log(double(sum)) - double(z[labels[i]] - m);
    for (int j = 0; j < 10; ++j)
      d[j] = (d[j] / sum - (j == labels[i] ? 1.0f : 0.0f)) / float(n);
  }
  return loss;
}

/// dz *= relu'(h) (h is the layer's output after relu: > 0 where z > 0).
void reluGrad(float *dz, const float *h, size_t count) {
  for (size_t i = 0; i < count; ++i)
    dz[i] = h[i] > 0 ? dz[i] : 0.0f;
}

} // namespace

int main(int argc, char **argv) {
  Options opt = parseArgs(argc, argv);
  if (opt.threads)
    openblas_set_num_threads(opt.threads);
  Dataset train, test;
  try {
    train = loadDataset(opt.data + "/train");
    test = loadDataset(opt.data + "/t10k");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "openblas_trainer: error: %s\n", e.what());
    return 1;
  }
  std::printf("openblas_trainer: %lld training samples, OpenBLAS threads %d "
              "(%s)\n",
              static_cast<long long>(train.size), openblas_get_num_threads(),
              openblas_get_config());

  const int kBatch = opt.batch;
  const float kLr = 0.05f, kMomentum = 0.9f, kL2 = 1e-4f;
  std::mt19937_64 rng(opt.seed);
  // He (normal) for the relu layers, Xavier (uniform) for the last, as the
  // .nn file asks.
  Layer fc1(784, 128, std::sqrt(2.0f / 784), false, rng);
  Layer fc2(128, 64, std::sqrt(2.0f / 128), false, rng);
  Layer fc3(64, 10, std::sqrt(6.0f / (64 + 10)), true, rng);

  std::vector<float> x(size_t(kBatch) * 784), h1(size_t(kBatch) * 128),
      h2(size_t(kBatch) * 64), z3(size_t(kBatch) * 10);
  std::vector<float> d3(z3.size()), d2(h2.size()), d1(h1.size());
  std::vector<int> y(kBatch);
  std::vector<int64_t> order(static_cast<size_t>(train.size));
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = int64_t(i);

  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    std::shuffle(order.begin(), order.end(), rng);
    double lossSum = 0;
    for (int64_t start = 0; start < train.size; start += kBatch) {
      int n = int(std::min<int64_t>(kBatch, train.size - start));
      for (int i = 0; i < n; ++i) {
        int64_t s = order[size_t(start + i)];
        std::memcpy(x.data() + size_t(i) * 784,
                    train.images.data() + size_t(s) * 784, 784 * 4);
        y[size_t(i)] = train.labels[size_t(s)];
      }
      fc1.forward(x.data(), h1.data(), n, true);
      fc2.forward(h1.data(), h2.data(), n, true);
      fc3.forward(h2.data(), z3.data(), n, false);
      lossSum += softmaxXent(z3.data(), y.data(), d3.data(), n);
      fc3.backward(h2.data(), d3.data(), d2.data(), n, kL2);
      reluGrad(d2.data(), h2.data(), size_t(n) * 64);
      fc2.backward(h1.data(), d2.data(), d1.data(), n, kL2);
      reluGrad(d1.data(), h1.data(), size_t(n) * 128);
      fc1.backward(x.data(), d1.data(), nullptr, n, kL2);
      fc1.update(kLr, kMomentum);
      fc2.update(kLr, kMomentum);
      fc3.update(kLr, kMomentum);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::printf("epoch %d: %.3f s, %.0f samples/s, loss %.4f\n", epoch, seconds,
                double(train.size) / seconds, lossSum / double(train.size));
    std::fflush(stdout);
  }

  // Test accuracy, in batches of 1000.
  const int kEval = 1000;
  std::vector<float> e1(size_t(kEval) * 128), e2(size_t(kEval) * 64),
      e3(size_t(kEval) * 10);
  int64_t correct = 0;
  for (int64_t start = 0; start < test.size; start += kEval) {
    int n = int(std::min<int64_t>(kEval, test.size - start));
    const float *xb = test.images.data() + size_t(start) * 784;
    fc1.forward(xb, e1.data(), n, true);
    fc2.forward(e1.data(), e2.data(), n, true);
    fc3.forward(e2.data(), e3.data(), n, false);
    for (int i = 0; i < n; ++i) {
      const float *z = e3.data() + size_t(i) * 10;
      int guess = int(std::max_element(z, z + 10) - z);
      correct += guess == test.labels[size_t(start + i)] ? 1 : 0;
    }
  }
  std::printf("test accuracy: %.4f (%lld samples)\n",
              double(correct) / double(test.size),
              static_cast<long long>(test.size));
  return 0;
}

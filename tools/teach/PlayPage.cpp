//===- PlayPage.cpp - The playground page of a small model ----------------===//
///
/// \file
/// The page of `nnc play`: the run's numbers as one JSON block, read by the
/// page's script (PlayScript.cpp), which draws them on canvases.
///
/// Algorithm: the prediction's maps are embedded as float32 (base64, little
/// endian: the compiled code's own numbers, which a test compares with
/// `nnc predict`); the hidden units' maps and the first layer's weight
/// images are only drawn, so each is quantized to bytes over its own range
/// (lo, hi), a quarter of the size. Weights for the lines and the curves
/// are plain numbers.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Play.h"
#include "tools/teach/PlayParts.h"

#include "ir/Format.h"
#include "ir/IRText.h"
#include "runtime/Json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nn {

namespace {

std::string base64(const unsigned char *p, size_t n) {
  static const char *k =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t(p[i]) << 16;
    if (i + 1 < n)
      v |= uint32_t(p[i + 1]) << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    s += k[(v >> 18) & 63];
    s += k[(v >> 12) & 63];
    s += i + 1 < n ? k[(v >> 6) & 63] : '=';
    s += i + 2 < n ? k[v & 63] : '=';
  }
  return s;
}

/// "%.9g" (a float read back exactly); null for NaN and infinities.
std::string num(double v) {
  return std::isfinite(v) ? fmt::format("{:.9g}", v) : "null";
}

template <typename T> std::string numbers(const std::vector<T> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? "," : "") + num(static_cast<double>(v[i]));
  return s + "]";
}

/// `v` (values, in order) as bytes over [lo, hi]: {"lo":..,"hi":..,"q":..}.
std::string quantized(const std::vector<float> &v, bool symmetric) {
  double lo = 0, hi = 0;
  for (float x : v)
    if (std::isfinite(x)) {
      lo = std::min<double>(lo, x);
      hi = std::max<double>(hi, x);
    }
  if (symmetric)
    lo = -(hi = std::max(-lo, hi));
  double span = hi > lo ? hi - lo : 1;
  std::vector<unsigned char> q(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double t = std::isfinite(v[i]) ? (v[i] - lo) / span : 0;
    q[i] = static_cast<unsigned char>(std::lround(std::clamp(t, 0.0, 1.0) * 255));
  }
  return fmt::format("{{\"lo\":{},\"hi\":{},\"q\":\"{}\"}}", num(lo), num(hi),
                     base64(q.data(), q.size()));
}

std::string floats(const std::vector<float> &v) {
  std::vector<unsigned char> b(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int k = 0; k < 4; ++k)
      b[i * 4 + k] = static_cast<unsigned char>(u >> (8 * k));
  }
  return "\"" + base64(b.data(), b.size()) + "\"";
}

/// The data points drawn (at most 2000, evenly spread over the rows).
std::string pointsJson(const PlayRun &r) {
  int64_t n = r.dataX.shape.at(0);
  int64_t stride = std::max<int64_t>(1, (n + 1999) / 2000);
  int64_t ywidth = n ? r.dataY.numel() / n : 1;
  std::vector<float> xs, ys, labels;
  for (int64_t i = 0; i < n; i += stride) {
    xs.push_back(r.dataX[i * 2]);
    ys.push_back(r.dataX[i * 2 + 1]);
    labels.push_back(r.dataY[i * ywidth]);
  }
  return fmt::format("{{\"x\":{},\"y\":{},\"label\":{}}}", numbers(xs),
                     numbers(ys), numbers(labels));
}

/// One frame of the plane: the prediction (float32), each hidden layer's
/// maps (bytes, unit-major, on every other point of the grid: unit u's
/// m * m values at u * m * m, m = hiddenSide) and the layers' weights.
std::string planeFrameJson(const PlayRun &r, size_t f) {
  const std::vector<Tensor> &maps = r.maps[f];
  int64_t n = r.grid.n, m = hiddenSide(n);
  std::vector<int64_t> at; // the grid rows and columns kept
  for (int64_t i = 0; i < m; ++i)
    at.push_back((i * (n - 1) + (m - 1) / 2) / (m - 1));
  std::string hidden;
  for (size_t l = 0; l + 1 < maps.size(); ++l) {
    const Tensor &t = maps[l];
    int64_t width = t.shape[1];
    std::vector<float> byUnit(static_cast<size_t>(width * m * m));
    for (int64_t u = 0; u < width; ++u)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j)
          byUnit[(u * m + i) * m + j] = t[(at[i] * n + at[j]) * width + u];
    hidden += (l ? "," : "") + quantized(byUnit, true);
  }
  std::string weights;
  for (const PlaneLayer &l : r.pm.layers)
    if (!l.weight.empty())
      weights += (weights.empty() ? "" : ",") + jsonString(l.weight) + ":" +
                 numbers(r.frames[f].state.at(l.weight).data);
  return fmt::format("\"pred\":{},\"hidden\":[{}],\"w\":{{{}}}",
                     floats(maps.back().data), hidden, weights);
}

/// One frame of a model without a plane: the first layer's weight vectors,
/// unit-major, as bytes.
std::string imageFrameJson(const PlayRun &r, size_t f) {
  if (r.weight.empty())
    return "\"image\":null";
  const Tensor &w = r.frames[f].state.at(r.weight);
  std::vector<float> byUnit(w.data.size());
  for (int64_t i = 0; i < r.in; ++i)
    for (int64_t u = 0; u < r.out; ++u)
      byUnit[u * r.in + i] = w[i * r.out + u];
  return "\"image\":" + quantized(byUnit, true);
}

std::string framesJson(const PlayRun &r) {
  std::string s = "[";
  for (size_t f = 0; f < r.frames.size(); ++f) {
    s += fmt::format("{}{{\"epoch\":{},\"step\":{},\"restored\":{},",
                     f ? ",\n" : "",
                     num(double(r.frames[f].epoch) +
                         double(r.frames[f].batch) / double(r.perEpoch)),
                     r.frames[f].step,
                     r.frames[f].restored ? "true" : "false");
    s += r.plane ? planeFrameJson(r, f) : imageFrameJson(r, f);
    s += ",\"scalar\":" +
         (f < r.scalar.size() ? jsonString(r.scalar[f]) : std::string("null"));
    s += "}";
  }
  return s + "]";
}

std::string curvesJson(const std::vector<EpochStats> &h) {
  std::vector<double> epoch, tl, ta, vl, va;
  for (const EpochStats &e : h) {
    epoch.push_back(static_cast<double>(e.epoch));
    tl.push_back(e.train.loss);
    ta.push_back(e.train.accuracy);
    vl.push_back(e.validation.loss);
    va.push_back(e.validation.accuracy);
  }
  return fmt::format("{{\"epoch\":{},\"trainLoss\":{},\"trainAcc\":{},"
                     "\"valLoss\":{},\"valAcc\":{}}}",
                     numbers(epoch), numbers(tl), numbers(ta), numbers(vl),
                     numbers(va));
}

std::string layersJson(const PlayRun &r) {
  std::string s = "[";
  for (size_t i = 0; i < r.pm.layers.size(); ++i) {
    const PlaneLayer &l = r.pm.layers[i];
    s += fmt::format("{}{{\"name\":{},\"width\":{},\"weight\":{},\"from\":{}}}",
                     i ? "," : "", jsonString(l.name), l.width,
                     jsonString(l.weight), l.from);
  }
  return s + "]";
}

} // namespace

std::string playJson(const PlayRun &r) {
  std::string s = fmt::format(
      "{{\"model\":{},\"path\":{},\"backend\":{},\"plane\":{},\"why\":{},"
      "\"labelKind\":\"{}\",\"classes\":{},\n",
      jsonString(r.model), jsonString(r.path), jsonString(r.backend),
      r.plane ? "true" : "false", jsonString(r.why), labelKindName(r.labelKind),
      r.classes);
  if (r.plane)
    s += fmt::format("\"n\":{},\"hn\":{},\"xs\":{},\"ys\":{},"
                     "\"points\":{},\"layers\":{},\n",
                     r.grid.n, hiddenSide(r.grid.n), numbers(r.grid.xs),
                     numbers(r.grid.ys),
                     pointsJson(r), layersJson(r));
  else
    s += fmt::format("\"weight\":{},\"in\":{},\"out\":{},\n",
                     jsonString(r.weight), r.in, r.out);
  s += "\"scalarNote\":" + jsonString(r.scalarNote) + ",\n";
  s += "\"curves\":" + curvesJson(r.history) + ",\n";
  s += "\"frames\":" + framesJson(r) + "}";
  // Inside <script>: no "</" may end the element early.
  std::string safe;
  for (size_t i = 0; i < s.size(); ++i) {
    safe += s[i];
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/')
      safe += '\\';
  }
  return safe;
}

std::string playHtml(const PlayRun &r) {
  std::string title = "nnc play: " + r.model;
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<title>" +
         htmlEscape(title) + "</title>\n<style>" + kPlayStyle +
         "</style></head>\n<body>\n" + playBody(r) +
         "<script id=\"play-data\" type=\"application/json\">" + playJson(r) +
         "</script>\n<script>" + kPlayScript + "</script>\n</body></html>\n";
}

} // namespace nn

//===- Dataset.cpp - Samples and labels in memory -------------------------===//
///
/// \file
/// The train/validation split, row selection and row ranges; the file
/// loaders live in Idx.cpp and Csv.cpp.
///
//===----------------------------------------------------------------------===//
#include "runtime/Dataset.h"

#include "ir/Support.h"
#include "runtime/Csv.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace nn {

bool resolveRows(RowRange &rows, int64_t n, std::string &why) {
  std::string asked = "rows [" + std::to_string(rows.begin) + ", " +
                      (rows.end < 0 ? "end" : std::to_string(rows.end)) + ")";
  if (rows.begin < 0)
    why = asked + " asked for: rows are counted from 0";
  else if (rows.end >= 0 && rows.end < rows.begin)
    why = asked + " asked for: the range ends before it begins";
  else if (std::max(rows.begin, rows.end) > n)
    why = asked + " asked for, but the file holds " + std::to_string(n) +
          " samples";
  else
    why.clear();
  if (rows.end < 0)
    rows.end = n;
  return why.empty();
}

std::pair<std::vector<int64_t>, std::vector<int64_t>>
splitValidation(int64_t n, double fraction, uint64_t seed,
                const std::string &where) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    std::ostringstream os;
    os << where << ": error: validation fraction must be in [0, 1), got "
       << fraction;
    throw UserError(os.str());
  }
  if (n < 0)
    throw UserError("nnc: error: negative data set size " + std::to_string(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i;
  int64_t numVal = static_cast<int64_t>(std::llround(fraction * double(n)));
  if (n > 0 && numVal >= n) {
    std::ostringstream os;
    os << where << ": error: validation fraction " << fraction << " of " << n
       << " samples leaves no training data (it holds out " << numVal << ")\n"
       << where << ": help: use a validation fraction below "
       << (double(n) - 0.5) / double(n) << ", or more data";
    throw UserError(os.str());
  }
  if (numVal > 0) {
    Rng rng(seed);
    rng.shuffle(order);
  }
  auto cut = order.begin() + (n - numVal);
  std::vector<int64_t> train(order.begin(), cut);
  std::vector<int64_t> val(cut, order.end());
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {std::move(train), std::move(val)};
}

/// Copies rows `indices` of `t` (rows = first dimension).
static Tensor gatherRows(const Tensor &t, const std::vector<int64_t> &indices) {
  NN_ASSERT(!t.shape.empty(), "cannot select rows of a scalar");
  std::vector<int64_t> shape = t.shape;
  int64_t rows = shape[0];
  int64_t rowSize = rows == 0 ? 0 : t.numel() / rows;
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out(shape);
  for (size_t r = 0; r < indices.size(); ++r) {
    int64_t src = indices[r];
    NN_ASSERT(src >= 0 && src < rows, "row index out of range");
    std::memcpy(out.data.data() + r * rowSize, t.data.data() + src * rowSize,
                static_cast<size_t>(rowSize) * sizeof(float));
  }
  return out;
}

Dataset selectRows(const Dataset &data, const std::vector<int64_t> &indices) {
  Dataset out;
  out.x = gatherRows(data.x, indices);
  out.y = gatherRows(data.y, indices);
  out.source = data.source;
  out.labelSource = data.labelSource;
  out.hasLabels = data.hasLabels;
  return out;
}

bool looksLikeCsv(const std::string &path) {
  std::string ext = path.size() >= 4 ? path.substr(path.size() - 4) : "";
  for (char &c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".csv")
    return true;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  std::ifstream in(path, std::ios::binary);
  unsigned char head[2] = {0, 0};
  in.read(reinterpret_cast<char *>(head), 2);
  if (in.gcount() < 2)
    return true; // too short for IDX; the CSV loader says what is wrong
  bool idx = head[0] == 0 && head[1] == 0;
  bool gzip = head[0] == 0x1f && head[1] == 0x8b;
  return !idx && !gzip;
}

std::string labelErrorPrefix(const Dataset &data, int64_t index) {
  if (index >= 0 && index < static_cast<int64_t>(data.labelOrigins.size())) {
    const LabelOrigin &o = data.labelOrigins[static_cast<size_t>(index)];
    return data.source + ":" + std::to_string(o.line) + ":" +
           std::to_string(o.col) + ": error: label '" + printable(o.text) +
           "' on line " + std::to_string(o.line);
  }
  int64_t width = data.size() ? data.y.numel() / data.size() : 1;
  float v = data.y.data.at(static_cast<size_t>(index));
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e18f)
    std::snprintf(buf, sizeof buf, "%.0f", double(v));
  else
    std::snprintf(buf, sizeof buf, "%.9g", double(v));
  std::string file = data.labelSource.empty() ? data.source : data.labelSource;
  // Sample numbers are the file's, also for a range of its rows.
  std::string where =
      "sample " + std::to_string(data.firstRow + index / width + 1);
  if (width > 1)
    where = "value " + std::to_string(index % width + 1) + " of " + where;
  return file + ": error: label " + buf + " of " + where;
}

} // namespace nn

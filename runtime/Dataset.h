//===- Dataset.h - Samples and labels in memory ----------------*- C++ -*-===//
///
/// \file
/// A data set as two tensors (features and labels), the loaders that fill it
/// from IDX and CSV files, and the seeded train/validation split.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nn {

/// Where one label value was written (CSV files), for messages.
struct LabelOrigin {
  int64_t line = 0;
  int64_t col = 0;
  std::string text; // the field as written
};

/// Samples `x` and labels `y`, row i of each belonging together.
struct Dataset {
  /// [n, features...]: IDX images as [n, rows*cols] (flattened), CSV as
  /// [n, columns-1].
  Tensor x;
  /// [n] (class ids, 0/1 or reals, as float) or [n, k].
  Tensor y;
  /// Where the data came from, for messages.
  std::string source;
  /// The file holding the labels when it is not `source` (IDX label files).
  std::string labelSource;
  /// CSV: where each value of `y` was written (row-major like `y`); empty
  /// for IDX data and after selectRows.
  std::vector<LabelOrigin> labelOrigins;
  /// False for a features-only CSV read for prediction: `y` is all zeros.
  bool hasLabels = true;

  /// The number of samples n.
  int64_t size() const { return x.shape.empty() ? 0 : x.shape[0]; }
};

/// Loads an IDX pair from a prefix such as ".../fashion-mnist/train": reads
/// "<prefix>-images-idx3-ubyte" and "<prefix>-labels-idx1-ubyte", each plain
/// or with ".gz" (a "." instead of the last "-" is accepted too, as some
/// MNIST copies name them). `prefix` may also be a directory holding exactly
/// one such pair. uint8 pixels are scaled to [0, 1] by /255; other types are
/// kept as they are. Throws UserError on anything malformed.
Dataset loadIdx(const std::string &prefix);

/// Loads an IDX pair from explicit file names (plain or gzipped).
Dataset loadIdxFiles(const std::string &images, const std::string &labels);

/// How a CSV file's columns split into features and labels.
struct CsvColumns {
  /// The label columns by name; empty = the last column. Several names make
  /// labels of that many values per sample, in this order.
  std::vector<std::string> labels;
  /// Prediction: when the file has exactly this many columns and no label
  /// column named above, every column is a feature and the data set has no
  /// labels. -1 = labels are required.
  int64_t featuresOnly = -1;
};

/// Loads a CSV file with a header row; every column not a label is a
/// feature. Fields are numbers (optionally quoted); "nan" and "inf" are
/// rejected. Errors name "path:ROW:COL".
Dataset loadCsv(const std::string &path, const CsvColumns &columns);
/// The same with one label column ("" = the last one).
Dataset loadCsv(const std::string &path, const std::string &labelColumn);

/// True when `path` names CSV data rather than an IDX prefix: it ends in
/// ".csv" (any case), or it is a regular file that is neither IDX (two zero
/// bytes first) nor gzip.
bool looksLikeCsv(const std::string &path);

/// "file:line:col: error: label 'TEXT' on line L" (CSV) or "file: error:
/// label V of sample S" (1-based), for the value y[index]; the caller adds
/// what is wrong with it.
std::string labelErrorPrefix(const Dataset &data, int64_t index);

/// Splits 0..n-1 into (train, validation): a Rng(seed) Fisher-Yates shuffle
/// of 0..n-1, whose last round(fraction * n) entries are the validation set
/// and the rest the training set. Each part is returned sorted ascending, so
/// the split decides membership only and an unshuffled run keeps file order.
/// `fraction` must be in [0, 1) and leave at least one training sample when
/// n > 0.
/// Errors start with `where` ("file:line:col" of the fraction in the .nn
/// file, or "nnc" when it came from a flag).
std::pair<std::vector<int64_t>, std::vector<int64_t>>
splitValidation(int64_t n, double fraction, uint64_t seed,
                const std::string &where = "nnc");

/// The rows `indices` of `data`, in that order, as a new data set.
Dataset selectRows(const Dataset &data, const std::vector<int64_t> &indices);

} // namespace nn

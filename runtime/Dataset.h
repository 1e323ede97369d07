//===- Dataset.h - Samples and labels in memory ----------------*- C++ -*-===//
///
/// \file
/// A data set as two tensors (features and labels), the loaders that fill it
/// from IDX and CSV files (all rows, or a range of them: one process of a
/// data-parallel run reads only its shard), and the seeded train/validation
/// split.
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

/// Rows [begin, end) of a data file, counted from 0 (CSV: data rows after
/// the header). The default, end = -1, is every row of the file.
struct RowRange {
  int64_t begin = 0;
  int64_t end = -1;
};

/// Makes `rows` concrete for a file of `n` rows (end -1 becomes n). False,
/// with the reason in `why` ("rows [8, 12) asked for, but the file holds 10
/// samples"), when it is not a range inside [0, n].
bool resolveRows(RowRange &rows, int64_t n, std::string &why);

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
  /// The loaders' row range: row 0 is the file's row `firstRow` (0-based),
  /// and the whole file holds `fileRows` rows. selectRows leaves 0 and 0.
  int64_t firstRow = 0;
  int64_t fileRows = 0;

  /// The number of samples n.
  int64_t size() const { return x.shape.empty() ? 0 : x.shape[0]; }
};

/// Loads an IDX pair from a prefix such as ".../fashion-mnist/train": reads
/// "<prefix>-images-idx3-ubyte" and "<prefix>-labels-idx1-ubyte", each plain
/// or with ".gz" (a "." instead of the last "-" is accepted too, as some
/// MNIST copies name them). `prefix` may also be a directory holding exactly
/// one such pair. uint8 pixels are scaled to [0, 1] by /255; other types are
/// kept as they are. Only the samples `rows` are converted and kept (see
/// readIdx for what is read). Throws UserError on anything malformed.
Dataset loadIdx(const std::string &prefix, RowRange rows = {});

/// Loads an IDX pair from explicit file names (plain or gzipped).
Dataset loadIdxFiles(const std::string &images, const std::string &labels,
                     RowRange rows = {});

/// The number of samples of the IDX pair `prefix` names (as loadIdx finds
/// it), from the two headers alone, which must agree.
int64_t idxRows(const std::string &prefix);

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
/// rejected. Errors name "path:ROW:COL". With `rows`, every record is still
/// scanned (quotes, field counts: CSV rows cannot be found without), but
/// only the data rows in range are converted and kept.
Dataset loadCsv(const std::string &path, const CsvColumns &columns,
                RowRange rows = {});
/// The same with one label column ("" = the last one).
Dataset loadCsv(const std::string &path, const std::string &labelColumn);

/// The number of data rows of a CSV file (a scan that converts no number).
int64_t csvRows(const std::string &path, const CsvColumns &columns);

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

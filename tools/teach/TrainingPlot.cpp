//===- TrainingPlot.cpp - Loss and accuracy curves as SVG -----------------===//
///
/// \file
/// A small SVG writer for two line charts. Each panel maps the epochs to x
/// and the curve values to y with "nice" rounded ticks; each curve is one
/// <path> (polyline through its finite points, a gap restarting with M),
/// axes and grid are <line>s, labels <text> with XML-escaped content.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/TrainingPlot.h"
#include "tools/teach/Significant.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/Csv.h"
#include "tools/Driver.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace nn {

TrainingCurves curvesFromHistory(const std::vector<EpochStats> &history) {
  TrainingCurves c;
  for (const EpochStats &s : history) {
    c.epoch.push_back(static_cast<double>(s.epoch));
    c.trainLoss.push_back(s.train.loss);
    c.trainAccuracy.push_back(s.train.accuracy);
    c.valLoss.push_back(s.validation.loss);
    c.valAccuracy.push_back(s.validation.accuracy);
  }
  return c;
}

/// One field of a metrics file, column `column`: a finite number (an
/// accuracy in [0, 1]); "nan" only where nnc train writes it: val_loss when
/// nothing is held out, an accuracy for real-valued labels.
static double metricsNumber(const std::string &path, const std::string &column,
                            const CsvField &x) {
  auto fail = [&](const std::string &msg) {
    throw UserError(path + ":" + std::to_string(x.line) + ":" +
                    std::to_string(x.col) + ": error: " + msg + " in column '" +
                    column + "'");
  };
  bool accuracy = column.find("accuracy") != std::string::npos;
  if ((accuracy || column == "val_loss") && x.text == "nan")
    return std::numeric_limits<double>::quiet_NaN();
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(x.text.c_str(), &end);
  if (x.text.empty() || *end != '\0' || std::isnan(v))
    fail("not a number '" + printable(x.text) + "'");
  if (!std::isfinite(v))
    fail(std::string(errno == ERANGE ? "number out of range"
                                     : "non-finite "
                                       "value") +
         " '" + printable(x.text) + "'");
  if (accuracy && !(v >= 0 && v <= 1))
    fail("accuracy '" + printable(x.text) + "' is not in [0, 1]");
  if ((column == "epoch" || column == "step") && (v < 0 || v != std::floor(v)))
    fail("'" + printable(x.text) + "' is not a count");
  return v;
}

TrainingCurves readMetricsCsv(const std::string &path) {
  std::string text = readFile(path);
  CsvReader reader(path, text);
  std::vector<CsvField> f;
  const std::vector<std::string> want = {
      "epoch",    "step",         "train_loss", "train_accuracy",
      "val_loss", "val_accuracy", "seconds"};
  if (!reader.next(f))
    throw UserError(path + ": error: empty metrics file");
  for (size_t i = 0; i < want.size(); ++i)
    if (i >= f.size() || f[i].text != want[i])
      throw UserError(path +
                      ":1:1: error: not a metrics file of nnc train "
                      "--metrics (expected the header " +
                      [&] {
                        std::string h;
                        for (const std::string &w : want)
                          h += (h.empty() ? "" : ",") + w;
                        return h;
                      }() +
                      ")");
  TrainingCurves c;
  while (reader.next(f)) {
    if (f.size() < want.size())
      throw UserError(path + ":" + std::to_string(f[0].line) +
                      ":1: error: expected " + std::to_string(want.size()) +
                      " fields, found " + std::to_string(f.size()));
    double v[7];
    for (size_t i = 0; i < want.size(); ++i)
      v[i] = metricsNumber(path, want[i], f[i]);
    c.epoch.push_back(v[0]);
    c.trainLoss.push_back(v[2]);
    c.trainAccuracy.push_back(v[3]);
    c.valLoss.push_back(v[4]);
    c.valAccuracy.push_back(v[5]);
  }
  return c;
}

namespace {

/// A step of 1, 2 or 5 times a power of ten giving about `n` ticks.
double niceStep(double range, int n) {
  if (!(range > 0))
    return 1;
  double raw = range / n, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p)
      return m * p;
  return 10 * p;
}

struct Series {
  std::string name;
  std::string color;
  const std::vector<double> *values;
  bool dashed;
  /// The series' own epochs (runs of different lengths), else the panel's.
  const std::vector<double> *epochs = nullptr;
};

/// A panel's plot area and scales: epochs [e0, e1] to x, values [lo, hi]
/// (percent already applied) to y.
struct Frame {
  static constexpr double left = 56, right = 12, top = 28, bottom = 40;
  double x0 = 0, y0 = 0, w = 0, h = 0, pw = 0, ph = 0;
  double lo = 0, hi = 1, step = 1, e0 = 0, e1 = 1;
  double X(double e) const { return x0 + left + (e - e0) / (e1 - e0) * pw; }
  double Y(double v) const { return y0 + top + (hi - v) / (hi - lo) * ph; }
};

/// The series with a finite value, and the range of their values.
std::vector<const Series *> shownSeries(const std::vector<Series> &series,
                                        double &lo, double &hi) {
  lo = std::numeric_limits<double>::infinity();
  hi = -lo;
  std::vector<const Series *> shown;
  for (const Series &s : series) {
    bool any = false;
    for (double v : *s.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        any = true;
      }
    if (any)
      shown.push_back(&s);
  }
  return shown;
}

/// Rounds [lo, hi] out to whole ticks, and the epochs (the first to the
/// last of every series) to a nonempty range.
Frame makeFrame(double x0, double y0, double w, double h, double lo, double hi,
                const std::vector<double> &epochs,
                const std::vector<const Series *> &shown) {
  Frame f;
  f.x0 = x0;
  f.y0 = y0;
  f.w = w;
  f.h = h;
  f.pw = w - Frame::left - Frame::right;
  f.ph = h - Frame::top - Frame::bottom;
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  f.step = niceStep(hi - lo, 5);
  f.lo = std::floor(lo / f.step) * f.step;
  f.hi = std::ceil(hi / f.step) * f.step;
  f.e0 = epochs.front();
  f.e1 = epochs.back();
  for (const Series *s : shown)
    if (s->epochs && !s->epochs->empty()) {
      f.e0 = std::min(f.e0, s->epochs->front());
      f.e1 = std::max(f.e1, s->epochs->back());
    }
  if (f.e1 <= f.e0)
    f.e1 = f.e0 + 1;
  return f;
}

/// The grid with the y ticks, the x ticks, the axis label and the axes.
void axes(std::ostringstream &os, const Frame &f, bool percent) {
  double x0 = f.x0, y0 = f.y0, left = Frame::left, top = Frame::top;
  double pw = f.pw, ph = f.ph;
  for (double t = f.lo; t <= f.hi + f.step / 2; t += f.step) {
    os << "<line x1=\"" << significant(x0 + left, 6) << "\" y1=\""
       << significant(f.Y(t), 6) << "\" x2=\"" << significant(x0 + left + pw, 6)
       << "\" y2=\"" << significant(f.Y(t), 6) << "\" stroke=\"#ddd\"/>\n"
       << "<text x=\"" << significant(x0 + left - 6, 6) << "\" y=\""
       << significant(f.Y(t) + 4, 6)
       << "\" text-anchor=\"end\" font-size=\"11\">" << significant(t)
       << (percent ? "%" : "") << "</text>\n";
  }
  double xs = std::max(1.0, std::round(niceStep(f.e1 - f.e0, 6)));
  for (double e = std::ceil(f.e0 / xs) * xs; e <= f.e1 + 1e-9; e += xs)
    os << "<text x=\"" << significant(f.X(e), 6) << "\" y=\""
       << significant(y0 + top + ph + 16, 6)
       << "\" text-anchor=\"middle\" font-size=\"11\">" << significant(e, 6)
       << "</text>\n";
  os << "<text x=\"" << significant(x0 + left + pw / 2, 6) << "\" y=\""
     << significant(y0 + f.h - 6, 6)
     << "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n"
     << "<line x1=\"" << significant(x0 + left, 6) << "\" y1=\""
     << significant(y0 + top, 6) << "\" x2=\"" << significant(x0 + left, 6)
     << "\" y2=\"" << significant(y0 + top + ph, 6) << "\" stroke=\"#333\"/>\n"
     << "<line x1=\"" << significant(x0 + left, 6) << "\" y1=\""
     << significant(y0 + top + ph, 6) << "\" x2=\""
     << significant(x0 + left + pw, 6) << "\" y2=\""
     << significant(y0 + top + ph, 6) << "\" stroke=\"#333\"/>\n";
}

/// One curve as a path (a single point gets a short tick so it shows) and
/// its legend entry at height `ly`.
void curve(std::ostringstream &os, const Frame &f, const Series &s,
           const std::vector<double> &panelEpochs, bool percent, double ly) {
  const std::vector<double> &epochs = s.epochs ? *s.epochs : panelEpochs;
  std::string d;
  bool pen = false;
  for (size_t i = 0; i < epochs.size() && i < s.values->size(); ++i) {
    double v = (*s.values)[i] * (percent ? 100 : 1);
    if (!std::isfinite(v)) {
      pen = false;
      continue;
    }
    d += (pen ? " L" : (d.empty() ? "M" : " M")) +
         significant(f.X(epochs[i]), 6) + " " + significant(f.Y(v), 6);
    pen = true;
  }
  if (d.find('L') == std::string::npos)
    d += " h2";
  const char *dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
  double lx = f.x0 + Frame::left + f.pw;
  os << "<path class=\"curve\" data-name=\"" << htmlEscape(s.name) << "\" d=\""
     << d << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\""
     << dash << "/>\n"
     << "<line x1=\"" << significant(lx - 150, 6) << "\" y1=\""
     << significant(ly, 6) << "\" x2=\"" << significant(lx - 126, 6)
     << "\" y2=\"" << significant(ly, 6) << "\" stroke=\"" << s.color
     << "\" stroke-width=\"2\"" << dash << "/>\n<text x=\""
     << significant(lx - 120, 6) << "\" y=\"" << significant(ly + 4, 6)
     << "\" font-size=\"11\">" << htmlEscape(s.name) << "</text>\n";
}

/// One panel at (x0, y0), w x h.
void panel(std::ostringstream &os, double x0, double y0, double w, double h,
           const std::string &title, const std::vector<double> &epochs,
           const std::vector<Series> &series, bool percent) {
  double lo, hi;
  std::vector<const Series *> shown = shownSeries(series, lo, hi);
  os << "<g class=\"panel\">\n"
     << "<text x=\"" << significant(x0 + w / 2, 6) << "\" y=\""
     << significant(y0 + 18, 6)
     << "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">"
     << htmlEscape(title) << "</text>\n";
  if (shown.empty() || epochs.empty()) {
    os << "<text x=\"" << significant(x0 + w / 2, 6) << "\" y=\""
       << significant(y0 + h / 2, 6)
       << "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#666\">"
       << "no values in this run</text>\n</g>\n";
    return;
  }
  double scale = percent ? 100 : 1;
  Frame f = makeFrame(x0, y0, w, h, lo * scale, hi * scale, epochs, shown);
  axes(os, f, percent);
  double ly = y0 + Frame::top + 8;
  for (const Series *s : shown) {
    curve(os, f, *s, epochs, percent, ly);
    ly += 16;
  }
  os << "</g>\n";
}

} // namespace

namespace {

/// The <svg> element's start and its title line, two panels of w x h.
void svgStart(std::ostringstream &os, double w, double h,
              const std::string &title) {
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << 2 * w
     << "\" height=\"" << h + 30 << "\" viewBox=\"0 0 " << 2 * w << " "
     << h + 30 << "\" font-family=\"sans-serif\">\n"
     << "<title>" << htmlEscape(title) << "</title>\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<text x=\"" << w
     << "\" y=\"20\" text-anchor=\"middle\" "
        "font-size=\"15\">"
     << htmlEscape(title) << "</text>\n";
}

} // namespace

std::string plotCompareSvg(const std::vector<NamedCurves> &runs,
                           const std::string &title) {
  static const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                  "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  const double w = 420, h = 300 + 16 * static_cast<double>(runs.size());
  std::vector<Series> loss, accuracy;
  for (size_t i = 0; i < runs.size(); ++i) {
    const char *color = kColors[i % std::size(kColors)];
    const TrainingCurves &c = runs[i].curves;
    loss.push_back({runs[i].name + " train", color, &c.trainLoss, false,
                    &c.epoch});
    loss.push_back({runs[i].name + " val", color, &c.valLoss, true, &c.epoch});
    accuracy.push_back({runs[i].name + " train", color, &c.trainAccuracy,
                        false, &c.epoch});
    accuracy.push_back({runs[i].name + " val", color, &c.valAccuracy, true,
                        &c.epoch});
  }
  std::ostringstream os;
  svgStart(os, w, h, title);
  std::vector<double> none = {runs.empty() || runs[0].curves.epoch.empty()
                                  ? 1.0
                                  : runs[0].curves.epoch.front()};
  panel(os, 0, 30, w, h, "loss", none, loss, false);
  panel(os, w, 30, w, h, "accuracy", none, accuracy, true);
  os << "</svg>\n";
  return os.str();
}

std::string plotSvg(const TrainingCurves &c, const std::string &title) {
  const double w = 420, h = 300;
  std::ostringstream os;
  svgStart(os, w, h, title);
  panel(os, 0, 30, w, h, "loss", c.epoch,
        {{"train loss", "#1f77b4", &c.trainLoss, false},
         {"validation loss", "#ff7f0e", &c.valLoss, true}},
        false);
  panel(os, w, 30, w, h, "accuracy", c.epoch,
        {{"train accuracy", "#2ca02c", &c.trainAccuracy, false},
         {"validation accuracy", "#d62728", &c.valAccuracy, true}},
        true);
  os << "</svg>\n";
  return os.str();
}

} // namespace nn

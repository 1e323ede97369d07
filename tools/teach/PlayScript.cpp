//===- PlayScript.cpp - The playground page's body, style and script -----===//
///
/// \file
/// The elements of `nnc play`'s page and the script that draws the run's
/// numbers (the JSON block of PlayPage.cpp) into them: no network, no
/// library.
///
/// Algorithm: the script decodes a frame's maps when the slider reaches it
/// and draws, on one canvas, the network as the Playground lays it out (a
/// column per layer: the two input features, each hidden layer's units,
/// the prediction's units, then the prediction over the plane with the data
/// points), each unit a small heat map of its value over the plane, and
/// the weights as lines whose width is |w| and colour its sign; under it
/// the loss and accuracy curves with the moment marked, and the moment's
/// training step. Colours are the Playground's: orange negative (class 0),
/// white zero, blue positive (class 1). Test hooks: `#frame=N` or
/// `#frame=last` picks the moment shown first, `#sweep` moves the slider
/// through every moment and writes what it saw into the body's
/// data-sweep; the body's data-ready and data-frame say what is drawn.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/PlayParts.h"

#include "ir/Format.h"

#include <fmt/format.h>

namespace nn {

const char *const kPlayStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 0 24px 48px; color: #222; }
h1 { margin: 20px 0 4px; }
.sub { color: #555; margin: 0 0 12px; }
#controls { display: flex; align-items: center; gap: 14px; margin: 8px 0;
            position: sticky; top: 0; background: #fff; padding: 6px 0;
            z-index: 2; }
#controls input { flex: 1; }
#play { font-size: 16px; width: 90px; }
#moment { font-family: monospace; min-width: 420px; }
canvas { display: block; }
.note { color: #555; font-style: italic; }
.legend { font-size: 13px; color: #444; }
pre { background: #f6f8fa; padding: 10px; overflow: auto; font-size: 12px;
      line-height: 1.35; border-radius: 4px; max-height: 520px; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 28px; }
)";

const char *const kPlayScript = R"JS(

(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('play-data').textContent);
  var F = D.frames.length, cur = -1, draws = 0, timer = null;
  var slider = document.getElementById('slider');
  var moment = document.getElementById('moment');
  var ORANGE = [245, 147, 34], BLUE = [8, 119, 189], WHITE = [255, 255, 255];
  var PALETTE = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40],
    [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
    [188, 189, 34], [23, 190, 207]];
  var U = 56, GAP = 10, COL = 150, BIG = 300, TOP = 40;

  function bytes(s) {
    var bin = atob(s), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; ++i) a[i] = bin.charCodeAt(i);
    return a;
  }
  function floats(s) { return new Float32Array(bytes(s).buffer); }
  function lerp(a, b, t) {
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t,
            a[2] + (b[2] - a[2]) * t];
  }
  // t in [-1, 1]: orange, white, blue.
  function diverging(t) {
    if (!isFinite(t)) t = 0;
    t = Math.max(-1, Math.min(1, t));
    return t < 0 ? lerp(WHITE, ORANGE, -t) : lerp(WHITE, BLUE, t);
  }
  function css(c, a) {
    return 'rgba(' + Math.round(c[0]) + ',' + Math.round(c[1]) + ',' +
      Math.round(c[2]) + ',' + (a === undefined ? 1 : a) + ')';
  }
  // An n x n image whose pixel p has colour colour(p).
  function image(n, colour) {
    var c = document.createElement('canvas');
    c.width = c.height = n;
    var g = c.getContext('2d'), img = g.createImageData(n, n);
    for (var p = 0; p < n * n; ++p) {
      var rgb = colour(p);
      img.data[4 * p] = rgb[0]; img.data[4 * p + 1] = rgb[1];
      img.data[4 * p + 2] = rgb[2]; img.data[4 * p + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  // The decoded maps of frame f: per layer, per unit, values in [-1, 1].
  var cache = {};
  function decode(f) {
    if (cache[f]) return cache[f];
    var fr = D.frames[f], n2 = D.hn * D.hn, layers = [];
    fr.hidden.forEach(function (h) {
      var q = bytes(h.q), s = Math.max(Math.abs(h.lo), Math.abs(h.hi)) || 1;
      var units = [];
      for (var u = 0; u * n2 < q.length; ++u)
        units.push(function (u) {
          var fn = function (p) {
            return (h.lo + q[u * n2 + p] / 255 * (h.hi - h.lo)) / s;
          };
          fn.size = D.hn;
          return fn;
        }(u));
      layers.push(units);
    });
    var pred = floats(fr.pred), W = D.layers[D.layers.length - 1].width;
    var m = 0;
    for (var i = 0; i < pred.length; ++i) m = Math.max(m, Math.abs(pred[i]));
    var units = [];
    for (var u = 0; u < W; ++u)
      units.push(function (u) {
        return function (p) {
          var v = pred[p * W + u];
          return D.labelKind === 'real' ? v / (m || 1) : 2 * v - 1;
        };
      }(u));
    layers.push(units);
    cache[f] = {layers: layers, pred: pred, W: W};
    return cache[f];
  }

  // Where unit i of column c is drawn (its top left corner).
  function unitAt(c, i, count, height) {
    var top = (height - count * (U + GAP)) / 2;
    return {x: 24 + c * COL, y: Math.max(TOP, top) + i * (U + GAP)};
  }
  function layout() {
    var most = 2;
    D.layers.forEach(function (l) { most = Math.max(most, l.width); });
    var cols = D.layers.length + 1;
    return {cols: cols, width: 24 + cols * COL + BIG + 40,
            height: Math.max(BIG + 80, TOP + most * (U + GAP) + 30)};
  }
  function inputUnit(k) {
    var v = k === 0 ? D.xs : D.ys;
    var s = Math.max(Math.abs(v[0]), Math.abs(v[D.n - 1])) || 1;
    return function (p) {
      return (k === 0 ? D.xs[p % D.n] : D.ys[Math.floor(p / D.n)]) / s;
    };
  }

  // The largest weight of the whole run: line widths compare across moments.
  var most = 0;
  if (D.plane)
    D.frames.forEach(function (fr) {
      D.layers.forEach(function (l) {
        (fr.w[l.weight] || []).forEach(function (w) {
          most = Math.max(most, Math.abs(w));
        });
      });
    });
  function drawLines(g, fr, L) {
    D.layers.forEach(function (l, k) {
      var w = fr.w[l.weight];
      if (!w) return;
      var ins = l.from < 0 ? 2 : D.layers[l.from].width;
      var fromCol = l.from + 1;
      for (var i = 0; i < ins; ++i)
        for (var j = 0; j < l.width; ++j) {
          var v = w[i * l.width + j] || 0;
          var a = unitAt(fromCol, i, ins, L.height);
          var b = unitAt(k + 1, j, l.width, L.height);
          g.strokeStyle = css(v < 0 ? ORANGE : BLUE, 0.85);
          g.lineWidth = 0.5 + 6 * Math.abs(v) / (most || 1);
          g.beginPath();
          g.moveTo(a.x + U, a.y + U / 2);
          g.bezierCurveTo(a.x + U + 40, a.y + U / 2, b.x - 40, b.y + U / 2,
                          b.x, b.y + U / 2);
          g.stroke();
        }
    });
  }

  function drawUnit(g, fn, x, y) {
    g.imageSmoothingEnabled = true;
    g.drawImage(image(fn.size || D.n, function (p) { return diverging(fn(p)); }),
                x, y, U, U);
    g.strokeStyle = '#999';
    g.lineWidth = 1;
    g.strokeRect(x + 0.5, y + 0.5, U - 1, U - 1);
  }

  function predColour(dec, p) {
    var W = dec.W, pr = dec.pred;
    if (D.labelKind === 'binary') return lerp(WHITE, diverging(2 * pr[p] - 1), 0.6);
    if (D.labelKind === 'real') return lerp(WHITE, diverging(dec.layers[dec.layers.length - 1][0](p)), 0.6);
    var best = 0;
    for (var c = 1; c < W; ++c) if (pr[p * W + c] > pr[p * W + best]) best = c;
    var conf = (pr[p * W + best] - 1 / W) / (1 - 1 / W);
    return lerp(WHITE, PALETTE[best % PALETTE.length], 0.15 + 0.45 * conf);
  }

  function drawPlane(g, dec, x, y) {
    g.imageSmoothingEnabled = true;
    g.drawImage(image(D.n, function (p) { return predColour(dec, p); }),
                x, y, BIG, BIG);
    var x0 = D.xs[0], x1 = D.xs[D.n - 1], y0 = D.ys[D.n - 1], y1 = D.ys[0];
    var P = D.points, top = 0;
    P.label.forEach(function (v) { top = Math.max(top, Math.abs(v)); });
    for (var i = 0; i < P.x.length; ++i) {
      var px = x + (P.x[i] - x0) / (x1 - x0) * BIG;
      var py = y + (y1 - P.y[i]) / (y1 - y0) * BIG;
      var lab = P.label[i];
      var c = D.labelKind === 'class' ? PALETTE[lab % PALETTE.length]
            : D.labelKind === 'binary' ? (lab > 0.5 ? BLUE : ORANGE)
            : diverging(lab / (top || 1));
      g.fillStyle = css(c);
      g.strokeStyle = '#333';
      g.lineWidth = 0.8;
      g.beginPath();
      g.arc(px, py, P.x.length > 300 ? 2.5 : P.x.length > 50 ? 4 : 6, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
    g.strokeStyle = '#999';
    g.strokeRect(x + 0.5, y + 0.5, BIG - 1, BIG - 1);
    g.fillStyle = '#333';
    g.font = '11px sans-serif';
    g.fillText(x0.toPrecision(3), x, y + BIG + 14);
    g.fillText(x1.toPrecision(3), x + BIG - 30, y + BIG + 14);
    g.fillText(y1.toPrecision(3), x + BIG + 4, y + 10);
    g.fillText(y0.toPrecision(3), x + BIG + 4, y + BIG);
  }

  function drawNet(f) {
    var cv = document.getElementById('net'), L = layout();
    cv.width = L.width;
    cv.height = L.height;
    var g = cv.getContext('2d'), fr = D.frames[f], dec = decode(f);
    g.clearRect(0, 0, L.width, L.height);
    drawLines(g, fr, L);
    g.fillStyle = '#333';
    g.font = '13px sans-serif';
    g.fillText('input', 24, 18);
    for (var k = 0; k < 2; ++k) {
      var a = unitAt(0, k, 2, L.height);
      drawUnit(g, inputUnit(k), a.x, a.y);
      g.fillText('x[' + (k + 1) + ']', a.x - 22, a.y + U / 2 + 4);
    }
    D.layers.forEach(function (l, li) {
      g.fillText(l.name + ' (' + l.width + ')', 24 + (li + 1) * COL, 18);
      dec.layers[li].forEach(function (fn, u) {
        var a = unitAt(li + 1, u, l.width, L.height);
        drawUnit(g, fn, a.x, a.y);
      });
    });
    var px = 24 + L.cols * COL, py = Math.min((L.height - BIG) / 2, 60);
    g.fillText('prediction over the plane', px, 18);
    drawPlane(g, dec, px, py);
    var h = D.layers.length > 1 ? 1 : D.layers.length;
    var box = unitAt(h, 0, D.layers[h - 1].width, L.height);
    var r = cv.getBoundingClientRect();
    document.body.setAttribute('data-hidden-box', [
      Math.round(r.left + window.scrollX + box.x),
      Math.round(r.top + window.scrollY + box.y), U,
      D.layers[h - 1].width * (U + GAP) - GAP].join(','));
  }

  function drawWeights(f) {
    var cv = document.getElementById('weights'), fr = D.frames[f];
    if (!cv || !fr.image) return;
    var side = Math.round(Math.sqrt(D['in'])), square = side * side === D['in'];
    var w = square ? side : D['in'], h = square ? side : 1;
    var S = square ? 3 : 1, per = Math.max(1, Math.floor(1100 / (w * S + 6)));
    cv.width = per * (w * S + 6);
    cv.height = Math.ceil(D.out / per) * (h * S + 6) * (square ? 1 : 8);
    var g = cv.getContext('2d'), q = bytes(fr.image.q);
    g.imageSmoothingEnabled = false;
    for (var u = 0; u < D.out; ++u) {
      var img = image(Math.max(w, h), function (p) {
        var i = p < w * h ? p : 0;
        return diverging(q[u * D['in'] + i] / 255 * 2 - 1);
      });
      var x = (u % per) * (w * S + 6), y = Math.floor(u / per) * (h * S + 6) * (square ? 1 : 8);
      g.drawImage(img, 0, 0, w, h, x, y, w * S, h * S * (square ? 1 : 8));
    }
  }

  function panel(g, x, y, w, h, title, series, marker) {
    var lo = Infinity, hi = -Infinity, E = D.curves.epoch;
    series.forEach(function (s) {
      s.v.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    g.strokeStyle = '#bbb';
    g.strokeRect(x, y, w, h);
    g.fillStyle = '#333';
    g.font = '12px sans-serif';
    g.fillText(title, x, y - 6);
    if (!(lo <= hi) || E.length === 0) { g.fillText('no values', x + 10, y + 20); return; }
    if (hi === lo) { hi += 1; lo -= 1; }
    var e0 = 0, e1 = E[E.length - 1] || 1;
    var X = function (e) { return x + (e - e0) / (e1 - e0 || 1) * w; };
    var Y = function (v) { return y + h - (v - lo) / (hi - lo) * h; };
    g.fillText(hi.toPrecision(3), x + w + 4, y + 10);
    g.fillText(lo.toPrecision(3), x + w + 4, y + h);
    g.fillText('epoch ' + e1, x + w - 50, y + h + 14);
    series.forEach(function (s) {
      g.strokeStyle = s.colour;
      g.setLineDash(s.dash ? [5, 4] : []);
      g.lineWidth = 2;
      g.beginPath();
      var started = false;
      s.v.forEach(function (v, i) {
        if (v === null) return;
        if (started) g.lineTo(X(E[i]), Y(v)); else g.moveTo(X(E[i]), Y(v));
        started = true;
      });
      g.stroke();
    });
    g.setLineDash([]);
    g.strokeStyle = '#d62728';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(X(marker), y);
    g.lineTo(X(marker), y + h);
    g.stroke();
  }

  function drawCurves(f) {
    var cv = document.getElementById('curves'), g = cv.getContext('2d');
    g.clearRect(0, 0, cv.width, cv.height);
    var C = D.curves, e = D.frames[f].epoch;
    panel(g, 10, 24, 480, 180, 'loss (blue: training, dashed orange: validation)',
          [{v: C.trainLoss, colour: css(BLUE)}, {v: C.valLoss, colour: css(ORANGE), dash: true}], e);
    panel(g, 560, 24, 480, 180, 'accuracy',
          [{v: C.trainAcc, colour: css(BLUE)}, {v: C.valAcc, colour: css(ORANGE), dash: true}], e);
  }

  function epochText(e) {
    return e === Math.round(e) ? String(e) : e.toFixed(2);
  }
  function text(f) {
    var fr = D.frames[f], C = D.curves, k = C.epoch.indexOf(fr.epoch);
    var s = 'moment ' + (f + 1) + ' / ' + F + ': epoch ' + epochText(fr.epoch) +
      ' (step ' + fr.step + ')';
    if (fr.epoch === 0) s += ', before training';
    if (fr.restored) s += ', the weights early stopping restored';
    if (k >= 0) {
      s += ', loss ' + C.trainLoss[k].toFixed(4);
      if (C.trainAcc[k] !== null) s += ', accuracy ' + (100 * C.trainAcc[k]).toFixed(1) + '%';
    }
    return s;
  }

  function show(f) {
    f = Math.max(0, Math.min(F - 1, f | 0));
    if (D.plane) drawNet(f); else drawWeights(f);
    drawCurves(f);
    moment.textContent = text(f);
    moment.setAttribute('data-frame', f);
    var pre = document.getElementById('scalar');
    pre.textContent = D.frames[f].scalar || D.scalarNote;
    cur = f;
    ++draws;
    if (+slider.value !== f) slider.value = f;
    document.body.setAttribute('data-frame', f);
  }

  function sweep() {
    var seen = [];
    for (var i = 0; i < F; ++i) {
      var before = draws;
      slider.value = i;
      slider.dispatchEvent(new Event('input'));
      if (draws !== before + 1 || moment.getAttribute('data-frame') !== String(i) ||
          moment.textContent.indexOf('epoch ' + epochText(D.frames[i].epoch) + ' ') < 0)
        return 'fail at ' + i;
      seen.push(epochText(D.frames[i].epoch));
    }
    return 'ok ' + F + ' epochs ' + seen.join(',');
  }

  slider.max = F - 1;
  slider.addEventListener('input', function () { show(+slider.value); });
  document.getElementById('play').addEventListener('click', function () {
    var b = this;
    if (timer) { clearInterval(timer); timer = null; b.textContent = 'play'; return; }
    if (cur >= F - 1) show(0);
    b.textContent = 'pause';
    timer = setInterval(function () {
      if (cur >= F - 1) { clearInterval(timer); timer = null; b.textContent = 'play'; return; }
      show(cur + 1);
    }, 150);
  });
  window.nncPlay = {show: show, frames: F};
  var hash = window.location.hash, m = /frame=(\d+|last)/.exec(hash);
  var first = m ? (m[1] === 'last' ? F - 1 : +m[1]) : F - 1;
  if (/sweep/.test(hash)) document.body.setAttribute('data-sweep', sweep());
  show(first);
  document.body.setAttribute('data-ready', 'yes');
})();
)JS";

std::string playBody(const PlayRun &r) {
  std::string s = fmt::format(
      "<h1>{} <small>playground</small></h1>\n<p class=\"sub\">{}: trained "
      "on the {} backend, {} moments recorded; every map is the compiled "
      "forward function's output</p>\n",
      htmlEscape(r.model), htmlEscape(r.path), htmlEscape(r.backend),
      r.frames.size());
  s += "<div id=\"controls\"><button id=\"play\">play</button>"
       "<input type=\"range\" id=\"slider\" min=\"0\" value=\"0\">"
       "<span id=\"moment\"></span></div>\n";
  if (r.plane)
    s += "<section id=\"plane-view\"><canvas id=\"net\"></canvas>\n"
         "<p class=\"legend\">Each square is one unit's value over the input "
         "plane (the same region as the big map): blue positive, orange "
         "negative, white zero. Lines are the weights at this moment: width "
         "is the size (on one scale for the whole run), blue positive, "
         "orange negative. The big map is the prediction (" +
         std::string(r.labelKind == LabelKind::Class
                         ? "the most likely class: 0 orange, 1 blue, 2 "
                           "green, 3 red, ...; paler where it is less sure"
                         : r.labelKind == LabelKind::Binary
                               ? "blue: class 1, orange: class 0"
                               : "blue: positive, orange: negative") +
         "), with the training data on it.</p></section>\n";
  else
    s += "<section id=\"no-plane\"><p class=\"note\" id=\"why\">This page "
         "cannot draw the input plane: " +
         htmlEscape(r.why) +
         ".</p>\n" +
         (r.weight.empty()
              ? "<p class=\"note\">The first layer is not a matmul with a "
                "weight matrix, so its weights are not drawn.</p>\n"
              : fmt::format("<h2>The first layer's weights</h2><p "
                            "class=\"legend\">{} ({} x {}): each unit's {} "
                            "weights as an image (blue positive, orange "
                            "negative)</p>\n<canvas id=\"weights\"></canvas>\n",
                            htmlEscape(r.weight), r.in, r.out, r.in)) +
         "</section>\n";
  s += "<h2>Loss and accuracy</h2><canvas id=\"curves\" width=\"1100\" "
       "height=\"230\"></canvas>\n";
  s += "<h2>One training step from this moment</h2><p class=\"legend\">The "
       "first batch of the data, from this moment's parameters, as "
       "<code>nnc explain --scalar</code> writes it.</p><pre "
       "id=\"scalar\"></pre>\n";
  return s;
}

} // namespace nn

#include "mixnet/viz/plot.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "font.h"
#include "mixnet/base/error.h"

namespace mixnet::viz {

Rgb ChartColor(size_t i) {
  static constexpr Rgb kPalette[10] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kPalette[i % 10];
}

namespace {

constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrid{225, 225, 225},
    kLegendBorder{160, 160, 160};

/*! \brief Drawing primitives over an RGB image; pixels outside it are dropped. */
class Canvas {
 public:
  Canvas(int width, int height, int scale) : img_(height, width, 3), scale_(scale) {
    std::fill(img_.data.begin(), img_.data.end(), uint8_t{255});
  }
  io::Image& image() { return img_; }

  void Set(int x, int y, const Rgb& c) {
    if (x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
    std::copy(c.begin(), c.end(), img_.Pixel(y, x));
  }
  /*! \brief The rectangle [x0, x1] x [y0, y1], inclusive. */
  void Fill(int x0, int y0, int x1, int y1, const Rgb& c) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x)
        Set(x, y, c);
  }
  void Frame(int x0, int y0, int x1, int y1, const Rgb& c) {
    Fill(x0, y0, x1, y0, c);
    Fill(x0, y1, x1, y1, c);
    Fill(x0, y0, x0, y1, c);
    Fill(x1, y0, x1, y1, c);
  }
  /*! \brief A line `thick` pixels wide (Bresenham's steps, a square brush at each). */
  void Line(int x0, int y0, int x1, int y1, const Rgb& c, int thick) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    const int lo = -(thick - 1) / 2, hi = thick / 2;
    for (int err = dx + dy;;) {
      Fill(x0 + lo, y0 + lo, x0 + hi, y0 + hi, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }

  int TextWidth(std::string_view s, int scale = 0) const {
    scale = scale > 0 ? scale : scale_;
    return s.empty() ? 0 : static_cast<int>(s.size()) * font::kAdvance * scale - scale;
  }
  int TextHeight(int scale = 0) const { return font::kHeight * (scale > 0 ? scale : scale_); }
  /*! \brief Text with its top-left corner at (x, y); `vertical` reads bottom to top, with
   * (x, y) its bottom-left corner. */
  void Text(int x, int y, std::string_view s, const Rgb& c, int scale = 0, bool vertical = false) {
    scale = scale > 0 ? scale : scale_;
    for (size_t i = 0; i < s.size(); ++i) {
      const font::Glyph& g = font::GlyphOf(s[i]);
      const int cx = static_cast<int>(i) * font::kAdvance;
      for (int gy = 0; gy < font::kHeight; ++gy) {
        for (int gx = 0; gx < font::kWidth; ++gx) {
          if (!(g[gy] & (1 << (font::kWidth - 1 - gx)))) continue;
          if (vertical) {
            const int px = x + gy * scale, py = y - (cx + gx + 1) * scale;
            Fill(px, py + 1, px + scale - 1, py + scale, c);
          } else {
            const int px = x + (cx + gx) * scale, py = y + gy * scale;
            Fill(px, py, px + scale - 1, py + scale - 1, c);
          }
        }
      }
    }
  }

 private:
  io::Image img_;
  int scale_;
};

/*! \brief An axis range snapped to "nice" tick steps (1, 2 or 5 times a power of ten). */
struct Axis {
  double lo, hi, step;
  std::vector<double> ticks;
  int decimals;
};

Axis MakeAxis(double lo, double hi, bool integral) {
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {  // one value: a band around it
    const double pad = integral ? 1.0 : (lo != 0 ? std::abs(lo) * 0.05 : 0.5);
    lo -= pad;
    hi += pad;
  } else if (!integral) {
    const double pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  if (integral) step = std::max(step, 1.0);
  Axis a{std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step, {}, 0};
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step)
    a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  a.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return a;
}

std::string TickLabel(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::vector<double> XOf(const Series& s) {
  if (!s.x.empty()) return s.x;
  std::vector<double> x(s.y.size());
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<double>(i + 1);
  return x;
}

void CheckPanel(const Panel& p, size_t index) {
  MX_CHECK(!p.series.empty(), ValueError)
      << "plot: panel " << index << " ('" << p.title << "') has no series";
  for (const Series& s : p.series) {
    MX_CHECK(!s.y.empty(), ValueError)
        << "plot: series '" << s.label << "' of panel '" << p.title << "' is empty";
    MX_CHECK(s.x.empty() || s.x.size() == s.y.size(), ValueError)
        << "plot: series '" << s.label << "' has " << s.x.size() << " x values but " << s.y.size()
        << " y values";
    for (size_t i = 0; i < s.y.size(); ++i) {
      MX_CHECK(std::isfinite(s.y[i]) && (s.x.empty() || std::isfinite(s.x[i])), ValueError)
          << "plot: series '" << s.label << "' has a non-finite value at point " << i
          << " (y = " << s.y[i] << ")";
    }
  }
}

/*! \brief Draws one panel into the columns [x0, x1) below row `top`. */
void DrawPanel(Canvas& cv, const Panel& p, size_t first_color, int x0, int x1, int top,
               int bottom) {
  const int th = cv.TextHeight(), gap = th / 2 + 2, tick = 5;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  bool integral = true;
  std::vector<std::vector<double>> xs;
  for (const Series& s : p.series) {
    xs.push_back(XOf(s));
    for (double v : xs.back()) {
      xmin = std::min(xmin, v), xmax = std::max(xmax, v);
      integral = integral && v == std::floor(v);
    }
    for (double v : s.y)
      ymin = std::min(ymin, v), ymax = std::max(ymax, v);
  }
  const Axis ax = MakeAxis(xmin, xmax, integral), ay = MakeAxis(ymin, ymax, false);
  int label_w = 0;
  for (double t : ay.ticks)
    label_w = std::max(label_w, cv.TextWidth(TickLabel(t, ay.decimals)));

  // The plot area: room on the left for the y label and tick labels, below for the tick
  // labels and the x label, above for the panel title.
  const int left = x0 + gap + (p.ylabel.empty() ? 0 : th + gap) + label_w + tick + 4;
  const int right = x1 - gap - cv.TextWidth("0") / 2 - 4;
  const int ptop = top + gap + (p.title.empty() ? 0 : th + gap);
  const int pbottom = bottom - gap - (p.xlabel.empty() ? 0 : th + gap) - th - tick - 4;
  MX_CHECK(right - left >= 40 && pbottom - ptop >= 40, ValueError)
      << "plot: the image is too small for panel '" << p.title << "' (plot area " << right - left
      << " x " << pbottom - ptop << " pixels; make width or height larger)";
  const auto X = [&](double v) {
    return left + static_cast<int>(std::lround((v - ax.lo) / (ax.hi - ax.lo) * (right - left)));
  };
  const auto Y = [&](double v) {
    return pbottom -
           static_cast<int>(std::lround((v - ay.lo) / (ay.hi - ay.lo) * (pbottom - ptop)));
  };

  if (!p.title.empty())
    cv.Text((left + right - cv.TextWidth(p.title)) / 2, top + gap, p.title, kBlack);
  for (double t : ax.ticks) {
    cv.Fill(X(t), ptop, X(t), pbottom, kGrid);
    cv.Fill(X(t), pbottom, X(t), pbottom + tick, kBlack);
    const std::string l = TickLabel(t, ax.decimals);
    cv.Text(X(t) - cv.TextWidth(l) / 2, pbottom + tick + 4, l, kBlack);
  }
  for (double t : ay.ticks) {
    cv.Fill(left, Y(t), right, Y(t), kGrid);
    cv.Fill(left - tick, Y(t), left, Y(t), kBlack);
    const std::string l = TickLabel(t, ay.decimals);
    cv.Text(left - tick - 4 - cv.TextWidth(l), Y(t) - th / 2, l, kBlack);
  }
  cv.Frame(left, ptop, right, pbottom, kBlack);
  if (!p.xlabel.empty()) {
    cv.Text((left + right - cv.TextWidth(p.xlabel)) / 2, pbottom + tick + 4 + th + gap, p.xlabel,
            kBlack);
  }
  if (!p.ylabel.empty()) {
    cv.Text(x0 + gap, (ptop + pbottom + cv.TextWidth(p.ylabel)) / 2, p.ylabel, kBlack, 0,
            /*vertical=*/true);
  }

  const int thick = 2, mark = 3;
  std::vector<std::pair<int, int>> points;  // where the lines run, to place the legend
  for (size_t i = 0; i < p.series.size(); ++i) {
    const Rgb c = ChartColor(first_color + i);
    const std::vector<double>& x = xs[i];
    const std::vector<double>& y = p.series[i].y;
    for (size_t k = 0; k < y.size(); ++k) {
      if (k > 0) {
        cv.Line(X(x[k - 1]), Y(y[k - 1]), X(x[k]), Y(y[k]), c, thick);
        for (int f = 1; f < 8; ++f) {
          points.emplace_back(X(x[k - 1]) + (X(x[k]) - X(x[k - 1])) * f / 8,
                              Y(y[k - 1]) + (Y(y[k]) - Y(y[k - 1])) * f / 8);
        }
      }
      cv.Fill(X(x[k]) - mark, Y(y[k]) - mark, X(x[k]) + mark, Y(y[k]) + mark, c);
      points.emplace_back(X(x[k]), Y(y[k]));
    }
  }

  // The legend (when a series has a label) in the corner of the plot area that covers the
  // fewest points of the lines.
  if (std::all_of(p.series.begin(), p.series.end(),
                  [](const Series& s) { return s.label.empty(); })) {
    return;
  }
  const int swatch = 6 * cv.TextWidth("0") / 2, row = th + 6;
  int label_max = 0;
  for (const Series& s : p.series)
    label_max = std::max(label_max, cv.TextWidth(s.label));
  const int lw = 8 + swatch + 6 + label_max + 8, lh = static_cast<int>(p.series.size()) * row + 6;
  const int pad = 8;
  const std::pair<int, int> corners[4] = {{right - pad - lw, ptop + pad},
                                          {right - pad - lw, pbottom - pad - lh},
                                          {left + pad, ptop + pad},
                                          {left + pad, pbottom - pad - lh}};
  int best = 0, best_count = std::numeric_limits<int>::max();
  for (int k = 0; k < 4; ++k) {
    const auto [lx, ly] = corners[k];
    int count = 0;
    for (const auto& [px, py] : points)
      count += px >= lx - mark && px <= lx + lw + mark && py >= ly - mark && py <= ly + lh + mark;
    if (count < best_count) best = k, best_count = count;
  }
  const auto [lx, ly] = corners[best];
  cv.Fill(lx, ly, lx + lw, ly + lh, kWhite);
  cv.Frame(lx, ly, lx + lw, ly + lh, kLegendBorder);
  for (size_t i = 0; i < p.series.size(); ++i) {
    const int ry = ly + 6 + static_cast<int>(i) * row;
    cv.Line(lx + 8, ry + th / 2, lx + 8 + swatch, ry + th / 2, ChartColor(first_color + i),
            thick + 1);
    cv.Text(lx + 8 + swatch + 6, ry, p.series[i].label, kBlack);
  }
}

}  // namespace

io::Image RenderLineChart(const std::vector<Panel>& panels, const ChartOptions& o) {
  MX_CHECK(!panels.empty(), ValueError) << "plot: no panels to draw";
  MX_CHECK(o.text_scale >= 1 && o.text_scale <= 8, ValueError)
      << "plot: text_scale must be in [1, 8], got " << o.text_scale;
  MX_CHECK(o.width >= 1 && o.height >= 1 && o.width <= 16384 && o.height <= 16384, ValueError)
      << "plot: image size " << o.width << " x " << o.height << " is out of [1, 16384]";
  for (size_t i = 0; i < panels.size(); ++i)
    CheckPanel(panels[i], i);
  Canvas cv(o.width, o.height, o.text_scale);
  int top = 0;
  if (!o.title.empty()) {
    const int scale = o.text_scale + 1, th = cv.TextHeight(scale);
    cv.Text((o.width - cv.TextWidth(o.title, scale)) / 2, th / 2 + 2, o.title, kBlack, scale);
    top = th + th / 2 + 2;
  }
  const int n = static_cast<int>(panels.size());
  size_t color = 0;  // series are coloured in order across the panels
  for (int i = 0; i < n; ++i) {
    DrawPanel(cv, panels[i], color, o.width * i / n, o.width * (i + 1) / n, top, o.height);
    color += panels[i].series.size();
  }
  return std::move(cv.image());
}

void SaveLineChart(const std::string& path, const std::vector<Panel>& panels,
                   const ChartOptions& options) {
  const std::vector<uint8_t> png = io::ImEncode(RenderLineChart(panels, options), ".png");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  MX_CHECK(f != nullptr, ValueError)
      << "plot: cannot write '" << path << "': " << std::strerror(errno);
  const bool ok =
      std::fwrite(png.data(), 1, png.size(), f.get()) == png.size() && std::fflush(f.get()) == 0;
  MX_CHECK(ok, ValueError) << "plot: writing '" << path << "' failed: " << std::strerror(errno);
}

}  // namespace mixnet::viz

// viz::RenderLineChart / SaveLineChart: the PNG decodes with mixnet's decoder to the asked
// size; series, axes and legend put their colours where expected; bad input is refused with
// a clear ValueError.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/viz/plot.h"

namespace mixnet::viz {
namespace {

bool Is(const io::Image& img, int64_t y, int64_t x, const Rgb& c) {
  const uint8_t* p = img.Pixel(y, x);
  return p[0] == c[0] && p[1] == c[1] && p[2] == c[2];
}

int64_t CountColor(const io::Image& img, const Rgb& c) {
  int64_t n = 0;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = 0; x < img.width; ++x)
      n += Is(img, y, x, c);
  return n;
}

/*! \brief Mean row of the pixels of colour `c` in the columns [x0, x1). */
double MeanRow(const io::Image& img, const Rgb& c, int64_t x0, int64_t x1) {
  double sum = 0;
  int64_t n = 0;
  for (int64_t y = 0; y < img.height; ++y)
    for (int64_t x = x0; x < x1; ++x)
      if (Is(img, y, x, c)) sum += static_cast<double>(y), ++n;
  return n > 0 ? sum / static_cast<double>(n) : std::nan("");
}

std::vector<Panel> Curves() {
  return {Panel{.title = "loss",
                .ylabel = "loss",
                .series = {{.label = "train loss", .y = {0.9, 0.6, 0.45, 0.38, 0.33}}}},
          Panel{.title = "accuracy",
                .series = {{.label = "train acc", .y = {0.70, 0.80, 0.85, 0.87, 0.89}},
                           {.label = "test acc", .y = {0.75, 0.82, 0.86, 0.88, 0.90}}}}};
}

TEST(VizPlot, PngDecodesToTheAskedSize) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "mixnet_viz_plot_test.png").string();
  SaveLineChart(path, Curves(), {.width = 640, .height = 300, .title = "curves"});
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                   std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes[1], 'P');  // \x89PNG
  const io::Image img = io::ImDecode(bytes, 1);
  EXPECT_EQ(img.width, 640);
  EXPECT_EQ(img.height, 300);
  EXPECT_EQ(img.data, RenderLineChart(Curves(), {.width = 640, .height = 300, .title = "curves"})
                          .data);  // lossless: the file holds exactly the rendered pixels
  std::filesystem::remove(path);
}

TEST(VizPlot, SeriesAxesAndLegendAreDrawn) {
  const io::Image img = RenderLineChart(Curves(), {.width = 1000, .height = 400});
  ASSERT_EQ(img.channels, 3);
  // Three series in three distinct colours (lines, markers and the legend swatches).
  for (size_t i = 0; i < 3; ++i)
    EXPECT_GT(CountColor(img, ChartColor(i)), 200) << "series " << i;
  EXPECT_EQ(CountColor(img, ChartColor(3)), 0);
  // Each panel has a frame: a black column (the left axis) at least half the image tall.
  int axes = 0;
  for (int64_t x = 0; x < img.width; ++x) {
    int64_t run = 0, best = 0;
    for (int64_t y = 0; y < img.height; ++y) {
      run = Is(img, y, x, {0, 0, 0}) ? run + 1 : 0;
      best = std::max(best, run);
    }
    axes += best >= img.height / 2;
  }
  EXPECT_GE(axes, 4);  // left and right sides of two frames
}

TEST(VizPlot, FallingSeriesDrawsDownward) {
  const std::vector<Panel> p = {
      Panel{.title = "loss", .series = {{.y = {1.0, 0.8, 0.6, 0.4, 0.2}}}}};  // no legend
  const io::Image img = RenderLineChart(p, {.width = 500, .height = 300});
  const Rgb c = ChartColor(0);
  // Left part of the plot: high values, small rows; right quarter: the reverse.
  EXPECT_LT(MeanRow(img, c, 60, 160), MeanRow(img, c, 380, 480));
  // A constant series is a horizontal line: one row holds a long run of its colour.
  const io::Image flat =
      RenderLineChart({Panel{.series = {{.y = {0.5, 0.5, 0.5, 0.5}}}}}, {.width = 500});
  int64_t longest = 0;
  for (int64_t y = 0; y < flat.height; ++y) {
    int64_t n = 0;
    for (int64_t x = 0; x < flat.width; ++x)
      n += Is(flat, y, x, c);
    longest = std::max(longest, n);
  }
  EXPECT_GT(longest, 250);
}

TEST(VizPlot, SinglePointAndExplicitX) {
  EXPECT_GT(
      CountColor(RenderLineChart({Panel{.series = {{.label = "a", .y = {0.3}}}}}), ChartColor(0)),
      20);
  EXPECT_NO_THROW(
      RenderLineChart({Panel{.series = {{.label = "a", .y = {1, 2, 3}, .x = {0.5, 1.5, 4.0}}}}}));
}

void ExpectError(const std::vector<Panel>& p, const std::string& what, ChartOptions o = {}) {
  try {
    RenderLineChart(p, o);
    ADD_FAILURE() << "no error for " << what;
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(VizPlot, BadInputIsRefused) {
  ExpectError({}, "no panels");
  ExpectError({Panel{.title = "p"}}, "has no series");
  ExpectError({Panel{.series = {{.label = "s", .y = {}}}}}, "'s' of panel '' is empty");
  ExpectError({Panel{.series = {{.label = "s", .y = {1, std::nan("")}}}}}, "non-finite");
  ExpectError({Panel{.series = {{.label = "s", .y = {1, INFINITY}}}}}, "non-finite");
  ExpectError({Panel{.series = {{.label = "s", .y = {1, 2}, .x = {1}}}}},
              "1 x values but 2 y values");
  ExpectError(Curves(), "too small", {.width = 120, .height = 80});
  ExpectError(Curves(), "out of", {.width = 0});
  EXPECT_THROW(SaveLineChart("/nonexistent-dir/x/curves.png", Curves()), ValueError);
  try {
    SaveLineChart("/nonexistent-dir/x/curves.png", Curves());
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write '/nonexistent-dir/x/curves.png'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mixnet::viz

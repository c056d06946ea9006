/*!
 * \file plot.h
 * \brief Line charts of training curves written as PNG (the `viz` layer): one or more panels
 * side by side, each with axes, tick labels, grid, a title, axis labels and a legend, drawn
 * with a built-in bitmap font into an RGB image and encoded by mixnet's PNG codec.
 *
 *   viz::Panel loss{.title = "loss", .series = {{.label = "train loss", .y = losses}}};
 *   viz::Panel acc{.title = "accuracy", .series = {{.label = "train acc", .y = train_acc},
 *                                                  {.label = "test acc", .y = test_acc}}};
 *   viz::SaveLineChart("curves.png", {loss, acc}, {.title = "LeNet on Fashion-MNIST"});
 */
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mixnet/io/image.h"

namespace mixnet::viz {

struct Series {
  /*! \brief The legend's text (no legend when no series of the panel has one). */
  std::string label;
  std::vector<double> y;
  /*! \brief x of each point; empty: 1, 2, ..., y.size() (epochs). */
  std::vector<double> x;
};

struct Panel {
  std::string title;
  std::string xlabel = "epoch";
  std::string ylabel;
  /*! \brief Drawn in order, coloured by position across all panels (ChartColor). */
  std::vector<Series> series;
};

struct ChartOptions {
  /*! \brief Whole image size in pixels; each panel gets an equal share of the width. */
  int width = 1200, height = 480;
  /*! \brief Text above the panels; none when empty. */
  std::string title;
  /*! \brief Font pixels per bitmap-font pixel (2: 10x14 characters). */
  int text_scale = 2;
};

using Rgb = std::array<uint8_t, 3>;
/*! \brief The colour of the i-th series of a chart (a 10-colour cycle, Tableau's palette). */
Rgb ChartColor(size_t i);

/*!
 * \brief Draws the panels into a height x width x 3 RGB image. ValueError for no panels, a
 * panel without series, an empty series, a non-finite value, x and y of different lengths,
 * or an image too small for the panels.
 */
io::Image RenderLineChart(const std::vector<Panel>& panels, const ChartOptions& options = {});

/*! \brief RenderLineChart encoded as PNG into `path`; ValueError if it cannot be written. */
void SaveLineChart(const std::string& path, const std::vector<Panel>& panels,
                   const ChartOptions& options = {});

}  // namespace mixnet::viz

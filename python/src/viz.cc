// mx.viz: the C++ progress bar and PNG line charts (mixnet/viz/). mixnet/viz.py gives them
// their Python face (a file object, a dict of panels).
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "bind.h"
#include "mixnet/viz/plot.h"
#include "mixnet/viz/progress_bar.h"

namespace mixnet::python {

namespace {

// (label, y, x) and (title, xlabel, ylabel, series): the panels as plain tuples.
using SeriesTuple = std::tuple<std::string, std::vector<double>, std::vector<double>>;
using PanelTuple = std::tuple<std::string, std::string, std::string, std::vector<SeriesTuple>>;

std::vector<viz::Panel> ToPanels(const std::vector<PanelTuple>& panels) {
  std::vector<viz::Panel> out;
  for (const auto& [title, xlabel, ylabel, series] : panels) {
    viz::Panel p{.title = title, .xlabel = xlabel, .ylabel = ylabel, .series = {}};
    for (const auto& [label, y, x] : series)
      p.series.push_back({.label = label, .y = y, .x = x});
    out.push_back(std::move(p));
  }
  return out;
}

void BindViz(nb::module_& root) {
  nb::module_ m = root.def_submodule("viz", "Progress bars and training-curve charts.");

  nb::class_<viz::ProgressBar>(m, "ProgressBar")
      .def(
          "__init__",
          [](viz::ProgressBar* self, int64_t total, std::string prefix, int width, bool tty,
             double every, double min_redraw_s, nb::object write) {
            viz::ProgressBarOptions o;
            o.prefix = std::move(prefix);
            o.width = width;
            o.tty = tty ? 1 : 0;
            o.every = every;
            o.min_redraw_s = min_redraw_s;
            // Called from update/finish, which Python calls holding the GIL.
            o.write = [write](std::string_view s) { write(nb::str(s.data(), s.size())); };
            new (self) viz::ProgressBar(total, std::move(o));
          },
          nb::arg("total"), nb::arg("prefix"), nb::arg("width"), nb::arg("tty"), nb::arg("every"),
          nb::arg("min_redraw_s"), nb::arg("write"))
      .def("update", &viz::ProgressBar::Update, nb::arg("done"), nb::arg("samples"),
           nb::arg("metrics") = viz::Metrics{})
      .def("finish", &viz::ProgressBar::Finish)
      .def("format", &viz::ProgressBar::Format, nb::arg("done"), nb::arg("samples"),
           nb::arg("metrics"), nb::arg("elapsed"))
      .def_prop_ro("tty", &viz::ProgressBar::tty)
      .def_prop_ro("total", &viz::ProgressBar::total)
      .def_prop_ro("elapsed", &viz::ProgressBar::Elapsed);
  m.def("eta_seconds", &viz::EtaSeconds, nb::arg("done"), nb::arg("total"), nb::arg("elapsed"));
  m.def("format_duration", &viz::FormatDuration, nb::arg("seconds"));

  m.def(
      "render_line_chart",
      [](const std::vector<PanelTuple>& panels, int width, int height, const std::string& title,
         int text_scale) {
        const io::Image img = viz::RenderLineChart(
            ToPanels(panels),
            {.width = width, .height = height, .title = title, .text_scale = text_scale});
        return std::make_tuple(nb::bytes(img.data.data(), img.data.size()), img.height, img.width);
      },
      nb::arg("panels"), nb::arg("width"), nb::arg("height"), nb::arg("title"),
      nb::arg("text_scale"));
  m.def(
      "save_line_chart",
      [](const std::string& path, const std::vector<PanelTuple>& panels, int width, int height,
         const std::string& title, int text_scale) {
        viz::SaveLineChart(
            path, ToPanels(panels),
            {.width = width, .height = height, .title = title, .text_scale = text_scale});
      },
      nb::arg("path"), nb::arg("panels"), nb::arg("width"), nb::arg("height"), nb::arg("title"),
      nb::arg("text_scale"));
}

}  // namespace
MIXNET_PY_BIND(90, BindViz);

}  // namespace mixnet::python

/*!
 * \file progress_bar.h
 * \brief A training progress bar (the `viz` layer, MXNet's mx.viz / mx.callback.ProgressBar):
 * items done of a total, named running values (loss, accuracy), samples/s and the ETA.
 *
 *   viz::ProgressBar bar(batches, {.prefix = "epoch 1/10"});
 *   for (int64_t i = 1; i <= batches; ++i) bar.Update(i, i * 128, {{"loss", l}, {"acc", a}});
 *   bar.Finish();
 *
 * On a terminal the line is redrawn in place with '\r' (at most every min_redraw_s); when the
 * output is not a terminal (CI logs, pipes) a plain line is written each time another `every`
 * fraction of the total is done, so an epoch logs about ten lines, never one per batch.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mixnet::viz {

/*! \brief Named values shown after the count, in order: {{"loss", 0.41}, {"acc", 0.85}}. */
using Metrics = std::vector<std::pair<std::string, double>>;

struct ProgressBarOptions {
  /*! \brief Text before the bar ("epoch 1/10"); none when empty. */
  std::string prefix;
  /*! \brief Cells of the bar drawn on a terminal (0: no bar). */
  int width = 30;
  /*! \brief 1: redraw in place; 0: plain lines; -1: 1 when standard output is a terminal. */
  int tty = -1;
  /*! \brief Plain-line mode: a line each time this fraction of the total is done (0, 1]. */
  double every = 0.1;
  /*! \brief Terminal mode: seconds between redraws (the first and the last always draw). */
  double min_redraw_s = 0.1;
  /*! \brief Writes text; default: standard output, flushed. */
  std::function<void(std::string_view)> write;
  /*! \brief Seconds on a monotonic clock; default: std::chrono::steady_clock. */
  std::function<double()> clock;
};

/*! \brief Seconds left at the average rate so far; negative when nothing is done yet. */
double EtaSeconds(int64_t done, int64_t total, double elapsed_s);
/*! \brief "m:ss" or "h:mm:ss" ("--:--" for a negative or non-finite duration). */
std::string FormatDuration(double seconds);

class ProgressBar {
 public:
  /*! \brief A bar over `total` >= 1 items; the clock starts now. */
  explicit ProgressBar(int64_t total, ProgressBarOptions options = {});
  /*!
   * \brief Reports `done` items (0..total) and `samples` processed so far (for samples/s;
   * pass `done` when items are samples); draws when due.
   */
  void Update(int64_t done, int64_t samples, const Metrics& metrics = {});
  /*! \brief Draws the last state (if not yet drawn) and ends the line. Idempotent. */
  void Finish();
  /*!
   * \brief The text of one report: prefix, bar (terminal mode), done/total, metrics, samples/s
   * and the ETA, or the elapsed time once done == total.
   */
  std::string Format(int64_t done, int64_t samples, const Metrics& metrics, double elapsed_s) const;
  bool tty() const { return tty_; }
  int64_t total() const { return total_; }
  /*! \brief Seconds since construction. */
  double Elapsed() const;

 private:
  void Draw(const std::string& text);

  int64_t total_;
  ProgressBarOptions o_;
  bool tty_;
  double start_s_;
  double last_draw_s_ = -1;
  int64_t last_step_ = 0;  // plain mode: `every` steps already logged
  size_t last_len_ = 0;    // terminal mode: length of the line on screen
  bool finished_ = false, drawn_last_ = false;
  int64_t done_ = 0, samples_ = 0;
  Metrics metrics_;
};

}  // namespace mixnet::viz

#include "mixnet/viz/progress_bar.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "mixnet/base/error.h"

namespace mixnet::viz {

double EtaSeconds(int64_t done, int64_t total, double elapsed_s) {
  if (done <= 0) return -1;
  return elapsed_s / static_cast<double>(done) * static_cast<double>(total - done);
}

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "--:--";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", static_cast<long>(s / 3600),
                  static_cast<long>(s / 60 % 60), static_cast<long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", static_cast<long>(s / 60),
                  static_cast<long>(s % 60));
  }
  return buf;
}

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void WriteStdout(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, ProgressBarOptions options) : total_(total), o_(options) {
  MX_CHECK(total >= 1, ValueError) << "ProgressBar: total must be >= 1, got " << total;
  MX_CHECK(o_.width >= 0, ValueError) << "ProgressBar: width must be >= 0, got " << o_.width;
  MX_CHECK(o_.every > 0 && o_.every <= 1, ValueError)
      << "ProgressBar: every must be in (0, 1], got " << o_.every;
  if (!o_.write) o_.write = WriteStdout;
  if (!o_.clock) o_.clock = SteadySeconds;
  tty_ = o_.tty < 0 ? isatty(fileno(stdout)) != 0 : o_.tty != 0;
  start_s_ = o_.clock();
}

double ProgressBar::Elapsed() const {
  return o_.clock() - start_s_;
}

std::string ProgressBar::Format(int64_t done, int64_t samples, const Metrics& metrics,
                                double elapsed_s) const {
  std::string s = o_.prefix;
  if (!s.empty()) s += ' ';
  if (tty_ && o_.width > 0) {
    // [=====>      ]: the arrow head marks the partly done cell.
    const int64_t full = done * o_.width / total_;
    std::string bar(static_cast<size_t>(o_.width), ' ');
    for (int64_t i = 0; i < full; ++i)
      bar[static_cast<size_t>(i)] = '=';
    if (full < o_.width && done > 0) bar[static_cast<size_t>(full)] = '>';
    s += "[" + bar + "] ";
  }
  char buf[96];
  const int digits = static_cast<int>(std::to_string(total_).size());
  std::snprintf(buf, sizeof(buf), "%*ld/%ld", digits, static_cast<long>(done),
                static_cast<long>(total_));
  s += buf;
  if (!tty_) {
    std::snprintf(buf, sizeof(buf), " (%3d%%)", static_cast<int>(done * 100 / total_));
    s += buf;
  }
  for (const auto& [name, value] : metrics) {
    std::snprintf(buf, sizeof(buf), " %s %.4f", name.c_str(), value);
    s += buf;
  }
  if (elapsed_s > 0 && samples > 0) {
    std::snprintf(buf, sizeof(buf), " | %.0f samples/s", static_cast<double>(samples) / elapsed_s);
    s += buf;
  }
  s += done >= total_ ? " | " + FormatDuration(elapsed_s) + " total"
                      : " | ETA " + FormatDuration(EtaSeconds(done, total_, elapsed_s));
  return s;
}

void ProgressBar::Draw(const std::string& text) {
  if (!tty_) {
    o_.write(text + "\n");
    return;
  }
  // Pad with spaces over a longer previous line, then return to its start.
  std::string line = "\r" + text;
  if (text.size() < last_len_) line.append(last_len_ - text.size(), ' ');
  last_len_ = text.size();
  o_.write(line);
}

void ProgressBar::Update(int64_t done, int64_t samples, const Metrics& metrics) {
  MX_CHECK(done >= 0 && done <= total_, ValueError)
      << "ProgressBar.update: done must be in [0, " << total_ << "], got " << done;
  MX_CHECK(!finished_, ValueError) << "ProgressBar.update: the bar is finished";
  done_ = done;
  samples_ = samples;
  metrics_ = metrics;
  const double now = o_.clock();
  bool due;
  if (tty_) {
    due = last_draw_s_ < 0 || done == total_ || now - last_draw_s_ >= o_.min_redraw_s;
  } else {
    // Step k is done once done >= k * every * total; log each newly reached step once.
    const auto step = static_cast<int64_t>(
        std::floor(static_cast<double>(done) / (o_.every * static_cast<double>(total_)) + 1e-9));
    due = step > last_step_ || (done == total_ && !drawn_last_);
    if (due) last_step_ = step;
  }
  drawn_last_ = false;
  if (!due) return;
  last_draw_s_ = now;
  drawn_last_ = true;
  Draw(Format(done, samples, metrics, now - start_s_));
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!drawn_last_) {
    drawn_last_ = true;
    Draw(Format(done_, samples_, metrics_, Elapsed()));
  }
  if (tty_) o_.write("\n");
}

}  // namespace mixnet::viz

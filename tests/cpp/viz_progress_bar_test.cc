// viz::ProgressBar: the line format in terminal mode (redrawn in place with '\r', throttled,
// padded over a longer previous line) and in plain mode (one line per tenth, never one per
// update), the ETA and duration math, and argument checks. Time comes from a fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/viz/progress_bar.h"

namespace mixnet::viz {
namespace {

struct Capture {
  std::string out;
  double now = 100.0;
  ProgressBarOptions Options(int tty, std::string prefix = "epoch 1/2") {
    ProgressBarOptions o;
    o.prefix = std::move(prefix);
    o.width = 10;
    o.tty = tty;
    o.write = [this](std::string_view s) { out += s; };
    o.clock = [this] { return now; };
    return o;
  }
};

int Count(const std::string& s, char c) {
  return static_cast<int>(std::count(s.begin(), s.end(), c));
}

TEST(VizProgressBar, EtaAndDuration) {
  EXPECT_DOUBLE_EQ(EtaSeconds(25, 100, 10.0), 30.0);
  EXPECT_DOUBLE_EQ(EtaSeconds(100, 100, 10.0), 0.0);
  EXPECT_LT(EtaSeconds(0, 100, 10.0), 0);
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(65.4), "1:05");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-1), "--:--");
  EXPECT_EQ(FormatDuration(1.0 / 0.0), "--:--");
}

TEST(VizProgressBar, TerminalLineIsRedrawnInPlace) {
  Capture c;
  ProgressBar bar(40, c.Options(1));
  c.now += 2.0;
  bar.Update(10, 1280, {{"loss", 0.5}, {"acc", 0.75}});
  EXPECT_EQ(c.out,
            "\repoch 1/2 [==>       ] 10/40 loss 0.5000 acc 0.7500 | 640 samples/s | ETA 0:06");
  c.out.clear();
  c.now += 0.01;  // throttled: within min_redraw_s of the last draw
  bar.Update(11, 1408, {{"loss", 0.5}});
  EXPECT_EQ(c.out, "");
  c.now += 5.99;
  bar.Update(40, 5120, {{"loss", 0.25}});  // the last update always draws, padded over the
  const std::string last =
      "\repoch 1/2 [==========] 40/40 loss 0.2500 | 640 samples/s | 0:08 total";
  EXPECT_EQ(c.out.substr(0, last.size()), last);  // longer previous line
  EXPECT_EQ(c.out.size(), 1 + std::string("epoch 1/2 [==>       ] 10/40 loss 0.5000 acc 0.7500 | "
                                          "640 samples/s | ETA 0:06")
                                  .size());
  EXPECT_EQ(c.out.find('\n'), std::string::npos);
  bar.Finish();
  EXPECT_EQ(c.out.back(), '\n');
  const size_t before = c.out.size();
  bar.Finish();  // idempotent
  EXPECT_EQ(c.out.size(), before);
  EXPECT_THROW(bar.Update(40, 5120), ValueError);
}

TEST(VizProgressBar, PlainModeLogsEveryTenth) {
  Capture c;
  ProgressBar bar(468, c.Options(0, ""));
  for (int64_t i = 1; i <= 468; ++i) {
    c.now += 0.02;
    bar.Update(i, i * 128, {{"loss", 1.0 / static_cast<double>(i)}});
  }
  bar.Finish();
  EXPECT_EQ(Count(c.out, '\n'), 10);  // 10%, 20%, ..., 100%
  EXPECT_EQ(Count(c.out, '\r'), 0);
  EXPECT_EQ(c.out.find('['), std::string::npos);  // no bar drawing in logs
  const std::string first = c.out.substr(0, c.out.find('\n'));
  EXPECT_EQ(first, " 47/468 ( 10%) loss 0.0213 | 6400 samples/s | ETA 0:08");
  EXPECT_NE(c.out.find("468/468 (100%)"), std::string::npos);
  EXPECT_NE(c.out.find("0:09 total\n"), std::string::npos);
}

TEST(VizProgressBar, PlainModeSmallTotalsAndFinishWithoutUpdates) {
  Capture c;
  ProgressBar bar(3, c.Options(0, "x"));
  for (int64_t i = 1; i <= 3; ++i)
    bar.Update(i, i);
  bar.Finish();
  EXPECT_EQ(Count(c.out, '\n'), 3);  // one line per update at most, the last once
  Capture d;
  ProgressBar empty(5, d.Options(0, "y"));
  empty.Finish();
  EXPECT_EQ(d.out, "y 0/5 (  0%) | ETA --:--\n");
}

TEST(VizProgressBar, BadArguments) {
  Capture c;
  EXPECT_THROW(ProgressBar(0, c.Options(0)), ValueError);
  ProgressBarOptions o = c.Options(0);
  o.every = 0;
  EXPECT_THROW(ProgressBar(5, o), ValueError);
  ProgressBar bar(5, c.Options(0));
  EXPECT_THROW(bar.Update(6, 6), ValueError);
  EXPECT_THROW(bar.Update(-1, 0), ValueError);
}

}  // namespace
}  // namespace mixnet::viz

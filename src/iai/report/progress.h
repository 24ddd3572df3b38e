#pragma once
// One overwritten status line on stderr while an epoch (or an evaluation)
// runs; silent when stderr is not a terminal, so logs hold only the summary
// lines.

#include <chrono>
#include <string>

namespace iai::report {

class ProgressLine {
 public:
  /// enabled = false silences it; by default it follows isatty(stderr).
  ProgressLine();
  explicit ProgressLine(bool enabled);
  ~ProgressLine();

  /// Redraws the line, at most every 0.2 s unless `force`.
  void update(const std::string& text, bool force = false);
  /// Erases the line so the next output starts clean.
  void clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

/// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

}  // namespace iai::report

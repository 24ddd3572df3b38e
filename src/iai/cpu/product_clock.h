#pragma once
// How long a stretch of work spends in its matrix products (cpu/gemm.h),
// measured inside that work: the benches' "of which products" figure
// (bench/bench_training_step.cpp). A profiler gives the same split only
// with its own cost on every operator, a tenth of a training step, which
// lands outside the products and so blurs just the figure wanted here.

#include <chrono>
#include <cstdint>

namespace iai::gemm {

/// While one lives, every product that cpu/gemm.h's functions compute on
/// this thread adds its wall time (the call, dispatch included) to it.
/// Two clock reads a product; nothing when none lives. Clocks nest: each
/// counts the products made while it is the innermost.
class ProductClock {
 public:
  ProductClock() : outer_(innermost_) { innermost_ = this; }
  ~ProductClock() { innermost_ = outer_; }
  ProductClock(const ProductClock&) = delete;
  ProductClock& operator=(const ProductClock&) = delete;

  double seconds() const { return seconds_; }
  int64_t products() const { return products_; }

  /// The innermost clock on this thread, or null (one thread-local read:
  /// every product asks).
  static ProductClock* running() { return innermost_; }
  void add(double seconds) {
    seconds_ += seconds;
    ++products_;
  }

 private:
  static inline thread_local ProductClock* innermost_ = nullptr;
  ProductClock* outer_;
  double seconds_ = 0;
  int64_t products_ = 0;
};

/// One product's time, for the running clock if there is one (the gemm
/// backends open one in each of their functions).
class TimedProduct {
 public:
  TimedProduct() : clock_(ProductClock::running()) {
    if (clock_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~TimedProduct() {
    if (clock_ == nullptr) return;
    clock_->add(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count());
  }
  TimedProduct(const TimedProduct&) = delete;
  TimedProduct& operator=(const TimedProduct&) = delete;

  /// No product was made after all (the caller makes it another way).
  void discard() { clock_ = nullptr; }

 private:
  ProductClock* clock_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace iai::gemm

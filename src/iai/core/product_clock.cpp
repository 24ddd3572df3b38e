#include "iai/core/product_clock.h"

namespace iai::gemm {

namespace {
thread_local ProductClock* innermost = nullptr;
}

ProductClock::ProductClock() : outer_(innermost) { innermost = this; }

ProductClock::~ProductClock() { innermost = outer_; }

ProductClock* ProductClock::running() { return innermost; }

}  // namespace iai::gemm

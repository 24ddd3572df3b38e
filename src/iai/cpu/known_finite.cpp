#include "iai/cpu/known_finite.h"

#include <limits>

namespace iai::cpu {

namespace {

thread_local KnownFinite* t_innermost = nullptr;

/// Half the largest float: what R terms of rounding (a relative 2^-24
/// each) could add to a bound below it stays far below the overflow.
constexpr double kLimit = 0.5 * std::numeric_limits<float>::max();

}  // namespace

bool sum_of_products_finite(int64_t terms, const Magnitude& a,
                            const Magnitude& b) {
  // Each factor below the limit too: a product in bfloat16 first rounds
  // its factors, by 2^-8 at most, which must not reach an infinity.
  return a.finite && b.finite && a.max_abs < kLimit && b.max_abs < kLimit &&
         static_cast<double>(terms) * a.max_abs * b.max_abs < kLimit;
}

bool sum_finite(int64_t terms, const Magnitude& a) {
  return a.finite && static_cast<double>(terms) * a.max_abs < kLimit;
}

KnownFinite::KnownFinite() : outer_(t_innermost) {
  t_innermost = this;
}

KnownFinite::~KnownFinite() {
  t_innermost = outer_;
}

KnownFinite* KnownFinite::active() {
  return t_innermost;
}

void KnownFinite::note(const torch::Tensor& t) {
  if (t.defined()) noted_.emplace_back(t, t._version());
}

bool KnownFinite::holds(const torch::Tensor& t) const {
  if (!t.defined()) return false;
  // The latest note of t decides.
  for (auto it = noted_.rbegin(); it != noted_.rend(); ++it) {
    if (it->first.unsafeGetTensorImpl() == t.unsafeGetTensorImpl()) {
      return it->second == t._version();
    }
  }
  return false;
}

}  // namespace iai::cpu

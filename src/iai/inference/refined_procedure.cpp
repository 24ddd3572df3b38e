#include "iai/inference/refined_procedure.h"

#include "iai/core/error.h"

namespace iai::inference {

RefinedProcedureImpl::RefinedProcedureImpl(InferenceProcedure first_,
                                           InferenceProcedure then_,
                                           int64_t first_iterations_)
    : first(std::move(first_)),
      then(std::move(then_)),
      first_iterations(first_iterations_) {
  IAI_CHECK(first && then, "a refined procedure needs both stages");
  IAI_CHECK(first_iterations >= 1, "first stage iterations must be >= 1, got ",
            first_iterations);
  IAI_CHECK(first->point_estimate() == then->point_estimate(), "cannot refine ",
            first->label(), " with ", then->label(),
            ": one infers a point estimate, the other a Gaussian");
  // Stages reading different feedback (errors, then the gradient) get both.
  kind_ = combined(first->feedback_kind(), then->feedback_kind());
  register_module("first", first);
  register_module("then", then);
}

void RefinedProcedureImpl::begin_batch(int64_t batch) {
  iteration_ = 0;
  first->begin_batch(batch);
  then->begin_batch(batch);
}

Posterior RefinedProcedureImpl::update(const torch::Tensor& x,
                                       const Posterior& current,
                                       const Feedback& feedback) {
  ++iteration_;
  auto& stage = iteration_ <= first_iterations ? first : then;
  return stage->update(x, current, feedback);
}

std::string RefinedProcedureImpl::label() const {
  return first->label() + "+" + then->label();
}

}  // namespace iai::inference

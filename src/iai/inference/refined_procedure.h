#pragma once
// A hybrid procedure: an amortised first guess refined by another procedure,
// e.g. a standard encoder followed by k optimiser steps on lambda (the "SVI
// refinement" of Hjelm et al. 2016 and Krishnan et al. 2018; with training
// through the steps, the semi-amortised VAE of Kim et al. 2018). Iterations
// 1..first_iterations run `first`, the rest run `then`.

#include "iai/inference/inference_procedure.h"

namespace iai::inference {

class RefinedProcedureImpl : public InferenceProcedureImpl {
 public:
  /// `first` and `then` must agree on the posterior's form; they may read
  /// different feedback (e.g. errors, then the gradient), in which case the
  /// loop computes both for every iteration (feedback_kind() is their
  /// combination) and each stage reads its own part. first's parameters are
  /// this module's "first.*", then's "then.*".
  RefinedProcedureImpl(InferenceProcedure first, InferenceProcedure then,
                       int64_t first_iterations = 1);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return kind_; }
  /// The weighting of the stage that reads errors (first, if both do).
  ErrorWeighting error_weighting() const override {
    return reads_errors(first->feedback_kind()) ? first->error_weighting()
                                                : then->error_weighting();
  }
  bool point_estimate() const override { return first->point_estimate(); }
  void begin_batch(int64_t batch) override;
  /// "<first>+<then>", e.g. "standard+adam".
  std::string label() const override;

  InferenceProcedure first;
  InferenceProcedure then;
  int64_t first_iterations;

 private:
  FeedbackKind kind_;
  int64_t iteration_ = 0;
};

}  // namespace iai::inference

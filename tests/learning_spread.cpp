// Measures the spread of the suite's learning problems (learning_problems.h)
// over seeds and precisions, in the kernels this process runs with: one
// tab-separated line per run. scripts/learning-spread.sh runs it under
// several kernel selections (ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE) and
// summarises; the learning tests' margins come from its numbers.
//
//   iai_learning_spread [SEEDS] [float|double|both]
//                       [single|hierarchical|likelihood|all] [STEPS LR]
//
// The third argument runs that problem only (all three by default), so a
// change that touches one problem is measured without the others' time;
// STEPS and LR replace the single-level and hierarchical problems' budgets
// (learning_problems.h, kIterativeBudget and kHierarchicalBudget), to
// measure another setting.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <ATen/Parallel.h>

#include "learning_problems.h"

int main(int argc, char** argv) {
  using namespace iai::testing;
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 5;
  const std::string which = argc > 2 ? argv[2] : "both";
  const std::string only =
      argc > 3 && std::string(argv[3]) != "all" ? argv[3] : "";
  std::optional<Budget> budget;
  if (argc > 5) budget = Budget{std::atoi(argv[4]), std::atof(argv[5])};
  if (!only.empty() && only != "single" && only != "hierarchical" &&
      only != "likelihood") {
    std::fprintf(stderr, "iai_learning_spread: unknown problem '%s'\n",
                 only.c_str());
    return 2;
  }
  auto runs = [&](const char* problem) {
    return only.empty() || only == problem;
  };
  at::set_num_threads(1);
  std::vector<torch::Dtype> dtypes;
  if (which != "double") dtypes.push_back(torch::kFloat);
  if (which != "float") dtypes.push_back(torch::kDouble);
  std::printf("problem\tform\tdtype\tseed\tstart\tfirst\tlast\tz_blind\n");
  for (auto dtype : dtypes) {
    const char* dname = dtype == torch::kFloat ? "float" : "double";
    for (uint64_t s = 1; s <= static_cast<uint64_t>(seeds); ++s) {
      for (const auto& [name, options] : iterative_forms()) {
        if (!runs("single")) break;
        auto r = learn_iterative_form(options, s, dtype,
                                      budget.value_or(kIterativeBudget));
        std::printf("single\t%s\t%s\t%llu\t%.9f\t%.9f\t%.9f\t%.9f\n",
                    name.c_str(), dname, static_cast<unsigned long long>(s),
                    r.start, r.first, r.last, r.z_blind);
      }
      for (const auto& [name, options] : hierarchical_forms()) {
        if (!runs("hierarchical")) break;
        auto r = learn_hierarchical_form(options, s, dtype,
                                         budget.value_or(kHierarchicalBudget));
        std::printf("hierarchical\t%s\t%s\t%llu\t%.9f\t%.9f\t%.9f\t%.9f\n",
                    name.c_str(), dname, static_cast<unsigned long long>(s),
                    r.start, r.first, r.last, r.z_blind);
      }
      for (const char* name : {"gaussian images", "word counts"}) {
        if (!runs("likelihood")) break;
        auto r = learn_likelihood_case(name, s, dtype);
        std::printf("likelihood\t%s\t%s\t%llu\t%.9f\t%.9f\t%.9f\tnan\n", name,
                    dname, static_cast<unsigned long long>(s), r.before,
                    r.before, r.after);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

// `iai --version`: what to paste into a bug report. The first line is
// "iai <version>" (help2man reads it); then LibTorch's version and, for each
// capability, whether this build has it and whether this machine can use it.

#include "cli.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/precision.h"
#include "iai/core/torch_compat.h"
#include "iai/cpu/blas_core.h"
#include "iai/cpu/gemm.h"
#include "iai/parallel/process_group.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <cstdio>
#include <string>

#ifndef IAI_VERSION
#define IAI_VERSION "unknown"
#endif

namespace iai::cli {

namespace {

std::string row(const std::string& name, const std::string& build,
                const std::string& here) {
  char line[256];
  std::snprintf(line, sizeof line, "  %-10s %-6s %s\n", name.c_str(),
                build.c_str(), here.c_str());
  return line;
}

}  // namespace

std::string version_text() {
  std::string text = "iai " IAI_VERSION "\n";
  text += "LibTorch " + libtorch_version() + "\n";
  text += row("", "build", "this machine");

  const bool cuda_built = at::hasCUDA();
  const auto gpus = cuda_built ? torch::cuda::device_count() : 0;
  text += row("CUDA", cuda_built ? "yes" : "no",
              !cuda_built ? "no (a CPU-only LibTorch)"
              : gpus == 0 ? "no (no GPU visible)"
                          : "yes (" + std::to_string(gpus) + " GPU" +
                                (gpus == 1 ? "" : "s") + ")");

  const bool gloo = parallel::gloo_available();
  text += row("c10d/Gloo", gloo ? "yes" : "no",
              gloo ? "yes (--nproc-per-node, torchrun/Slurm jobs on the CPU)"
                   : "no (CPU jobs run one process)");
  const bool nccl = parallel::nccl_available();
  text += row("c10d/NCCL", nccl ? "yes" : "no",
              !nccl       ? "no (GPU jobs run one process)"
              : gpus == 0 ? "no (no GPU visible)"
                          : "yes (jobs on GPUs, one GPU a process)");

  std::string gemm;
  try {
    gemm = gemm::backend();
  } catch (const Error& e) {
    gemm = e.what();  // a bad IAI_GEMM
  }
  const bool onednn_built =
      gemm.find("built without oneDNN") == std::string::npos;
  text += row("oneDNN", onednn_built ? "yes" : "no",
              std::string(gemm.rfind("onednn", 0) == 0 ? "yes" : "no") +
                  " (float32 products: " + gemm + ")");

  const std::string cap = onednn_cap_below_bf16();
  const bool cpu_bf16 = cpu_has_bf16() && cap.empty();
  const bool gpu_bf16 = cuda_built && gpus > 0;
  std::string bf16 = cpu_bf16 || gpu_bf16 ? "yes (" : "no (";
  bf16 += cpu_has_bf16() ? (cap.empty() ? "CPU: AVX512-BF16 or AMX-BF16"
                                        : "CPU: held below it by " + cap)
                         : "CPU: neither AVX512-BF16 nor AMX-BF16";
  bf16 += gpu_bf16 ? "; GPU: yes)" : "; no GPU)";
  text += row("bf16", "yes", bf16);
  // The BLAS behind LibTorch's other products (and IAI_GEMM=blas): the
  // kernels OpenBLAS picked, and whether they are its generic ones here.
  const auto core = blas::openblas_core();
  std::string blas_line =
      core ? "OpenBLAS, " + *core + " kernels" : "not OpenBLAS";
  if (core && blas::is_generic_core(*core)) {
    if (const auto best = blas::best_core_for_this_cpu()) {
      blas_line += " (generic: set OPENBLAS_CORETYPE=" + *best + ")";
    }
  }
  text += row("BLAS", "", blas_line);
  // CLI11 adds the last line break.
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace iai::cli

// The extension module iai._iai: bindings over the library, no logic of
// their own. Each function calls what the CLI's command calls (apps/iai/),
// tensors cross as tensors (torch's own casters, no copies), iai::Error and
// LibTorch's errors become iai.Error with the CLI's message, and the GIL is
// released while the library computes. python/iai/__init__.py gives the
// Python-facing API and its docstrings.

#include "iai/analysis/loaded_run.h"
#include "iai/analysis/run_eval.h"
#include "iai/analysis/run_tensors.h"
#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/interrupt.h"
#include "iai/data/idx.h"
#include "iai/train/config/config_keys.h"
#include "iai/train/trainer.h"

#include <c10/util/Exception.h>
#include <torch/csrc/utils/pybind.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <memory>
#include <optional>
#include <string>

namespace py = pybind11;

namespace {

using iai::analysis::LoadedRun;

/// 0 from Python's None: "the run's own" (T, S), as the CLI's 0.
int64_t or_zero(const std::optional<int64_t>& v) {
  return v.value_or(0);
}

/// The (mu, logvar, elbo[, log_px]) a Python call returns; None for what the
/// run does not have (a point estimate's logvar).
py::object or_none(const torch::Tensor& t) {
  return t.defined() ? py::cast(t) : py::none();
}

iai::objectives::Evaluation infer(LoadedRun& run, const torch::Tensor& x,
                                  const iai::analysis::InferenceSettings& s) {
  py::gil_scoped_release release;
  return iai::analysis::infer_tensor(run, x, s);
}

/// The handlers of SIGINT and SIGTERM (Python's own) are put back however a
/// training ends: the trainer installs its own, which ask it to stop after
/// writing a checkpoint.
class KeepSignalHandlers {
 public:
  KeepSignalHandlers() {
    sigaction(SIGINT, nullptr, &int_);
    sigaction(SIGTERM, nullptr, &term_);
  }
  ~KeepSignalHandlers() {
    sigaction(SIGINT, &int_, nullptr);
    sigaction(SIGTERM, &term_, nullptr);
  }
  KeepSignalHandlers(const KeepSignalHandlers&) = delete;
  KeepSignalHandlers& operator=(const KeepSignalHandlers&) = delete;

 private:
  struct sigaction int_ {};
  struct sigaction term_ {};
};

/// run_train on the keys of a dict or TOML file (as JSON); returns the run
/// folder. Ctrl-C: KeyboardInterrupt once the checkpoint is written.
std::string train(const std::string& keys_json, const std::string& source,
                  const std::string& out) {
  auto config =
      iai::train::config_from_keys(nlohmann::json::parse(keys_json), source);
  if (!out.empty()) config.out = out;
  std::string interrupted;
  int signal = 0;
  iai::train::TrainResult result;
  {
    KeepSignalHandlers keep;
    py::gil_scoped_release release;
    try {
      result = iai::train::run_train(config);
    } catch (const iai::Error& e) {
      if (!iai::interrupt_requested()) throw;
      interrupted = e.what();
      signal = iai::interrupt_signal();
      iai::clear_interrupt();
    }
  }
  if (signal == SIGTERM) {
    // What the signal would have done without the trainer's handler (now
    // put back): the checkpoint is written.
    std::raise(SIGTERM);
  }
  if (signal != 0) {
    PyErr_SetString(PyExc_KeyboardInterrupt, interrupted.c_str());
    throw py::error_already_set();
  }
  return result.run_dir;
}

std::string evaluate(const std::string& checkpoint, int64_t iw_samples,
                     int64_t max_examples, std::optional<int64_t> iterations,
                     std::optional<int64_t> samples,
                     const std::string& data_dir, const std::string& out,
                     int64_t batch_size, int64_t grid_examples, uint64_t seed,
                     int threads, const std::string& device) {
  iai::analysis::EvalConfig c;
  c.checkpoint = checkpoint;
  c.iw_samples = iw_samples;
  c.max_examples = max_examples;
  c.iterations = or_zero(iterations);
  c.samples = or_zero(samples);
  c.data_dir = data_dir;
  c.out = out;
  c.batch_size = batch_size;
  c.grid_examples = grid_examples;
  c.runtime.seed = seed;
  c.runtime.threads = threads;
  c.runtime.device = device;
  py::gil_scoped_release release;
  return iai::analysis::run_eval(c).dump();
}

}  // namespace

PYBIND11_MODULE(_iai, m) {
  m.doc() = "iai's C++ library (see the iai package for the documented API)";

  static py::exception<iai::Error> error(m, "Error", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const iai::Error& e) {
      error(e.what());
    } catch (const c10::Error& e) {
      // As the CLI words it (apps/iai/cli.cpp).
      error(
          (std::string("error inside LibTorch: ") + e.what_without_backtrace())
              .c_str());
    } catch (const nlohmann::json::exception& e) {
      error((std::string("config: ") + e.what()).c_str());
    }
  });

  py::class_<LoadedRun, std::shared_ptr<LoadedRun>>(m, "Run")
      .def_readonly("path", &LoadedRun::path)
      .def_property_readonly("epochs",
                             [](const LoadedRun& r) { return r.header.epoch; })
      .def_property_readonly(
          "config_json",
          [](const LoadedRun& r) {
            return iai::train::to_json(r.header.config).dump();
          })
      .def_property_readonly(
          "device",
          [](const LoadedRun& r) { return iai::device_of(*r.model).str(); })
      .def_property_readonly(
          "data_dim", [](const LoadedRun& r) { return r.model->data_dim(); })
      .def_property_readonly(
          "latent_dim",
          [](const LoadedRun& r) { return r.model->latent_dim(); })
      .def_property_readonly(
          "point_estimate",
          [](const LoadedRun& r) { return r.procedure->point_estimate(); })
      .def(
          "infer",
          [](LoadedRun& r, const torch::Tensor& x,
             std::optional<int64_t> iterations, std::optional<int64_t> samples,
             std::optional<uint64_t> seed, int64_t batch_size) {
            iai::analysis::InferenceSettings s;
            s.iterations = or_zero(iterations);
            s.samples = or_zero(samples);
            s.seed = seed;
            s.batch_size = batch_size;
            const auto e = infer(r, x, s);
            return py::make_tuple(e.mu, or_none(e.logvar),
                                  e.elbo_per_iteration);
          },
          py::arg("x"), py::arg("iterations"), py::arg("samples"),
          py::arg("seed"), py::arg("batch_size"))
      .def(
          "log_px",
          [](LoadedRun& r, const torch::Tensor& x, int64_t k,
             std::optional<int64_t> iterations, std::optional<int64_t> samples,
             std::optional<uint64_t> seed, int64_t batch_size) {
            IAI_CHECK(k > 0,
                      "k, the importance samples, must be positive, got ", k);
            iai::analysis::InferenceSettings s;
            s.iterations = or_zero(iterations);
            s.samples = or_zero(samples);
            s.iw_samples = k;
            s.seed = seed;
            s.batch_size = batch_size;
            return infer(r, x, s).log_px_per_example;
          },
          py::arg("x"), py::arg("k"), py::arg("iterations"), py::arg("samples"),
          py::arg("seed"), py::arg("batch_size"))
      .def(
          "decode",
          [](LoadedRun& r, const torch::Tensor& z) {
            py::gil_scoped_release release;
            return iai::analysis::decode(r, z);
          },
          py::arg("z"))
      .def(
          "sample",
          [](LoadedRun& r, int64_t n) {
            iai::analysis::ModelSamples s;
            {
              py::gil_scoped_release release;
              s = iai::analysis::sample(r, n);
            }
            return py::make_tuple(s.x_mean, s.z);
          },
          py::arg("n"))
      .def("named_parameters", [](LoadedRun& r) {
        // The live parameters, sharing storage with the run's modules.
        py::dict out;
        for (const auto& p : r.model->named_parameters()) {
          out[py::str("model." + p.key())] = p.value();
        }
        for (const auto& p : r.procedure->named_parameters()) {
          out[py::str("inference." + p.key())] = p.value();
        }
        return out;
      });

  m.def(
      "load_run",
      [](const std::string& path, const std::string& device) {
        py::gil_scoped_release release;
        return std::make_shared<LoadedRun>(
            iai::analysis::load_run(path, iai::resolve_device(device)));
      },
      py::arg("path"), py::arg("device"));
  m.def(
      "read_idx",
      [](const std::string& path) {
        py::gil_scoped_release release;
        return iai::data::read_idx(path);
      },
      py::arg("path"));
  m.def("train", &train, py::arg("keys_json"), py::arg("source"),
        py::arg("out"));
  m.def("evaluate", &evaluate, py::arg("checkpoint"), py::arg("iw_samples"),
        py::arg("max_examples"), py::arg("iterations"), py::arg("samples"),
        py::arg("data_dir"), py::arg("out"), py::arg("batch_size"),
        py::arg("grid_examples"), py::arg("seed"), py::arg("threads"),
        py::arg("device"));
}

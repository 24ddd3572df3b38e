// The checkpoint reader: read_checkpoint_header, then load_checkpoint into
// the model, inference procedure and optimisers its config describes.
//
// A checkpoint's CRC-32 stops nearly every mutated file at the first check,
// so the first byte chooses: even, the bytes are the file as it is (the
// header and checksum checks); odd, the bytes are the payload, written with
// a correct header and checksum as iai writes it, so the fuzzer reaches the
// LibTorch archive, the saved config and the tensors behind them.
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/checkpoint/checkpoint_file.h"
#include "iai/train/config/factory.h"
#include "iai/train/optim/optimizers.h"

#include <string>

namespace {

/// Models small enough to build thousands of times a second: a crafted
/// config can ask for any size, which is a memory limit, not a finding.
bool small_enough(const iai::train::CheckpointHeader& h) {
  const auto& c = h.config;
  auto in = [](int64_t v, int64_t hi) { return v >= 1 && v <= hi; };
  bool upper = true;
  for (int64_t z : c.upper_latent) upper = upper && in(z, 64);
  return in(h.data_dim, 4096) && in(c.latent, 64) &&
         in(c.encoder_hidden, 256) && in(c.decoder_hidden, 256) &&
         in(c.upper_hidden, 256) && in(c.encoder_layers, 4) &&
         in(c.decoder_layers, 4) && c.upper_latent.size() <= 4 && upper &&
         c.deterministic >= 0 && c.deterministic <= 64;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool as_payload = (data[0] & 1) != 0;
  std::string path;
  if (as_payload) {
    path = iai::fuzz::scratch_folder() + "/checkpoint.pt";
    iai::train::write_checked_file(
        path, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    path = iai::fuzz::input_file(data + 1, size - 1, "checkpoint.pt");
  }
  try {
    const auto header = iai::train::read_checkpoint_header(path);
    if (!small_enough(header)) return 0;
    auto model = iai::train::build_model(header.config, header.data_dim);
    auto procedure =
        iai::train::build_procedure(header.config, header.data_dim, model);
    iai::train::Optimizers optimizers(model->parameters(),
                                      procedure->parameters(), 1e-3);
    iai::train::load_checkpoint(path, *model, *procedure, &optimizers.model,
                                &optimizers.procedure, /*restore_rng=*/true);
  } catch (const iai::Error&) {
  }
  return 0;
}

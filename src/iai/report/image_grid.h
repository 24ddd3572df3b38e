#pragma once
// PNG image grids (Figure 5: reconstructions over inference iterations),
// written through stb_image_write.

#include <torch/types.h>

#include <string>

namespace iai::report {

/// images is (R,C,H,W) (grey) or (R,C,3,H,W) (colour, channel planes) with
/// values in [0, 1]: R rows, C columns of
/// H x W tiles separated by `pad` pixels of mid-grey. `scale` enlarges each
/// pixel to scale x scale. Throws iai::Error naming the path on failure.
void write_image_grid(const std::string& path, const torch::Tensor& images,
                      int pad = 2, int scale = 2);

}  // namespace iai::report

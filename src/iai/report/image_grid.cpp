#include "iai/report/image_grid.h"

#include "iai/core/error.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <cstdint>
#include <vector>

namespace iai::report {

void write_image_grid(const std::string& path, const torch::Tensor& images,
                      int pad, int scale) {
  IAI_CHECK(images.dim() == 4 || (images.dim() == 5 && images.size(2) == 3),
            "image grid needs (rows, cols, H, W) or (rows, cols, 3, H, W), "
            "got ",
            images.sizes());
  IAI_CHECK(scale >= 1 && pad >= 0, "bad grid scale/pad");
  // One layout for both: (rows, cols, H, W, channels).
  auto hwc = images.dim() == 4 ? images.unsqueeze(-1)
                               : images.permute({0, 1, 3, 4, 2});
  auto tiles = (hwc.detach().to(torch::kFloat).clamp(0, 1) * 255)
                   .round()
                   .to(torch::kByte)
                   .contiguous();
  const int rows = tiles.size(0), cols = tiles.size(1);
  const int channels = tiles.size(4);
  const int h = tiles.size(2) * scale, w = tiles.size(3) * scale;
  const int width = cols * w + (cols + 1) * pad;
  const int height = rows * h + (rows + 1) * pad;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * channels,
                              128);
  auto a = tiles.accessor<uint8_t, 5>();
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int y0 = pad + r * (h + pad), x0 = pad + c * (w + pad);
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          for (int k = 0; k < channels; ++k) {
            pixels[(static_cast<size_t>(y0 + y) * width + x0 + x) * channels +
                   k] = a[r][c][y / scale][x / scale][k];
          }
        }
      }
    }
  }
  IAI_CHECK(stbi_write_png(path.c_str(), width, height, channels, pixels.data(),
                           width * channels) != 0,
            "cannot write PNG '", path, "'");
}

}  // namespace iai::report

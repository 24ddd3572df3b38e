// cpu/gemm.h through oneDNN's matmul primitive (built where dnnl.hpp and
// libdnnl are found: src/CMakeLists.txt). A primitive is made for one shape,
// stride pattern and thread count; making one costs far more than a small
// product, so each thread keeps the ones it made. Under gemm::FrozenWeights
// a weight operand is kept packed in the layout its primitive chose.
#include "iai/cpu/gemm.h"
#include "iai/cpu/own_kernels.h"
#include "iai/cpu/product_clock.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <dnnl.hpp>

#include <array>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace iai::gemm {

namespace {

/// IAI_GEMM read once; IAI_KERNELS=libtorch turns oneDNN off too.
bool onednn_chosen() {
  static const bool chosen = onednn_requested();
  const bool own = cpu::own_kernels();  // a bad IAI_KERNELS is an error too
  return chosen && own;
}

const dnnl::engine& engine() {
  static const dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

/// Strides of a [rows, cols] operand in a layout oneDNN's kernels take
/// as it is (one unit stride, the other at least the row or column
/// length), or none. A dimension of size 1 may have any stride in torch.
std::optional<std::array<int64_t, 2>> plain_strides(const torch::Tensor& t) {
  const int64_t rows = t.size(0), cols = t.size(1);
  const int64_t s0 = t.stride(0), s1 = t.stride(1);
  if ((s1 == 1 || cols == 1) && (s0 >= cols || rows == 1)) {
    return std::array<int64_t, 2>{rows == 1 ? cols : s0, 1};  // row-major
  }
  if ((s0 == 1 || rows == 1) && (s1 >= rows || cols == 1)) {
    return std::array<int64_t, 2>{1, cols == 1 ? rows : s1};  // column-major
  }
  return std::nullopt;
}

/// M, K, N, a's and b's strides, bias or not, ELU or not, threads, c's row
/// stride, b packed (in the primitive's own layout) or plain.
using Key = std::array<int64_t, 12>;

struct KeyHash {
  template <size_t N>
  size_t operator()(const std::array<int64_t, N>& key) const {
    size_t h = 0;
    for (int64_t v : key) h = h * 1000003u ^ std::hash<int64_t>()(v);
    return h;
  }
};

struct Product {
  dnnl::matmul primitive;
  dnnl::memory::desc a, b, bias, c;
  dnnl::memory::desc b_plain;  // b as the caller holds it (b itself if plain)
};

dnnl::memory::desc matrix(int64_t rows, int64_t cols,
                          const std::array<int64_t, 2>& strides) {
  return dnnl::memory::desc({rows, cols}, dnnl::memory::data_type::f32,
                            dnnl::memory::dims{strides[0], strides[1]});
}

/// a b (+ bias; an empty desc: none) into c, then ELU (alpha = 1) on each
/// tile of c while it is in registers when `elu`, as this oneDNN version
/// spells it.
dnnl::matmul::primitive_desc describe(const dnnl::memory::desc& a,
                                      const dnnl::memory::desc& b,
                                      const dnnl::memory::desc& bias,
                                      const dnnl::memory::desc& c,
                                      bool elu = false) {
  dnnl::primitive_attr attr;
  if (elu) {
    dnnl::post_ops ops;
#if DNNL_VERSION_MAJOR >= 3
    ops.append_eltwise(dnnl::algorithm::eltwise_elu, 1.0f, 0.0f);
#else
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_elu, 1.0f, 0.0f);
#endif
    attr.set_post_ops(ops);
  }
#if DNNL_VERSION_MAJOR >= 3
  return dnnl::matmul::primitive_desc(engine(), a, b, bias, c, attr);
#else
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, bias, c), attr,
                                      engine());
#endif
}

/// The primitive for `key`, made on first use; null where oneDNN has none
/// (the caller then uses LibTorch).
const Product* product(const Key& key) {
  thread_local std::unordered_map<Key, std::unique_ptr<Product>, KeyHash> made;
  auto it = made.find(key);
  if (it != made.end()) return it->second.get();
  // Shapes vary only with the last, shorter batch of an epoch or an
  // evaluation; a bound keeps a long run of odd shapes from growing it.
  if (made.size() >= 512) made.clear();
  const auto [m, k, n, a0, a1, b0, b1, with_bias, elu, threads, c0, packed] =
      key;
  (void)threads;  // in the key: a primitive splits its work for the count
  std::unique_ptr<Product> made_product;
  try {
    auto p = std::make_unique<Product>();
    p->a = matrix(m, k, {a0, a1});
    p->b_plain = matrix(k, n, {b0, b1});
    p->b = packed ? dnnl::memory::desc({k, n}, dnnl::memory::data_type::f32,
                                       dnnl::memory::format_tag::any)
                  : p->b_plain;
    p->c = matrix(m, n, {c0, 1});
    if (with_bias) p->bias = matrix(1, n, {n, 1});
    const auto pd = describe(p->a, p->b, p->bias, p->c, elu != 0);
    p->b = pd.weights_desc();  // the layout oneDNN chose, where it chose
    p->primitive = dnnl::matmul(pd);
    made_product = std::move(p);
  } catch (const dnnl::error&) {
    made_product = nullptr;  // LibTorch's product for this key from now on
  }
  return made.emplace(key, std::move(made_product)).first->second.get();
}

/// A weight operand's packed copies (gemm::FrozenWeights), named by b's
/// address, K, N, strides and the thread count; its uses are counted in one
/// scope and one version of the weight.
struct PackedWeight {
  uint64_t scope = 0;  // the number of the scope its uses are counted in
  int64_t version = -1;
  int64_t uses = 0;
  uint64_t last_used = 0;  // the newest scope's number then
  struct Copy {
    dnnl::memory memory;  // in the layout of a primitive's weights desc
    uint64_t scope;
    int64_t version;
  };
  std::vector<Copy> copies;  // one a layout (products of other M may differ)
};
using PackedKey = std::array<int64_t, 6>;

thread_local std::unordered_map<PackedKey, PackedWeight, KeyHash>
    packed_weights;

/// b's record, and in `scope` the FrozenWeights scope in force that holds
/// b, its use in this product counted; else null.
PackedWeight* counted_use(const torch::Tensor& b,
                          const std::array<int64_t, 2>& strides,
                          const FrozenWeights*& scope) {
  const torch::Tensor* weight = FrozenWeights::holding(b, scope);
  if (weight == nullptr) return nullptr;
  // Copies no product has used in the last two scopes made (a model since
  // freed) go.
  const uint64_t newest = FrozenWeights::newest();
  thread_local uint64_t pruned_at = 0;
  if (pruned_at != newest) {
    pruned_at = newest;
    for (auto it = packed_weights.begin(); it != packed_weights.end();) {
      it = it->second.last_used + 2 < newest ? packed_weights.erase(it)
                                             : std::next(it);
    }
  }
  PackedWeight& w = packed_weights[PackedKey{
      reinterpret_cast<int64_t>(b.data_ptr()), b.size(0), b.size(1), strides[0],
      strides[1], at::get_num_threads()}];
  if (w.scope != scope->number() || w.version != weight->_version()) {
    w.scope = scope->number();
    w.version = weight->_version();
    w.uses = 0;
  }
  ++w.uses;
  w.last_used = newest;
  return &w;
}

/// b as `p` takes it: its packed copy in p's layout, reordered from b when
/// the copy is of another scope or version.
dnnl::memory packed_copy(PackedWeight& w, const Product& p,
                         const torch::Tensor& b) {
  const dnnl::engine& cpu = engine();
  PackedWeight::Copy* copy = nullptr;
  for (auto& c : w.copies) {
    if (c.memory.get_desc() == p.b) copy = &c;
  }
  if (copy == nullptr) {
    w.copies.push_back({dnnl::memory(p.b, cpu), 0, -1});
    copy = &w.copies.back();
  }
  if (copy->scope != w.scope || copy->version != w.version) {
    dnnl::memory plain(p.b_plain, cpu, b.data_ptr());
    thread_local dnnl::stream stream(cpu);
    dnnl::reorder(plain, copy->memory).execute(stream, plain, copy->memory);
    stream.wait();
    copy->scope = w.scope;
    copy->version = w.version;
  }
  return copy->memory;
}

bool onednn_can_take(const torch::Tensor& bias, const torch::Tensor& a,
                     const torch::Tensor& b) {
  if (!onednn_chosen()) return false;
  const auto fits = [](const torch::Tensor& t) {
    return t.device().is_cpu() && t.layout() == torch::kStrided &&
           t.scalar_type() == torch::kFloat;
  };
  if (!fits(a) || !fits(b) || a.dim() != 2 || b.dim() != 2 ||
      a.size(1) != b.size(0) || a.numel() == 0 || b.numel() == 0) {
    return false;
  }
  if (bias.defined() &&
      (!fits(bias) || bias.dim() != 1 || bias.size(0) != b.size(1))) {
    return false;
  }
  if (torch::GradMode::is_enabled() &&
      (a.requires_grad() || b.requires_grad() ||
       (bias.defined() && bias.requires_grad()))) {
    return false;  // the product must be differentiable: at::mm is
  }
  return true;
}

torch::Tensor blas(const torch::Tensor& bias, const torch::Tensor& a,
                   const torch::Tensor& b) {
  return bias.defined() ? at::addmm(bias, a, b) : at::mm(a, b);
}

/// bias + a b (ELU of it when `elu`) through oneDNN, into `out` when
/// defined (rows unit-stride, at least n apart) or a new [m, n] tensor;
/// undefined where oneDNN makes no primitive for this shape.
torch::Tensor onednn_product(const torch::Tensor& bias, torch::Tensor a,
                             torch::Tensor b, bool elu = false,
                             const torch::Tensor& out = {}) {
  auto a_strides = plain_strides(a);
  if (!a_strides) {
    a = a.contiguous();
    a_strides = plain_strides(a);
  }
  auto b_strides = plain_strides(b);
  if (!b_strides) {
    b = b.contiguous();
    b_strides = plain_strides(b);
  }
  const torch::Tensor bias_row = bias.defined() ? bias.contiguous() : bias;
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  Key key{m,
          k,
          n,
          (*a_strides)[0],
          (*a_strides)[1],
          (*b_strides)[0],
          (*b_strides)[1],
          bias.defined() ? 1 : 0,
          elu ? 1 : 0,
          at::get_num_threads(),
          out.defined() ? out.stride(0) : n,
          0};
  // A frozen weight's first use in a scope takes it plain: packing pays
  // only when it is used again.
  const FrozenWeights* scope = nullptr;
  PackedWeight* packed = counted_use(b, *b_strides, scope);
  const Product* p = nullptr;
  if (packed != nullptr && packed->uses >= 2) {
    key.back() = 1;
    p = product(key);
    if (p == nullptr) key.back() = 0;  // no packed kernel: plain, as before
  }
  if (p == nullptr) p = product(key);
  if (p == nullptr) return torch::Tensor();
  // Named in profiles (iai_device_bench --profile) as LibTorch's are.
  RECORD_FUNCTION(elu              ? "iai::onednn_addmm_elu"
                  : bias.defined() ? "iai::onednn_addmm"
                                   : "iai::onednn_mm",
                  std::vector<c10::IValue>());
  // Where oneDNN chose b's own layout anyway, b is taken as it is.
  const bool take_packed = key.back() == 1 && p->b != p->b_plain;
  if (take_packed) scope->count_packed_product();
  torch::Tensor c = out.defined() ? out : at::empty({m, n}, a.options());
  const dnnl::engine& cpu = engine();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(p->a, cpu, a.data_ptr())},
      {DNNL_ARG_WEIGHTS, take_packed ? packed_copy(*packed, *p, b)
                                     : dnnl::memory(p->b, cpu, b.data_ptr())},
      {DNNL_ARG_DST, dnnl::memory(p->c, cpu, c.data_ptr())}};
  if (bias.defined()) {
    args.emplace(DNNL_ARG_BIAS,
                 dnnl::memory(p->bias, cpu, bias_row.data_ptr()));
  }
  thread_local dnnl::stream stream(cpu);
  p->primitive.execute(stream, args);
  stream.wait();
  return c;
}

}  // namespace

bool uses_onednn() {
  return onednn_chosen();
}

std::string backend() {
  if (!onednn_chosen()) {
    return cpu::own_kernels() ? "blas (IAI_GEMM=blas)"
                              : "blas (IAI_KERNELS=libtorch)";
  }
  // The implementation oneDNN picks for a layer of the paper's MNIST model
  // (e.g. "brg:avx512_core", or "gemm:jit" on an older CPU).
  try {
    const auto pd =
        describe(matrix(64, 512, {512, 1}), matrix(512, 512, {1, 512}),
                 dnnl::memory::desc(), matrix(64, 512, {512, 1}));
    return std::string("onednn (") + pd.impl_info_str() + ")";
  } catch (const dnnl::error& e) {
    return std::string("onednn (no matmul here: ") + e.what() + ")";
  }
}

torch::Tensor mm(const torch::Tensor& a, const torch::Tensor& b) {
  TimedProduct timed;
  if (!onednn_can_take(torch::Tensor(), a, b)) return at::mm(a, b);
  torch::Tensor c = onednn_product(torch::Tensor(), a, b);
  return c.defined() ? c : at::mm(a, b);
}

void mm_into(const torch::Tensor& out, const torch::Tensor& a,
             const torch::Tensor& b) {
  TimedProduct timed;
  // oneDNN writes rows at any stride (its gemm:jit kernel for a stride
  // wider than the block: measured as fast as brgemm into a fresh matrix).
  const bool rows_fit =
      out.dim() == 2 && out.size(0) == a.size(0) && out.size(1) == b.size(1) &&
      out.stride(1) == 1 && out.stride(0) >= out.size(1) &&
      out.scalar_type() == torch::kFloat && out.device().is_cpu();
  if (rows_fit && onednn_can_take(torch::Tensor(), a, b) &&
      onednn_product(torch::Tensor(), a, b, false, out).defined()) {
    return;
  }
  out.copy_(at::mm(a, b));
}

torch::Tensor addmm(const torch::Tensor& bias, const torch::Tensor& a,
                    const torch::Tensor& b) {
  TimedProduct timed;
  if (!onednn_can_take(bias, a, b)) return blas(bias, a, b);
  torch::Tensor c = onednn_product(bias, a, b);
  return c.defined() ? c : blas(bias, a, b);
}

torch::Tensor addmm_elu(const torch::Tensor& bias, const torch::Tensor& a,
                        const torch::Tensor& b) {
  // onednn_can_take refuses operands that need a gradient.
  if (!onednn_can_take(bias, a, b)) return torch::Tensor();
  TimedProduct timed;
  torch::Tensor y = onednn_product(bias, a, b, /*elu=*/true);
  if (!y.defined()) timed.discard();  // the caller's addmm counts it
  return y;
}

}  // namespace iai::gemm

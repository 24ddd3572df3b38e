#include "iai/data/matlab.h"

#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "iai/core/error.h"

namespace iai::data {
namespace {

namespace fs = std::filesystem;

struct MatClose {
  void operator()(mat_t* file) const { Mat_Close(file); }
};
struct VarFree {
  void operator()(matvar_t* var) const { Mat_VarFree(var); }
};
using MatFile = std::unique_ptr<mat_t, MatClose>;
using MatVar = std::unique_ptr<matvar_t, VarFree>;

// matio reports problems through a log function (stderr by default); they
// are kept here instead, to be quoted in our own messages. Some failures,
// such as a corrupt zlib stream, are only logged: matio still hands back a
// variable, so a logged error or critical message marks the read as failed.
thread_local std::string matio_said;
thread_local bool matio_failed = false;

void keep_matio_message(int level, char* text) {
  matio_said = text ? text : "";
  if (level == MATIO_LOG_LEVEL_ERROR || level == (MATIO_LOG_LEVEL_CRITICAL)) {
    matio_failed = true;
  }
}

void route_matio_messages() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("iai", keep_matio_message); });
}

void forget_matio_messages() {
  matio_said.clear();
  matio_failed = false;
}

// " (matio: ...)" when matio said something since the last call, else "".
std::string matio_detail() {
  std::string text;
  if (!matio_said.empty()) text = " (matio: " + matio_said + ")";
  forget_matio_messages();
  return text;
}

const char* class_name(matio_classes c) {
  switch (c) {
    case MAT_C_EMPTY:
      return "empty";
    case MAT_C_CELL:
      return "cell";
    case MAT_C_STRUCT:
      return "struct";
    case MAT_C_OBJECT:
      return "object";
    case MAT_C_CHAR:
      return "char";
    case MAT_C_SPARSE:
      return "sparse";
    case MAT_C_DOUBLE:
      return "double";
    case MAT_C_SINGLE:
      return "single";
    case MAT_C_INT8:
      return "int8";
    case MAT_C_UINT8:
      return "uint8";
    case MAT_C_INT16:
      return "int16";
    case MAT_C_UINT16:
      return "uint16";
    case MAT_C_INT32:
      return "int32";
    case MAT_C_UINT32:
      return "uint32";
    case MAT_C_INT64:
      return "int64";
    case MAT_C_UINT64:
      return "uint64";
    case MAT_C_FUNCTION:
      return "function";
    case MAT_C_OPAQUE:
      return "opaque";
  }
  return "unknown";
}

std::string dims_text(const matvar_t& var) {
  std::string text;
  for (int i = 0; i < var.rank; ++i) {
    if (i > 0) text += "x";
    text += std::to_string(var.dims[i]);
  }
  return text.empty() ? "0" : text;
}

// "class dims", e.g. "double 784x24345", for messages.
std::string describe(const matvar_t& var) {
  return message(var.isComplex ? "complex " : "", class_name(var.class_type),
                 " ", dims_text(var));
}

uint32_t read_u32(const unsigned char* p, bool swap) {
  uint32_t value;
  std::memcpy(&value, p, 4);
  return swap ? __builtin_bswap32(value) : value;
}

constexpr uint32_t kMiMatrix = 14;
constexpr uint32_t kMiCompressed = 15;
// matio allocates a variable's dimensions and name as its header declares
// them, so a corrupt count there asks for gigabytes (found by
// fuzz/mat_fuzz.cpp: 7.9 GB for one flipped byte). No real variable has
// more dimensions or a longer name.
constexpr uint32_t kMaxDimsBytes = 4 * 64;
constexpr uint32_t kMaxNameBytes = 4096;

// ------------------------------------------------------ the variables' heads
//
// matio's header pass (Mat_VarReadInfo, Mat_GetDir) reads every variable's
// head and walks into cell arrays and structs, and at each level allocates
// what the file declares: the dimensions and the name of every variable, a
// pointer per cell element, a name per struct field (the field-name length
// times the number of fields), a pointer per field of each element. So the
// walk below goes where matio goes, one pass over each variable, and checks
// each count against the bytes of the element that must hold it: an element
// fits in its parent, each nested element takes at least its 8-byte tag,
// names and dimensions fit in their element. Every check stands for an
// allocation the fuzzer (fuzz/mat_fuzz.cpp) made matio attempt; the
// regression inputs are in fuzz/regressions/ and tests/data_matlab_test.cpp.
// Real files (MATLAB's, matio's) nest every element exactly in its parent,
// tag dimensions miINT32 in the unpacked form and give fields and cells no
// names, so nothing refused here is a real file.

// Nesting deeper than this is refused: matio recurses once per level.
constexpr int kMaxDepth = 64;

// A name from the file as messages quote it: '?' for a byte that is no
// printable ASCII (a corrupt file's names are any bytes).
std::string printable(std::string text) {
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return text;
}

// Bytes read in order from an element's data, from the file itself or
// inflated from a miCOMPRESSED element. read() false: the data ends first
// (truncated or corrupt stream), which matio reports itself.
class ElementSource {
 public:
  virtual ~ElementSource() = default;
  virtual bool read(unsigned char* out, size_t n) = 0;
  virtual bool skip(uintmax_t n) = 0;
};

class FileSource final : public ElementSource {
 public:
  explicit FileSource(std::ifstream& in) : in_(in) {}
  bool read(unsigned char* out, size_t n) override {
    return static_cast<bool>(in_.read(reinterpret_cast<char*>(out),
                                      static_cast<std::streamsize>(n)));
  }
  // The elements' sizes were checked against the file's before the walk.
  bool skip(uintmax_t n) override {
    return static_cast<bool>(
        in_.seekg(static_cast<std::streamoff>(n), std::ios::cur));
  }

 private:
  std::ifstream& in_;
};

class InflateSource final : public ElementSource {
 public:
  // `bytes` compressed bytes of `in`, from where it stands.
  InflateSource(std::ifstream& in, uintmax_t bytes) : in_(in), left_(bytes) {
    ok_ = started_ = inflateInit(&z_) == Z_OK;
  }
  ~InflateSource() override {
    if (started_) inflateEnd(&z_);
  }
  InflateSource(const InflateSource&) = delete;
  InflateSource& operator=(const InflateSource&) = delete;

  bool read(unsigned char* out, size_t n) override {
    if (!ok_) return false;
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(n);
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0) {
        input_.resize(65536);
        const size_t take = std::min<uintmax_t>(left_, input_.size());
        if (take == 0 ||
            !in_.read(input_.data(), static_cast<std::streamsize>(take))) {
          ok_ = false;
          return false;
        }
        left_ -= take;
        z_.next_in = reinterpret_cast<Bytef*>(input_.data());
        z_.avail_in = static_cast<uInt>(take);
      }
      const int status = inflate(&z_, Z_NO_FLUSH);
      // The stream's end, or a wrong checksum after its data (whose data
      // matio reads all the same): what came out is all there is.
      if (status != Z_OK && !(status == Z_BUF_ERROR && z_.avail_in == 0)) {
        ok_ = false;
        return z_.avail_out == 0;
      }
    }
    return true;
  }
  bool skip(uintmax_t n) override {
    unsigned char scratch[4096];
    while (n > 0) {
      const size_t step = std::min<uintmax_t>(n, sizeof scratch);
      if (!read(scratch, step)) return false;
      n -= step;
    }
    return true;
  }

 private:
  std::ifstream& in_;
  uintmax_t left_;
  z_stream z_{};
  bool started_ = false, ok_ = false;
  std::vector<char> input_;  // sized at the first read
};

// One walk over a top-level variable, for its messages.
struct Walk {
  ElementSource& source;
  bool swap;
  const std::string& path;
  const std::string& what;
  int element;           // the variable's place in the file, from 1
  std::string variable;  // "variable 2 ('names')"

  // A corrupt element: one error naming the file, the variable and where
  // in it (e.g. "names{3}(1).a").
  [[noreturn]] void refuse(const std::string& at,
                           const std::string& detail) const {
    throw Error(message(what, " file '", path, "': ", variable,
                        at.empty() ? "" : ", element " + at, ": ", detail,
                        "; the file is corrupt"));
  }

  bool read_words(uint32_t* words, size_t count) {
    unsigned char bytes[4 * (kMaxDimsBytes / 4 + 1)];
    if (!source.read(bytes, 4 * count)) return false;
    for (size_t i = 0; i < count; ++i) words[i] = read_u32(bytes + 4 * i, swap);
    return true;
  }

  // One miMATRIX element's data, `bytes` long, at `at` inside the variable
  // (`field` when it is a struct's field, whose name matio reads as a bare
  // tag). Returns false when the data ends before the walk does (matio
  // then fails on its own); throws on a count the element cannot hold.
  /// What a miMATRIX element's head says.
  struct Head {
    uint32_t class_type = 0;
    uintmax_t count = 1;  // elements (the product of the dimensions)
    std::string shape;    // "3x1"
    std::string name;
  };

  // The array flags and the dimensions of an element of `bytes` bytes;
  // `left` becomes what remains of it.
  bool read_flags_and_dims(uintmax_t bytes, uintmax_t& left,
                           const std::string& at, Head& h) {
    // Array flags' tag and flags, the dimensions' tag.
    uint32_t head[6];
    if (bytes < sizeof head) {
      refuse(at, message("an element of ", bytes,
                         " bytes, too short for its array flags and "
                         "dimensions (24 bytes)"));
    }
    if (!read_words(head, 6)) return false;
    left = bytes - sizeof head;
    h.class_type = head[2] & 0xff;
    const uint32_t dims_bytes = head[5];
    // matio reads the tag's second word as the byte count whatever the
    // first says (a packed-looking tag made it calloc 4.9 GB), and when the
    // type is no miINT32 it reads the name's tag where the dimensions stand
    // (a name of 1.5 GB): only the unpacked miINT32 tag is read as matio
    // reads it.
    if ((head[4] >> 16) != 0) {
      refuse(at, message("dimensions in a packed tag (type ", head[4] & 0xffff,
                         ", ", head[4] >> 16,
                         " bytes), which matio reads as unpacked"));
    }
    if (head[4] != 5) {
      refuse(at, message("dimensions tagged as type ", head[4],
                         ", not miINT32 (5)"));
    }
    if (dims_bytes > kMaxDimsBytes) {
      refuse(at, message(dims_bytes, " bytes of dimensions (at most ",
                         kMaxDimsBytes / 4, " dimensions)"));
    }
    const uintmax_t dims_padded = (uintmax_t{dims_bytes} + 7) / 8 * 8;
    if (dims_padded > left) {
      refuse(at, message(dims_bytes, " bytes of dimensions in the ", left,
                         " bytes left of its element"));
    }
    uint32_t dims[kMaxDimsBytes / 4 + 1];
    if (!read_words(dims, dims_bytes / 4)) return false;
    if (!source.skip(dims_padded - dims_bytes / 4 * 4)) return false;
    left -= dims_padded;
    uintmax_t& count = h.count;
    std::string& shape = h.shape;
    count = 1;
    for (uint32_t i = 0; i < dims_bytes / 4; ++i) {
      const uintmax_t d = dims[i];
      count = d == 0 ? 0 : count > UINTMAX_MAX / d ? UINTMAX_MAX : count * d;
      shape += (i ? "x" : "") + std::to_string(d);
    }
    return true;
  }

  // The element's name (a struct's field has none of its own).
  bool read_name(uintmax_t& left, const std::string& at, bool field, Head& h) {
    // The name: a tag, then (miINT8, unpacked) its characters; packed, up
    // to 4 characters in the tag's second word.
    if (left < 8) {
      refuse(at, message("no room for its name's tag (", left,
                         " bytes left of its element)"));
    }
    unsigned char name_tag[8];
    if (!source.read(name_tag, sizeof name_tag)) return false;
    left -= 8;
    const uint32_t name_type = read_u32(name_tag, swap);
    const uint32_t name_bytes = read_u32(name_tag + 4, swap);
    std::string& name = h.name;
    if ((name_type >> 16) == 0 && name_bytes > kMaxNameBytes) {
      refuse(at, message("a name of ", name_bytes, " bytes (at most ",
                         kMaxNameBytes, ")"));
    }
    if (name_type == 1 && name_bytes > 0) {
      if (field) {
        refuse(at,
               message("a struct field with a name of its own (", name_bytes,
                       " bytes; fields take their names "
                       "from the struct)"));
      }
      const uintmax_t padded = (uintmax_t{name_bytes} + 7) / 8 * 8;
      if (name_bytes > kMaxNameBytes || padded > left) {
        refuse(at, message("a name of ", name_bytes, " bytes in the ", left,
                           " bytes left of its element"));
      }
      std::string chars(padded, '\0');
      if (!source.read(reinterpret_cast<unsigned char*>(chars.data()),
                       chars.size())) {
        return false;
      }
      chars.resize(std::min<size_t>(name_bytes, chars.find('\0')));
      name = printable(chars);
      left -= padded;
    } else if ((name_type & 0xffff) == 1 && (name_type >> 16) <= 4) {
      name.assign(reinterpret_cast<const char*>(name_tag + 4), name_type >> 16);
      name = printable(name.substr(0, name.find('\0')));
    }
    return true;
  }

  // A cell array's elements, each nested in the `left` bytes.
  bool cells(const Head& h, uintmax_t& left, int depth, const std::string& at) {
    const uintmax_t count = h.count;
    const std::string& shape = h.shape;
    const std::string& name = h.name;
    if (count > left / 8) {
      refuse(at, message("a cell array of ", shape, " (", count,
                         " elements) in the ", left,
                         " bytes left of its "
                         "element (at least 8 a nested element)"));
    }
    for (uintmax_t i = 0; i < count; ++i) {
      const std::string inner =
          message(at.empty() ? name : at, "{", i + 1, "}");
      if (!nested(left, depth, inner, /*field=*/false)) return false;
    }
    return true;
  }

  // A struct array's field names, then each element's fields, nested in the
  // `left` bytes.
  bool struct_fields(const Head& h, uintmax_t& left, int depth,
                     const std::string& at) {
    const uintmax_t count = h.count;
    const std::string& shape = h.shape;
    const std::string& name = h.name;
    // The field names: the length of each (a packed miINT32, which matio
    // requires to be positive), then nfields names of that length.
    uint32_t tags[4];
    if (left < 16) {
      refuse(at, message("a struct with no room for its field names' tags (",
                         left, " bytes left of its element)"));
    }
    if (!read_words(tags, 2)) return false;
    if ((tags[0] & 0xffff) != 5 || tags[1] == 0) {
      refuse(at, message("a struct whose field-name length is tagged as "
                         "type ",
                         tags[0] & 0xffff, " with value ", tags[1],
                         " (a positive miINT32 in a real file)"));
    }
    const uint32_t name_length = tags[1];
    if (!read_words(tags + 2, 2)) return false;
    left -= 16;
    const uint32_t names_bytes = tags[3];
    if (tags[2] != 1 || names_bytes % name_length != 0) {
      refuse(at, message("a struct whose field names (", names_bytes,
                         " bytes of type ", tags[2],
                         ") are not miINT8 "
                         "names of ",
                         name_length, " bytes each"));
    }
    const uintmax_t fields = names_bytes / name_length;
    const uintmax_t names_padded = (uintmax_t{names_bytes} + 7) / 8 * 8;
    if (names_padded > left) {
      refuse(at,
             message("a struct of ", fields, " fields of names ", name_length,
                     " bytes long (", names_bytes, " bytes) in the ", left,
                     " bytes left of its element"));
    }
    std::string names(names_padded, '\0');
    if (!source.read(reinterpret_cast<unsigned char*>(names.data()),
                     names.size())) {
      return false;
    }
    left -= names_padded;
    const uintmax_t members = fields == 0                    ? 0
                              : count > UINTMAX_MAX / fields ? UINTMAX_MAX
                                                             : count * fields;
    if (members > left / 8) {
      refuse(at, message("a struct array of ", shape, " (", count,
                         " elements) with ", fields, " fields (", members,
                         " values) in the ", left,
                         " bytes left of its "
                         "element (at least 8 a value)"));
    }
    for (uintmax_t i = 0; i < members; ++i) {
      std::string field_name = names.substr(
          static_cast<size_t>(i % fields * name_length), name_length);
      field_name = printable(field_name.substr(0, field_name.find('\0')));
      const std::string inner = message(at.empty() ? name : at, "(",
                                        i / fields + 1, ").", field_name);
      if (!nested(left, depth, inner, /*field=*/true)) return false;
    }
    return true;
  }

  bool matrix(uintmax_t bytes, int depth, const std::string& at, bool field) {
    if (depth > kMaxDepth) {
      refuse(at, message("cells and structs nested more than ", kMaxDepth,
                         " deep"));
    }
    Head h;
    uintmax_t left = 0;
    if (!read_flags_and_dims(bytes, left, at, h)) return false;
    if (!read_name(left, at, field, h)) return false;
    if (depth == 0 && !h.name.empty()) {
      variable = message("variable ", element, " ('", h.name, "')");
    }
    if (h.class_type == MAT_C_CELL) {
      if (!cells(h, left, depth, at)) return false;
    } else if (h.class_type == MAT_C_STRUCT) {
      if (!struct_fields(h, left, depth, at)) return false;
    } else if (depth == 0) {
      // matio's header pass reads a function handle's contents as
      // variables of their own, trusting their counts; no data set holds
      // one. Any other top-level array's data is read by Mat_VarRead, once
      // check_values_fit has bounded it.
      IAI_CHECK(h.class_type != MAT_C_FUNCTION, what, " file '", path,
                "': ", variable, " is a MATLAB function handle; iai reads ",
                "arrays only (and matio's reader of function handles trusts "
                "the counts in the file)");
      return true;
    } else {
      // Any other class: matio skips its data in the header pass.
      return source.skip(left);
    }
    if (left != 0) {
      // A cell array or a struct here: a class matio names (a corrupt byte
      // is no matio_classes value to convert).
      const char* cls = h.class_type == MAT_C_CELL ? "cell" : "struct";
      refuse(at, message("a ", cls, " whose elements end ", left,
                         " bytes before it does"));
    }
    return true;
  }

  // One element nested in a cell or struct: its tag, then its data, which
  // must fit in the `left` bytes of its parent (taken from `left`).
  bool nested(uintmax_t& left, int depth, const std::string& at, bool field) {
    uint32_t tag[2];
    if (left < 8) {
      refuse(at, message("no room for its tag (", left,
                         " bytes left of its parent)"));
    }
    if (!read_words(tag, 2)) return false;
    left -= 8;
    if (tag[1] == 0) return true;  // an empty element
    if (tag[0] != kMiMatrix) {
      refuse(at, message("an element of type ", tag[0], ", not miMATRIX (14)"));
    }
    if (tag[1] > left) {
      refuse(at, message("an element of ", tag[1], " bytes in the ", left,
                         " bytes left of its parent"));
    }
    left -= tag[1];
    return matrix(tag[1], depth + 1, at, field);
  }
};

// Walks top-level variable `element` (at `in`'s position, its element's
// `bytes` of data, inflated first when `compressed`), checking every count
// matio allocates by (see Walk).
void walk_variable(std::ifstream& in, bool compressed, uint32_t bytes,
                   bool swap, const std::string& path, const std::string& what,
                   int element) {
  FileSource file(in);
  InflateSource inflated(in, bytes);
  ElementSource& source =
      compressed ? static_cast<ElementSource&>(inflated) : file;
  Walk walk{source, swap, path, what, element, message("variable ", element)};
  uintmax_t data_bytes = bytes;
  if (compressed) {
    // The inflated data is a miMATRIX element of its own.
    unsigned char tag[8];
    if (!source.read(tag, sizeof tag) || read_u32(tag, swap) != kMiMatrix) {
      return;  // not a variable: matio refuses it
    }
    data_bytes = read_u32(tag + 4, swap);
    // Deflate packs at most 1032 bytes into one.
    if (data_bytes > uintmax_t{bytes} * 1032) {
      walk.refuse("", message("an inflated element of ", data_bytes,
                              " bytes, more than its ", bytes,
                              " compressed "
                              "bytes can hold (at most 1032 a byte)"));
    }
  }
  walk.matrix(data_bytes, 0, "", /*field=*/false);
}

// matio reads a MAT v5 variable cut short by the end of the file without
// complaint, so check the file's layout first: after the 128-byte header,
// each top-level element is an 8-byte tag (type, byte count) and its data,
// and every element must end within the file. Each variable is then walked
// (walk_variable). v4 files are checked by check_mat4_complete; v7.3
// (HDF5) files are left to matio and HDF5, but for check_values_fit.
void check_mat4_complete(const std::string& path, const std::string& what,
                         uintmax_t size);

void check_mat5_complete(const std::string& path, const std::string& what,
                         uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[128];
  if (size < sizeof header ||
      !in.read(reinterpret_cast<char*>(header), sizeof header)) {
    check_mat4_complete(path, what, size);
    return;
  }
  const bool little = header[126] == 'I' && header[127] == 'M';
  const bool big = header[126] == 'M' && header[127] == 'I';
  if (!little && !big) {
    check_mat4_complete(path, what, size);
    return;
  }
  const bool swap = big;  // the tags below are read as little-endian
  const unsigned version = little ? header[124] | (header[125] << 8)
                                  : (header[124] << 8) | header[125];
  if (version == 0x0200) return;  // v7.3, an HDF5 file
  if (version != 0x0100) {
    // matio reads any other version as MAT v4 (tried on 1.5.23: the
    // fuzzer's v4 finding with "IM" and version 0x0300 in this header
    // made the same 1.8 GB allocation).
    check_mat4_complete(path, what, size);
    return;
  }
  uintmax_t offset = sizeof header;
  for (int element = 1; offset < size; ++element) {
    unsigned char tag[8];
    in.seekg(static_cast<std::streamoff>(offset));
    IAI_CHECK(size - offset >= sizeof tag &&
                  in.read(reinterpret_cast<char*>(tag), sizeof tag),
              what, " file '", path,
              "': truncated: the file ends inside the "
              "header of variable ",
              element, " (", size - offset, " bytes left at offset ", offset,
              ")");
    const uint32_t bytes = read_u32(tag + 4, swap);
    IAI_CHECK(bytes <= size - offset - sizeof tag, what, " file '", path,
              "': truncated: variable ", element, " (at offset ", offset,
              ") declares ", bytes, " bytes but the file ends after ",
              size - offset - sizeof tag, " of them");
    const uint32_t type = read_u32(tag, swap);
    if (type == kMiMatrix || type == kMiCompressed) {
      walk_variable(in, type == kMiCompressed, bytes, swap, path, what,
                    element);
      in.clear();
    }
    offset += sizeof tag + bytes;
  }
}

// What matio does with a file that is not v5 or v7.3: reads it as MAT v4,
// a run of variables, each a 20-byte header (type, rows, columns, imaginary
// flag, name length), its name and rows x columns values, allocating what
// the header declares (found by fuzz/mat_fuzz.cpp: a 567-byte file took
// 2 GB and 26 s). So each variable must fit in the file. A first word that
// is no v4 type is left to matio, which refuses the file.
//
// The byte order is matio's (Mat_VarReadNextInfo4, 1.5.23, tried with
// files built both ways): the type word is read in the host's order and
// byte-swapped when that makes it negative or above 4052; its thousands
// digit M then sets the order of the other four words, 0 little-endian and
// 1 big-endian (2..4, VAX and Cray, are refused), whichever order the type
// word itself was in. The fuzzer's 473-byte file starts 00 00 00 01 (type
// 1, so M = 0) then 00 00 45 00 ... 00 00 00 6c: read big-endian, as this
// check once did, a 108-byte name that fits; read little-endian, as matio
// does, a name of 0x6c000000 bytes, which matio mallocs (1,811,939,328
// bytes) before it reads the name.
void check_mat4_complete(const std::string& path, const std::string& what,
                         uintmax_t size) {
  constexpr bool host_big = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
  std::ifstream in(path, std::ios::binary);
  uintmax_t offset = 0;
  for (int element = 1; offset < size; ++element) {
    unsigned char head[20];
    if (size - offset < sizeof head ||
        !in.read(reinterpret_cast<char*>(head), sizeof head)) {
      return;  // matio reports a header cut short
    }
    uint32_t type = read_u32(head, false);
    if (type > 4052) type = read_u32(head, true);  // also catches negatives
    const uint32_t m = type / 1000, o = type / 100 % 10, p = type / 10 % 10,
                   t = type % 10;
    if (m > 1 || o != 0 || p > 5 || t > 2) return;
    const bool swap = (m == 1) != host_big;
    const char* order = m == 1 ? "big-endian" : "little-endian";
    static constexpr uint32_t kValueBytes[] = {8, 4, 4, 2, 2, 1};
    const uintmax_t rows = read_u32(head + 4, swap);
    const uintmax_t columns = read_u32(head + 8, swap);
    const uintmax_t parts = read_u32(head + 12, swap) != 0 ? 2 : 1;
    const uintmax_t name = read_u32(head + 16, swap);
    const uintmax_t left = size - offset - sizeof head;
    // matio allocates the name first (Mat_Open reads variable 1's header),
    // the values only when the variable is read: one check each, naming
    // the field at fault.
    IAI_CHECK(name <= left, what, " file '", path,
              "': truncated or corrupt: "
              "MAT v4 variable ",
              element, " (at offset ", offset, ") has a name-length field of ",
              name, " bytes (read ", order, ", as its type word ", type,
              " declares), more than the ", left, " bytes left in the file");
    // rows, columns < 2^32: their product fits; each factor after it is
    // checked against what is left before it multiplies.
    const uintmax_t values = rows * columns;
    IAI_CHECK(values <= (left - name) / parts / kValueBytes[p], what, " file '",
              path, "': truncated or corrupt: MAT v4 variable ", element,
              " (at offset ", offset,
              ") has rows and columns "
              "fields of ",
              rows, " x ", columns, " (read ", order,
              ", as its "
              "type word ",
              type, " declares): ", values, parts == 2 ? " complex" : "",
              " values of ", parts == 2 ? "2 x " : "", kValueBytes[p],
              " bytes, more than "
              "the ",
              left - name, " bytes left after its name");
    offset += sizeof head + name + values * parts * kValueBytes[p];
    in.seekg(static_cast<std::streamoff>(offset));
  }
}

MatFile open_mat(const std::string& path, const std::string& what) {
  route_matio_messages();
  std::error_code ec;
  IAI_CHECK(fs::exists(path, ec), what, " file '", path, "' does not exist");
  IAI_CHECK(!fs::is_directory(path, ec), "cannot open ", what, " file '", path,
            "': it is a folder, not a file");
  const uintmax_t size = fs::file_size(path, ec);
  IAI_CHECK(!ec, "cannot read the size of ", what, " file '", path,
            "': ", ec.message());
  IAI_CHECK(size > 0, what, " file '", path,
            "': the file is empty; expected a MATLAB .mat file");
  check_mat5_complete(path, what, size);
  forget_matio_messages();
  errno = 0;
  MatFile file(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  IAI_CHECK(file, "cannot open ", what, " file '", path,
            "': not a MATLAB .mat file (v4, v5 or v7.3), or unreadable",
            matio_detail());
  return file;
}

// The names of the variables in `file`, "a, b, c" ("none" when empty).
std::string variable_names(mat_t* file) {
  size_t count = 0;
  char** names = Mat_GetDir(file, &count);
  std::string text;
  for (size_t i = 0; names && i < count; ++i) {
    if (!names[i]) continue;
    text += (text.empty() ? "" : ", ") + std::string(names[i]);
  }
  Mat_Rewind(file);
  forget_matio_messages();
  return text.empty() ? "none" : text;
}

// The header of variable `name` (class, dims), or null when absent.
MatVar find_variable(mat_t* file, const std::string& name) {
  forget_matio_messages();
  return MatVar(Mat_VarReadInfo(file, name.c_str()));
}

// The header of variable `name`; throws naming the variables present.
MatVar require_variable(mat_t* file, const std::string& path,
                        const std::string& what, const std::string& name,
                        const std::string& expected) {
  MatVar info = find_variable(file, name);
  if (info) return info;
  const std::string detail = matio_detail();  // e.g. a corrupt header
  throw Error(message(
      what, " file '", path, "': no variable '", name, "' (expected ", expected,
      "); the file holds variables: ", variable_names(file), detail));
}

// The number of values `var`'s dimensions declare; UINTMAX_MAX past it.
uintmax_t value_count(const matvar_t& var) {
  uintmax_t count = 1;
  for (int i = 0; i < var.rank; ++i) {
    if (var.dims[i] == 0) return 0;
  }
  for (int i = 0; i < var.rank; ++i) {
    const uintmax_t d = var.dims[i];
    if (count > UINTMAX_MAX / d) return UINTMAX_MAX;
    count *= d;
  }
  return count;
}

// matio's Mat_VarRead allocates what a variable's dimensions declare before
// it reads a byte (found by fuzz/mat_fuzz.cpp: 13 TB for a 6,408-byte v5
// file whose X declared 32x32x3x4294967042 values). Each value takes at
// least a byte of the file (MATLAB stores whole doubles as uint8 when they
// fit), and deflate packs at most 1032 bytes into one, so more values than
// that is a corrupt file, refused before matio allocates them. A v7.3
// (HDF5) file is held to the compressed bound whatever its own filters:
// HDF5 may leave a dataset's chunks unwritten (read as fill values), but no
// real data set is stored that way, and matio allocates it all the same.
void check_values_fit(mat_t* file, const matvar_t& info,
                      const std::string& path, const std::string& what,
                      const std::string& name) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return;
  const bool packed = info.compression == MAT_COMPRESSION_ZLIB ||
                      Mat_GetVersion(file) == MAT_FT_MAT73;
  const uintmax_t values = value_count(info);
  IAI_CHECK(values <= (packed ? size * 1032 : size), what, " file '", path,
            "': variable '", name, "' declares ", describe(info), " (", values,
            " values), more than the file's ", size, " bytes hold",
            packed ? " compressed (at most 1032 values a byte)"
                   : " (at least a byte a value)",
            "; the file is truncated or corrupt");
}

// Reads variable `name` (whose header is `info`) with its data, checking
// that matio delivered `bytes` bytes of `type`.
MatVar read_variable(mat_t* file, const std::string& path,
                     const std::string& what, const std::string& name,
                     const matvar_t& info, matio_types type, size_t bytes) {
  check_values_fit(file, info, path, what, name);
  forget_matio_messages();
  MatVar var(Mat_VarRead(file, name.c_str()));
  IAI_CHECK(var && var->data && !matio_failed, what, " file '", path,
            "': cannot read the data of variable '", name,
            "'; the file is truncated or corrupt", matio_detail());
  IAI_CHECK(var->data_type == type && var->nbytes == bytes, what, " file '",
            path, "': variable '", name, "' delivered ", var->nbytes,
            " bytes, expected ", bytes, "; the file is truncated or corrupt",
            matio_detail());
  return var;
}

// Copies `bytes` bytes of matio's buffer into a tensor of `sizes`.
torch::Tensor copy_out(const matvar_t& var, torch::IntArrayRef sizes,
                       torch::ScalarType type) {
  return torch::from_blob(var.data, sizes, type).clone();
}

// ---------------------------------------------------------------- SVHN

constexpr const char* kSvhn = "SVHN";
constexpr const char* kSvhnX = "X, uint8 32x32x3xN images";
constexpr const char* kSvhnY = "y, N x 1 labels 1..10";
constexpr int64_t kSvhnSide = 32;
constexpr int64_t kSvhnChannels = 3;
constexpr const char* kSvhnHint =
    "download train_32x32.mat and test_32x32.mat from "
    "http://ufldl.stanford.edu/housenumbers/";

// N from X's header: 32x32x3xN, or 32x32x3 for a single image (MATLAB drops
// trailing singleton dimensions).
int64_t svhn_count(const matvar_t& x, const std::string& path) {
  IAI_CHECK(x.class_type == MAT_C_UINT8 && !x.isComplex, "SVHN file '", path,
            "': variable 'X' is ", describe(x),
            ", expected uint8 32x32x3xN "
            "images");
  const bool shape_ok = (x.rank == 4 || x.rank == 3) &&
                        x.dims[0] == kSvhnSide && x.dims[1] == kSvhnSide &&
                        x.dims[2] == kSvhnChannels &&
                        (x.rank == 3 || x.dims[3] > 0);
  IAI_CHECK(shape_ok, "SVHN file '", path, "': variable 'X' is ", describe(x),
            ", expected uint8 32x32x3xN images (row, column, "
            "channel, example)");
  return x.rank == 4 ? static_cast<int64_t>(x.dims[3]) : 1;
}

torch::Tensor svhn_labels(mat_t* file, const std::string& path, int64_t n) {
  MatVar info = require_variable(file, path, kSvhn, "y", kSvhnY);
  IAI_CHECK(
      (info->class_type == MAT_C_DOUBLE || info->class_type == MAT_C_UINT8) &&
          !info->isComplex,
      "SVHN file '", path, "': variable 'y' is ", describe(*info),
      ", expected double or uint8 labels, ", n, " x 1");
  IAI_CHECK(
      info->rank == 2 &&
          ((info->dims[0] == static_cast<size_t>(n) && info->dims[1] == 1) ||
           (info->dims[0] == 1 && info->dims[1] == static_cast<size_t>(n))),
      "SVHN file '", path, "': variable 'y' is ", describe(*info),
      ", expected ", n, " x 1 labels, one per image of X");
  const bool is_double = info->class_type == MAT_C_DOUBLE;
  MatVar y = read_variable(file, path, kSvhn, "y", *info,
                           is_double ? MAT_T_DOUBLE : MAT_T_UINT8,
                           static_cast<size_t>(n) * (is_double ? 8 : 1));
  const torch::Tensor raw =
      copy_out(*y, {n}, is_double ? torch::kDouble : torch::kByte)
          .to(torch::kDouble);
  const auto bad = ((raw < 1) | (raw > 10) | (raw != raw.round())).nonzero();
  if (bad.size(0) > 0) {
    const int64_t i = bad[0][0].item<int64_t>();
    throw Error(message("SVHN file '", path, "': label y(", i + 1, ") is ",
                        raw[i].item<double>(),
                        "; SVHN labels are whole "
                        "numbers 1..10 (10 meaning digit 0); ",
                        bad.size(0), " bad labels in all"));
  }
  // 10 means digit 0.
  return raw.to(torch::kLong).remainder(10);
}

// ------------------------------------------------------------- Omniglot

constexpr const char* kOmniglot = "Omniglot";
constexpr int64_t kOmniglotSide = 28;
constexpr int64_t kOmniglotPixels = kOmniglotSide * kOmniglotSide;
constexpr const char* kOmniglotHint =
    "download chardata.mat from "
    "https://github.com/yburda/iwae/tree/master/datasets/OMNIGLOT";

// One split from `name` (784 x N doubles in [0,1]), labels from `target`.
ImageSplit omniglot_split(mat_t* file, const std::string& path,
                          const std::string& name, const std::string& target) {
  MatVar info = require_variable(file, path, kOmniglot, name,
                                 name + ", double 784 x N images in [0, 1]");
  IAI_CHECK(info->class_type == MAT_C_DOUBLE && !info->isComplex,
            "Omniglot file '", path, "': variable '", name, "' is ",
            describe(*info), ", expected double 784 x N images in [0, 1]");
  IAI_CHECK(
      info->rank == 2 && info->dims[0] == kOmniglotPixels && info->dims[1] > 0,
      "Omniglot file '", path, "': variable '", name, "' is ", describe(*info),
      ", expected 784 x N (one 28x28 image per "
      "column)");
  const auto n = static_cast<int64_t>(info->dims[1]);
  MatVar var = read_variable(file, path, kOmniglot, name, *info, MAT_T_DOUBLE,
                             static_cast<size_t>(n * kOmniglotPixels) * 8);
  // Column-major: each column's entry r + 28*c is pixel (r, c), so the
  // column is a (c, r) array; transposing it gives row-major (r, c).
  const torch::Tensor x =
      torch::from_blob(var->data, {n, kOmniglotSide, kOmniglotSide},
                       torch::kDouble)
          .transpose(1, 2);
  const auto bad = (~((x >= 0) & (x <= 1))).flatten(1).nonzero();
  if (bad.size(0) > 0) {
    const int64_t column = bad[0][0].item<int64_t>();
    const int64_t k = bad[0][1].item<int64_t>();  // row-major r*28 + c
    const int64_t r = k / kOmniglotSide, c = k % kOmniglotSide;
    throw Error(message("Omniglot file '", path, "': ", name, "(",
                        c * kOmniglotSide + r + 1, ", ", column + 1, ") is ",
                        x[column][r][c].item<double>(),
                        "; pixel values must lie in [0, 1]; ", bad.size(0),
                        " bad values in all"));
  }
  ImageSplit split;
  split.images =
      (x * 255).round().to(torch::kByte).reshape({n, kOmniglotPixels});
  split.height = kOmniglotSide;
  split.width = kOmniglotSide;
  split.labels = torch::full({n}, -1, torch::kLong);

  // Labels only when `target` fits: one column per image.
  MatVar t = find_variable(file, target);
  if (t && t->class_type == MAT_C_DOUBLE && !t->isComplex && t->rank == 2 &&
      t->dims[0] > 0 && t->dims[1] == static_cast<size_t>(n)) {
    const auto k = static_cast<int64_t>(t->dims[0]);
    MatVar values = read_variable(file, path, kOmniglot, target, *t,
                                  MAT_T_DOUBLE, static_cast<size_t>(n * k) * 8);
    split.labels =
        torch::from_blob(values->data, {n, k}, torch::kDouble).argmax(1);
  }
  forget_matio_messages();
  return split;
}

void check_folder(const std::string& dir, const std::string& what,
                  const std::string& files, const std::string& hint) {
  std::error_code ec;
  IAI_CHECK(fs::exists(dir, ec), what, " folder '", dir,
            "' does not exist; it should hold ", files, "; ", hint);
  IAI_CHECK(fs::is_directory(dir, ec), what, " folder '", dir,
            "' is not a folder; it should hold ", files, "; ", hint);
}

}  // namespace

ImageSplit read_svhn_mat(const std::string& path) {
  // returns images (N,3072) uint8, labels (N) int64
  MatFile file = open_mat(path, kSvhn);
  MatVar info = require_variable(file.get(), path, kSvhn, "X", kSvhnX);
  const int64_t n = svhn_count(*info, path);
  constexpr int64_t pixels = kSvhnChannels * kSvhnSide * kSvhnSide;
  MatVar x = read_variable(file.get(), path, kSvhn, "X", *info, MAT_T_UINT8,
                           static_cast<size_t>(n * pixels));
  ImageSplit split;
  // Column-major X(r, c, ch, n) sits at r + 32c + 1024ch + 3072n, so the
  // buffer is a row-major (n, ch, c, r) array; swap c and r for row-major.
  split.images =
      torch::from_blob(x->data, {n, kSvhnChannels, kSvhnSide, kSvhnSide},
                       torch::kByte)
          .transpose(2, 3)
          .reshape({n, pixels});  // copies out of matio's buffer
  split.labels = svhn_labels(file.get(), path, n);
  split.channels = kSvhnChannels;
  split.height = kSvhnSide;
  split.width = kSvhnSide;
  return split;
}

ImageDataset load_svhn_folder(const std::string& dir) {
  const std::string files = "train_32x32.mat and test_32x32.mat";
  check_folder(dir, kSvhn, files, kSvhnHint);
  std::string missing;
  for (const char* name : {"train_32x32.mat", "test_32x32.mat"}) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / name, ec)) continue;
    missing += (missing.empty() ? "" : " and ") + std::string(name);
  }
  IAI_CHECK(missing.empty(), "SVHN folder '", dir, "' lacks ", missing,
            "; it should hold ", files, "; ", kSvhnHint);
  ImageDataset data;
  data.train = read_svhn_mat((fs::path(dir) / "train_32x32.mat").string());
  data.test = read_svhn_mat((fs::path(dir) / "test_32x32.mat").string());
  data.name = "svhn";
  return data;
}

ImageDataset read_omniglot_mat(const std::string& path) {
  MatFile file = open_mat(path, kOmniglot);
  ImageDataset data;
  data.train = omniglot_split(file.get(), path, "data", "target");
  data.test = omniglot_split(file.get(), path, "testdata", "testtarget");
  data.name = "omniglot";
  return data;
}

ImageDataset load_omniglot_folder(const std::string& dir) {
  check_folder(dir, kOmniglot, "chardata.mat", kOmniglotHint);
  const fs::path path = fs::path(dir) / "chardata.mat";
  std::error_code ec;
  IAI_CHECK(fs::exists(path, ec), "Omniglot folder '", dir,
            "' lacks chardata.mat (IWAE's 28x28 Omniglot); ", kOmniglotHint);
  return read_omniglot_mat(path.string());
}

}  // namespace iai::data

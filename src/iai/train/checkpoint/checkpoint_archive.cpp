#include "iai/train/checkpoint/checkpoint_archive.h"

#include "iai/core/error.h"

#include <caffe2/serialize/inline_container.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace iai::train {
namespace {

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
  }
  return v;
}

std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

/// What the zip directory says of one record.
struct Entry {
  uint32_t crc, method;
  uint64_t packed, bytes;  // compressed and uncompressed sizes
};

/// The zip directory's entry per record name, the name without
/// the archive's top folder and lowercased, as LibTorch's zip reader (miniz)
/// finds records regardless of case. A name held twice is left out (which
/// record miniz picks is not ours to guess). Empty when the directory cannot
/// be read here.
std::map<std::string, Entry> directory(const std::string& zip) {
  std::map<std::string, Entry> entries;
  std::set<std::string> twice;
  const size_t n = zip.size();
  if (n < 22) return entries;
  // The end-of-directory record: 22 bytes and a comment of up to 64 kB.
  size_t end = std::string::npos;
  const size_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (size_t at = n - 22 + 1; at-- > lowest;) {
    if (le(zip, at, 4) == 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) return entries;
  uint64_t count = le(zip, end + 10, 2);
  uint64_t at = le(zip, end + 16, 4);
  // A zip64 record (LibTorch writes one into every archive), found through
  // the locator just before the end record, overrides the end record's
  // counts whatever they say, as in miniz 2.x (a fuzzed file zeroed them,
  // and miniz still read every record).
  if (end >= 20 + 56 && le(zip, end - 20, 4) == 0x07064b50) {
    const uint64_t record = le(zip, end - 20 + 8, 8);
    if (record <= n - 56 && le(zip, record, 4) == 0x06064b50) {
      count = le(zip, record + 32, 8);
      at = le(zip, record + 48, 8);
    }
  }
  // Each entry is at least 46 bytes: a crafted count ends at the file's end.
  for (uint64_t i = 0; i < count; ++i) {
    if (at > n || n - at < 46 || le(zip, at, 4) != 0x02014b50) return {};
    const uint64_t name_bytes = le(zip, at + 28, 2);
    if (n - at - 46 < name_bytes) return {};
    const std::string name = zip.substr(at + 46, name_bytes);
    const size_t slash = name.find('/');
    if (slash != std::string::npos) {
      const std::string key = lower(name.substr(slash + 1));
      const Entry entry{uint32_t(le(zip, at + 16, 4)),
                        uint32_t(le(zip, at + 10, 2)), le(zip, at + 20, 4),
                        le(zip, at + 24, 4)};
      if (!entries.emplace(key, entry).second) {
        twice.insert(key);
      }
    }
    at += 46 + name_bytes + le(zip, at + 30, 2) + le(zip, at + 32, 2);
  }
  for (const auto& key : twice) entries.erase(key);
  return entries;
}

/// The qualified names of the `__torch__` classes a pickle's GLOBAL
/// opcodes name: what LibTorch's unpickler asks its source importer for.
/// Walks the opcodes LibTorch's pickler writes; at any other one (or a
/// pickle cut short) it stops with what it found, so it never invents one.
std::vector<std::string> pickle_classes(const std::string& p) {
  std::vector<std::string> found;
  size_t at = 0;
  auto line = [&](std::string& out) {
    const size_t nl = p.find('\n', at);
    if (nl == std::string::npos) return false;
    out = p.substr(at, nl - at);
    at = nl + 1;
    return true;
  };
  while (at < p.size()) {
    const auto op = static_cast<unsigned char>(p[at++]);
    size_t skip = 0;       // fixed-size argument
    int length_bytes = 0;  // or a length-prefixed one
    switch (op) {
      case '(':
      case '.':
      case '0':
      case '1':
      case '2':
      case 'N':
      case 'Q':
      case 'R':
      case 'a':
      case 'b':
      case '}':
      case 'd':
      case 'e':
      case 'l':
      case ']':
      case 'o':
      case 's':
      case 't':
      case ')':
      case 'u':
      case 0x81:
      case 0x85:
      case 0x86:
      case 0x87:
      case 0x88:
      case 0x89:
      case 0x8f:
      case 0x90:
      case 0x91:
      case 0x94:
        break;
      case 'K':
      case 'h':
      case 'q':
      case 0x80:
        skip = 1;
        break;
      case 'M':
        skip = 2;
        break;
      case 'J':
      case 'j':
      case 'r':
        skip = 4;
        break;
      case 'G':
      case 0x95:
        skip = 8;
        break;
      case 'C':
      case 'U':
      case 0x8a:
      case 0x8c:
        length_bytes = 1;
        break;
      case 'X':
      case 'B':
      case 'T':
      case 0x8b:
        length_bytes = 4;
        break;
      case 0x8d:
      case 0x8e:
        length_bytes = 8;
        break;
      case 'c': {
        std::string module, name;
        if (!line(module) || !line(name)) return found;
        if (module == "__torch__" || module.rfind("__torch__.", 0) == 0) {
          found.push_back(module + "." + name);
        }
        continue;
      }
      case 'F':
      case 'I':
      case 'L':
      case 'S':
      case 'V':
      case 'P':
      case 'g':
      case 'p': {
        std::string ignored;
        if (!line(ignored)) return found;
        continue;
      }
      default:
        return found;
    }
    if (length_bytes > 0) {
      if (p.size() - at < size_t(length_bytes)) return found;
      skip = length_bytes + le(p, at, length_bytes);
      if (skip < size_t(length_bytes)) return found;  // wrapped around
    }
    if (p.size() - at < skip) return found;
    if (op == '.') return found;  // STOP
    at += skip;
  }
  return found;
}

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// The lines of `source` that define `name` at its top level ("class name"
/// or "def name" and the indented lines after it); empty when none does.
std::string definition(const std::string& source, const std::string& name) {
  std::istringstream lines(source);
  std::string line, body;
  bool inside = false;
  while (std::getline(lines, line)) {
    const bool top = !line.empty() && line[0] != ' ' && line[0] != '\t';
    if (top) {
      inside = false;
      for (const char* kw : {"class ", "def "}) {
        const std::string head = kw + name;
        if (line.rfind(head, 0) == 0 &&
            (line.size() == head.size() || !ident_char(line[head.size()]))) {
          inside = true;
        }
      }
    }
    if (inside) body += line + "\n";
  }
  return body;
}

/// Every `__torch__.a.b` name in TorchScript source, outside its string
/// literals and comments.
std::vector<std::string> source_classes(const std::string& s) {
  static const std::string kRoot = "__torch__";
  std::vector<std::string> found;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '#') {
      i = s.find('\n', i);
      if (i == std::string::npos) break;
      continue;
    }
    if (c == '"' || c == '\'') {
      for (++i; i < s.size() && s[i] != c && s[i] != '\n'; ++i) {
        if (s[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    const bool starts = s.compare(i, kRoot.size(), kRoot) == 0 &&
                        (i == 0 || (!ident_char(s[i - 1]) && s[i - 1] != '.'));
    if (!starts) {
      ++i;
      continue;
    }
    size_t j = i + kRoot.size();
    while (j + 1 < s.size() && s[j] == '.' && ident_char(s[j + 1]) &&
           !std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
      for (++j; j < s.size() && ident_char(s[j]); ++j) {
      }
    }
    if (j > i + kRoot.size()) found.push_back(s.substr(i, j - i));
    i = j;
  }
  return found;
}

}  // namespace

void check_checkpoint_archive(const std::string& archive,
                              const std::string& path) {
  std::istringstream in(archive);
  // LibTorch's own zip reader (the one its loader uses first): a file it
  // cannot open throws c10::Error, as the load itself would.
  caffe2::serialize::PyTorchStreamReader reader(&in);
  const auto entries = directory(archive);

  // A record's bytes as LibTorch's loader reads them, checked against the
  // zip directory's CRC-32 (LibTorch does not check it). False if absent.
  auto read = [&](const std::string& name, std::string& out) {
    if (!reader.hasRecord(name)) return false;
    // Where this directory reading and miniz's disagree (a record miniz
    // finds that is not here, or is here twice), the file is refused: it
    // is corrupt, and its record is unchecked otherwise.
    const auto stored = entries.find(lower(name));
    IAI_CHECK(stored != entries.end(), "checkpoint '", path,
              "' is corrupted: "
              "record '",
              name,
              "' of its LibTorch archive has no single "
              "entry in its zip directory");
    // getRecord allocates the size the directory states before inflating
    // (found by fuzz/checkpoint_fuzz.cpp: 2 GB for a deflated record of a
    // 38 kB file). Deflate packs at most 1032 bytes into one; the records
    // read here are kilobytes, never zip64's 4 GB (0xffffffff).
    const Entry& e = stored->second;
    const bool fits =
        e.packed != 0xffffffff && e.bytes != 0xffffffff &&
        e.bytes <= (e.method == 0 ? e.packed : e.packed * 1032 + 1032);
    IAI_CHECK(fits, "checkpoint '", path, "' is corrupted: record '", name,
              "' of its LibTorch archive declares ", e.bytes, " bytes in ",
              e.packed, (e.method == 0 ? " stored" : " compressed"), " bytes");
    at::DataPtr data;
    size_t size = 0;
    std::tie(data, size) = reader.getRecord(name);
    out.assign(static_cast<const char*>(data.get()), size);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < out.size();) {  // crc32 takes a uInt
      const uInt chunk = uInt(std::min<size_t>(out.size() - done, 1u << 30));
      crc =
          crc32(crc, reinterpret_cast<const Bytef*>(out.data() + done), chunk);
      done += chunk;
    }
    if (uint32_t(crc) != e.crc) {
      char detail[64];
      std::snprintf(detail, sizeof detail, "stored %08x, computed %08x", e.crc,
                    uint32_t(crc));
      throw Error(message("checkpoint '", path, "' is corrupted: record '",
                          name,
                          "' of its LibTorch archive does not match "
                          "its zip CRC-32 (",
                          detail, ")"));
    }
    return true;
  };

  std::string text;
  std::deque<std::string> todo;
  for (const char* pickle : {"data.pkl", "constants.pkl"}) {
    if (!read(pickle, text)) continue;
    for (auto& name : pickle_classes(text)) todo.push_back(std::move(name));
  }
  read("version", text);

  // Every class the pickles use, and every class the source of a used
  // class names, needs its source record: LibTorch's source importer finds
  // __torch__.a.B in code/__torch__/a.py and fails where it is missing.
  std::set<std::string> seen;
  std::map<std::string, std::string> sources;  // record -> its text
  while (!todo.empty()) {
    const std::string qualified = todo.front();
    todo.pop_front();
    // Custom C++ classes come from LibTorch's registry, not from records.
    if (!seen.insert(qualified).second ||
        qualified.rfind("__torch__.torch.classes.", 0) == 0) {
      continue;
    }
    const size_t dot = qualified.rfind('.');
    std::string record = "code/" + qualified.substr(0, dot) + ".py";
    std::replace(record.begin() + 5, record.end() - 3, '.', '/');
    auto source = sources.find(record);
    if (source == sources.end()) {
      std::string code;
      IAI_CHECK(read(record, code), "checkpoint '", path,
                "' is corrupted: "
                "its LibTorch archive uses class '",
                qualified, "' but holds no record '", record, "' defining it");
      read(record + ".debug_pkl", text);  // read by LibTorch with it
      source = sources.emplace(record, std::move(code)).first;
    }
    const std::string body =
        definition(source->second, qualified.substr(dot + 1));
    IAI_CHECK(!body.empty(), "checkpoint '", path,
              "' is corrupted: its "
              "LibTorch archive uses class '",
              qualified, "' but its record '", record, "' does not define it");
    for (auto& name : source_classes(body)) todo.push_back(std::move(name));
  }
}

}  // namespace iai::train

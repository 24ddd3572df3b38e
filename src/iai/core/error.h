#pragma once
// The one exception type of the library. Every failure a user can cause (a
// missing or corrupt file, a bad flag, a NaN in training) is reported through
// it, with a message that names the file or flag and says what to do.

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace iai {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

/// Builds a message from its parts, as TORCH_CHECK does.
template <typename... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  return out.str();
}

/// "a, b or c": valid names, listed in a message.
inline std::string or_list(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return list;
}

}  // namespace iai

/// Throws iai::Error with the concatenated parts unless `cond` holds.
#define IAI_CHECK(cond, ...)                                      \
  do {                                                            \
    if (!(cond)) throw ::iai::Error(::iai::message(__VA_ARGS__)); \
  } while (0)

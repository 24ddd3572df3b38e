#pragma once
// A small text table rendered as Markdown (terminal, README) or HTML (the
// report): the paper's Tables 1 and 2 beside our numbers, run configs.

#include <string>
#include <vector>

namespace iai::report {

struct Table {
  std::string caption;
  std::vector<std::string> header;
  /// Each row has header.size() cells (shorter rows are padded with "").
  std::vector<std::vector<std::string>> rows;
};

/// A GitHub-flavoured Markdown table, caption in bold above it; '|' in
/// cells is escaped.
std::string to_markdown(const Table& table);

/// An HTML <table> with a <caption>; cells are escaped.
std::string to_html(const Table& table);

/// `text` with &, <, >, " escaped for HTML.
std::string html_escape(const std::string& text);

}  // namespace iai::report

#include "iai/report/table.h"

namespace iai::report {

namespace {

std::string cell_at(const std::vector<std::string>& row, std::size_t i) {
  return i < row.size() ? row[i] : std::string();
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += "<br>";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string to_markdown(const Table& table) {
  std::string out;
  if (!table.caption.empty()) out += "**" + table.caption + "**\n\n";
  out += "|";
  for (const auto& h : table.header) out += " " + markdown_cell(h) + " |";
  out += "\n|";
  for (std::size_t i = 0; i < table.header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (std::size_t i = 0; i < table.header.size(); ++i) {
      out += " " + markdown_cell(cell_at(row, i)) + " |";
    }
    out += "\n";
  }
  return out;
}

std::string to_html(const Table& table) {
  std::string out = "<table>\n";
  if (!table.caption.empty()) {
    out += "<caption>" + html_escape(table.caption) + "</caption>\n";
  }
  out += "<thead><tr>";
  for (const auto& h : table.header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < table.header.size(); ++i) {
      std::string cell = html_escape(cell_at(row, i));
      for (std::size_t p = 0; (p = cell.find('\n', p)) != std::string::npos;) {
        cell.replace(p, 1, "<br>");
      }
      out += "<td>" + cell + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace iai::report

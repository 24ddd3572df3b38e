#include "iai/report/html_report.h"

#include "iai/core/error.h"
#include "iai/report/gnuplot.h"
#include "iai/report/line_plot.h"
#include "iai/report/paper_tables.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace iai::report {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  IAI_CHECK(in.good(), "cannot read '", path.string(), "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json read_json(const fs::path& path) {
  auto j = nlohmann::json::parse(read_bytes(path), nullptr,
                                 /*allow_exceptions=*/false);
  IAI_CHECK(!j.is_discarded(), "'", path.string(), "' is not valid JSON");
  return j;
}

/// The records of a .jsonl file; a line cut short by a crash is skipped.
std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_bytes(path));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(j);
  }
  return out;
}

bool is_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, 8);
  return in.good() && std::string(head, 8) == "\x89PNG\r\n\x1a\n";
}

/// A run folder as the report reads it.
struct RunFolder {
  fs::path dir;
  std::string label;
  nlohmann::json config;  // null when absent
  std::vector<nlohmann::json> metrics;
  nlohmann::json eval, gap, surface;
};

const char* const kKnownFiles[] = {
    "config.json",         "metrics.jsonl", "eval.json", "gradients.jsonl",
    "reconstructions.png", "gap.json",      "surface",   "compare",
    "compare.csv",         "sweep.csv"};

RunFolder read_run(const std::string& dir) {
  RunFolder r;
  r.dir = dir;
  std::error_code ec;
  IAI_CHECK(fs::is_directory(r.dir, ec), "'", dir,
            "' is not a folder (iai report reads run folders from iai train, "
            "or sweep folders)");
  bool any = false;
  for (const char* f : kKnownFiles) any = any || fs::exists(r.dir / f, ec);
  IAI_CHECK(any, "'", dir,
            "' holds none of the files iai report reads "
            "(config.json, metrics.jsonl, eval.json, "
            "gradients.jsonl, surface/, compare/, sweep.csv)");
  r.label = fs::absolute(r.dir, ec).lexically_normal().filename().string();
  if (r.label.empty()) r.label = dir;
  if (fs::exists(r.dir / "config.json"))
    r.config = read_json(r.dir / "config.json");
  if (fs::exists(r.dir / "metrics.jsonl")) {
    r.metrics = read_jsonl(r.dir / "metrics.jsonl");
  }
  if (fs::exists(r.dir / "eval.json")) r.eval = read_json(r.dir / "eval.json");
  if (fs::exists(r.dir / "gap.json")) r.gap = read_json(r.dir / "gap.json");
  if (fs::exists(r.dir / "surface" / "surface.json")) {
    r.surface = read_json(r.dir / "surface" / "surface.json");
  }
  return r;
}

/// "train_elbo" -> {"elbo", "train"}; "seconds" -> {"seconds", ""}.
std::pair<std::string, std::string> metric_name(const std::string& key) {
  for (const char* prefix : {"train_", "test_"}) {
    const std::string p = prefix;
    if (key.rfind(p, 0) == 0 && key.size() > p.size()) {
      return {key.substr(p.size()), p.substr(0, p.size() - 1)};
    }
  }
  return {key, ""};
}

std::string metric_title(const std::string& name) {
  static const std::map<std::string, std::string> titles = {
      {"elbo", "ELBO (nats per example)"},
      {"reconstruction", "reconstruction E_q[log p(x|z)] (nats per example)"},
      {"kl", "KL(q || p) (nats per example)"},
      {"seconds", "seconds per epoch"},
      {"examples_per_second", "examples per second"},
      {"lr", "learning rate"},
      {"examples", "examples per epoch"}};
  auto it = titles.find(name);
  return it != titles.end() ? it->second : name;
}

/// The order of the curves: the ELBO and its terms first, then the rest.
int metric_rank(const std::string& name) {
  if (name == "elbo") return 0;
  if (name == "reconstruction") return 1;
  if (name.rfind("kl", 0) == 0) return 2;
  return 3;
}

class Page {
 public:
  void heading(int level, const std::string& text) {
    if (level <= 3) sections.push_back(text);
    html += "<h" + std::to_string(level) + ">" + html_escape(text) + "</h" +
            std::to_string(level) + ">\n";
  }
  void paragraph(const std::string& text) {
    html += "<p>" + html_escape(text) + "</p>\n";
  }
  void note(const std::string& text) {
    html += "<p class=\"note\">" + html_escape(text) + "</p>\n";
  }
  void raw(const std::string& text) { html += text; }
  /// Embeds a PNG as a data URI; false (and a note) when it is not a PNG.
  bool image(const fs::path& png, const std::string& caption) {
    if (!is_png(png)) {
      note("(" + png.string() + " is missing or not a PNG; not embedded)");
      return false;
    }
    html += "<figure><img alt=\"" + html_escape(caption) +
            "\" src=\"data:image/png;base64," + base64(read_bytes(png)) +
            "\"><figcaption>" + html_escape(caption) +
            "</figcaption></figure>\n";
    ++images;
    return true;
  }
  std::string html;
  std::vector<std::string> sections;
  int images = 0;
};

std::string number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

std::string json_cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return number(v.get<double>());
  return v.dump();
}

void training_curves(Page& page, const std::vector<RunFolder>& runs,
                     const fs::path& figures, bool plots) {
  // name -> series, in the order the keys were first seen.
  std::map<std::string, std::vector<PlotSeries>> charts;
  for (const auto& r : runs) {
    std::map<std::string, PlotSeries> by_key;
    std::vector<std::string> keys;
    for (const auto& m : r.metrics) {
      if (!m.contains("epoch") || !m["epoch"].is_number()) continue;
      const double epoch = m["epoch"].get<double>();
      for (const auto& item : m.items()) {
        if (item.key() == "epoch" || !item.value().is_number()) continue;
        if (!by_key.count(item.key())) keys.push_back(item.key());
        auto& s = by_key[item.key()];
        s.x.push_back(epoch);
        s.y.push_back(item.value().get<double>());
      }
    }
    for (const auto& key : keys) {
      auto s = by_key[key];
      const auto [name, split] = metric_name(key);
      s.label = (runs.size() > 1 ? r.label + ": " : std::string()) +
                (split.empty() ? key : split);
      charts[name].push_back(s);
    }
  }
  if (charts.empty()) {
    page.note("No metrics.jsonl with per-epoch records in these folders.");
    return;
  }
  if (!plots) {
    page.note(
        "gnuplot is not installed, so the training curves are not "
        "drawn (install gnuplot-nox; scripts/setup.sh does).");
    return;
  }
  std::vector<std::string> names;
  for (const auto& c : charts) names.push_back(c.first);
  std::stable_sort(names.begin(), names.end(),
                   [](const std::string& a, const std::string& b) {
                     return metric_rank(a) < metric_rank(b);
                   });
  for (const auto& name : names) {
    PlotOptions o;
    o.title = metric_title(name) + " per epoch";
    o.x_label = "epoch";
    o.y_label = metric_title(name);
    o.width = 800;
    o.height = 450;
    const auto png = (figures / ("metric_" + name + ".png")).string();
    write_line_plot(png, charts[name], o);
    page.image(png, o.title + " (metrics.jsonl key" +
                        (charts[name].size() > 1 ? "s" : "") + " ending in '" +
                        name + "')");
  }
}

void config_table(Page& page, const RunFolder& r) {
  page.heading(3, "Configuration");
  if (!r.config.is_object()) {
    page.note("No config.json in this folder.");
    return;
  }
  Table t;
  t.header = {"key", "value"};
  for (const auto& item : r.config.items()) {
    t.rows.push_back({item.key(), json_cell(item.value())});
  }
  page.raw(to_html(t));
}

void surface_section(Page& page, const RunFolder& r) {
  const auto dir = r.dir / "surface";
  page.heading(3, "ELBO surface (Figures 1 and 3)");
  page.paragraph(
      "L(μ) = log p(x|μ) + log p(μ) over the 2-D latent space of a "
      "point-estimate model for one test example, with the MAP estimate, "
      "plain gradient ascent from the prior mean and the run's inference "
      "model (Sections 3.1 and 5.1).");
  if (r.surface.is_object()) {
    const auto& s = r.surface;
    const auto& model = s["model"]["value"];
    Table t;
    t.header = {"", "value"};
    t.rows.push_back({"test example", json_cell(s["example"])});
    t.rows.push_back({"MAP estimate μ", s["map"]["mu"].dump()});
    t.rows.push_back({"L at the MAP (nats)", json_cell(s["map"]["value"])});
    t.rows.push_back({"L of the " + s.value("inference", std::string()) +
                          " model's final estimate (nats)",
                      json_cell(model.back())});
    t.rows.push_back({"L after gradient ascent (" +
                          std::to_string(s["ascent"]["value"].size() - 1) +
                          " steps of " + json_cell(s["ascent_step_size"]) +
                          ") (nats)",
                      json_cell(s["ascent"]["value"].back())});
    page.raw(to_html(t));
  }
  page.image(dir / "surface.png", "L(μ) for one test example");
  page.image(dir / "surface_zoom.png", "enlarged view near the optimum");
}

void gap_section(Page& page, const RunFolder& r) {
  page.heading(3, "Amortisation gap");
  const auto& g = r.gap;
  Table t;
  t.header = {"quantity", "nats"};
  const std::pair<const char*, const char*> rows[] = {
      {"elbo_model", "ELBO of the model's q"},
      {"elbo_optimised", "ELBO after optimising λ per example"},
      {"log_px", "log p(x) (IW)"},
      {"amortization_gap", "amortisation gap L(q*) − L(q)"},
      {"approximation_gap", "approximation gap log p(x) − L(q*)"}};
  for (const auto& [key, label] : rows) {
    if (g.contains(key)) t.rows.push_back({label, json_cell(g[key])});
  }
  page.raw(to_html(t));
  page.note("gap.json: " + std::to_string(g.value("examples", 0)) +
            " test examples, refined by " +
            g.value("refine_optimizer", std::string("?")) + " for " +
            std::to_string(g.value("refine_iterations", 0)) +
            " iterations, ELBOs with " +
            std::to_string(g.value("elbo_samples", 0)) +
            " samples, IW K=" + std::to_string(g.value("iw_samples", 0)) + ".");
}

void run_section(Page& page, const RunFolder& r, const fs::path& figures,
                 bool plots) {
  page.heading(2, "Run: " + r.label);
  page.note("folder: " + r.dir.string());
  config_table(page, r);
  std::vector<std::string> absent;
  if (fs::exists(r.dir / "reconstructions.png")) {
    page.heading(3, "Reconstructions (Figure 5)");
    page.image(r.dir / "reconstructions.png",
               "reconstructions after each inference iteration (left to "
               "right), data in the last column");
  } else {
    absent.push_back("reconstructions (iai eval)");
  }
  if (fs::exists(r.dir / "gradients.jsonl")) {
    page.heading(3, "Gradient magnitudes (Figure 6)");
    if (plots) {
      const auto png = (figures / (r.label + "_gradients.png")).string();
      write_gradient_figure((r.dir / "gradients.jsonl").string(), png);
      page.image(png,
                 "mean |∇μ L| after each inference iteration, during "
                 "training (gradients.jsonl)");
    } else {
      page.note("gnuplot is not installed; Figure 6 is not drawn.");
    }
  } else {
    absent.push_back(
        "gradient magnitudes (iai train --record-gradients-every)");
  }
  if (fs::exists(r.dir / "surface" / "surface.png")) {
    surface_section(page, r);
  } else {
    absent.push_back("ELBO surface (iai surface, 2-D point-estimate runs)");
  }
  const fs::path compare_dirs[] = {r.dir / "compare", r.dir};
  bool compared = false;
  for (const auto& d : compare_dirs) {
    if (compared || !fs::exists(d / "compare_iterations.png")) continue;
    compared = true;
    page.heading(3, "Inference optimisation (Figure 4)");
    page.image(d / "compare_iterations.png",
               "mean ELBO over inference iterations: the model against "
               "optimisers on λ (compare.csv)");
    if (fs::exists(d / "compare_seconds.png")) {
      page.image(d / "compare_seconds.png", "the same against wall time");
    }
  }
  if (!compared) absent.push_back("Figure 4 (iai compare)");
  if (r.gap.is_object()) {
    gap_section(page, r);
  } else {
    absent.push_back("amortisation gap (iai gap)");
  }
  if (fs::exists(r.dir / "sweep_iterations.png") ||
      fs::exists(r.dir / "sweep_samples.png")) {
    page.heading(3, "Sweep (Figure 7)");
    for (const char* f : {"sweep_iterations.png", "sweep_samples.png"}) {
      if (fs::exists(r.dir / f)) {
        page.image(r.dir / f, std::string("test ELBO of each setting (") + f +
                                  ", sweep.csv)");
      }
    }
  }
  if (!absent.empty() && r.config.is_object()) {
    std::string list;
    for (const auto& a : absent) list += (list.empty() ? "" : "; ") + a;
    page.note("Not in this folder: " + list + ".");
  }
}

const char* const kStyle = R"(<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; }
h2 { border-bottom: 1px solid #aaa; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
figure { margin: 1em 0; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #555; }
.note { color: #666; font-size: 0.9em; }
</style>
)";

}  // namespace

std::string base64(const std::string& bytes) {
  static const char* const kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) |
                       (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

void write_gradient_figure(const std::string& gradients_jsonl,
                           const std::string& png_path) {
  const auto records = read_jsonl(gradients_jsonl);
  std::vector<PlotSeries> series;
  for (const auto& r : records) {
    if (!r.contains("step") || !r.contains("mean_abs_grad_mu")) continue;
    const auto& values = r["mean_abs_grad_mu"];
    for (std::size_t t = 0; t < values.size(); ++t) {
      if (series.size() <= t) {
        series.push_back({"t = " + std::to_string(t + 1), {}, {}});
      }
      series[t].x.push_back(r["step"].get<double>());
      series[t].y.push_back(values[t].is_number() ? values[t].get<double>()
                                                  : std::nan(""));
    }
  }
  IAI_CHECK(!series.empty(), "'", gradients_jsonl,
            "' holds no gradient record (step, mean_abs_grad_mu)");
  // Colour by iteration, blue (t = 1) to amber (t = T), as the paper's
  // colour index: a plasma-like ramp that stays visible on white.
  const double stops[][3] = {{13, 8, 135},
                             {126, 3, 168},
                             {204, 71, 120},
                             {240, 120, 50},
                             {200, 160, 0}};
  for (std::size_t t = 0; t < series.size(); ++t) {
    const double at = series.size() > 1 ? 4.0 * t / (series.size() - 1) : 0;
    const int k = std::min(3, static_cast<int>(at));
    const double f = at - k;
    char color[8];
    std::snprintf(
        color, sizeof color, "#%02x%02x%02x",
        static_cast<int>(stops[k][0] + f * (stops[k + 1][0] - stops[k][0])),
        static_cast<int>(stops[k][1] + f * (stops[k + 1][1] - stops[k][1])),
        static_cast<int>(stops[k][2] + f * (stops[k + 1][2] - stops[k][2])));
    series[t].color = color;
  }
  PlotOptions o;
  o.title = "Figure 6: mean |grad_mu L| after each inference iteration t";
  o.x_label = "training step";
  o.y_label = "mean |grad_mu L| (per example)";
  o.log_y = true;
  o.width = 900;
  o.height = 550;
  write_line_plot(png_path, series, o);
}

ReportSummary write_html_report(const std::vector<std::string>& run_dirs,
                                const ReportOptions& options) {
  IAI_CHECK(!run_dirs.empty(), "iai report needs at least one run folder");
  IAI_CHECK(!options.out.empty(), "--out must name an HTML file");
  std::vector<RunFolder> runs;
  std::set<std::string> labels;
  for (const auto& d : run_dirs) {
    runs.push_back(read_run(d));
    // Two folders of the same name (a/standard, b/standard) get their
    // parent's name too, so legends and sections stay distinct.
    auto& r = runs.back();
    if (labels.count(r.label)) {
      std::error_code ec;
      const auto abs = fs::absolute(r.dir, ec).lexically_normal();
      r.label = abs.parent_path().filename().string() + "/" + r.label;
    }
    labels.insert(r.label);
  }

  const fs::path out(options.out);
  fs::path parent = out.parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  IAI_CHECK(!ec, "cannot create '", parent.string(), "': ", ec.message());
  const fs::path figures = parent / (out.stem().string() + "_figures");
  fs::create_directories(figures, ec);
  IAI_CHECK(!ec, "cannot create '", figures.string(), "': ", ec.message());
  const bool plots = gnuplot_available();

  Page page;
  page.raw(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
      "charset=\"utf-8\">\n<title>" +
      html_escape(options.title) + "</title>\n" + kStyle + "</head>\n<body>\n");
  page.raw("<h1>" + html_escape(options.title) + "</h1>\n");
  std::time_t now = std::time(nullptr);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M", std::localtime(&now));
  std::string names;
  for (const auto& r : runs) names += (names.empty() ? "" : ", ") + r.label;
  page.paragraph("Written by iai report on " + std::string(stamp) +
                 " for: " + names +
                 ". Marino, Yue & Mandt, Iterative Amortized "
                 "Inference, ICML 2018.");

  std::vector<EvaluatedRun> evaluated;
  for (const auto& r : runs) {
    if (r.eval.is_object()) evaluated.push_back({r.label, r.eval});
  }
  page.heading(2, "Evaluation (Tables 1 and 2)");
  std::string markdown;
  if (evaluated.empty()) {
    page.note(
        "No folder holds eval.json; run iai eval --checkpoint RUN to "
        "fill our columns.");
  }
  for (const auto& t : paper_tables(evaluated)) {
    page.raw(to_html(t));
    markdown += to_markdown(t) + "\n";
  }
  if (!evaluated.empty()) {
    const auto t = evaluated_runs_table(evaluated);
    page.raw(to_html(t));
    markdown += to_markdown(t) + "\n";
  }
  page.note(
      "Our numbers come from far shorter training than the paper's "
      "(about a thousand epochs on a GPU); what should hold is the "
      "ordering, iterative better than standard at equal architecture "
      "and budget.");

  page.heading(2, "Training curves");
  training_curves(page, runs, figures, plots);
  for (const auto& r : runs) run_section(page, r, figures, plots);
  page.raw("</body>\n</html>\n");

  const std::string tmp = options.out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    IAI_CHECK(f.good(), "cannot write '", options.out, "'");
    f << page.html;
    f.close();
    IAI_CHECK(!f.fail(), "writing '", options.out, "' failed (disk full?)");
  }
  fs::rename(tmp, options.out, ec);
  IAI_CHECK(!ec, "cannot write '", options.out, "': ", ec.message());
  return {options.out, page.images, page.sections, markdown};
}

}  // namespace iai::report

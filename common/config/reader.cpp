#include "common/config/reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lightbox::config {

const nlohmann::json Node::kEmpty = nlohmann::json::object();

void Problems::add(std::string path, std::string message) {
  list_.push_back(Error{Errc::invalid_config, std::move(message), std::move(path)});
}

std::string Problems::to_string() const {
  std::string out;
  for (const auto& e : list_) out += (e.field.empty() ? "(top)" : e.field) + ": " + e.message + "\n";
  return out;
}

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Reads a secret file that only the running user can read; else returns why not. The mode and
// owner are taken from the open descriptor, so they describe the very file that is read.
// Root may read a file owned by someone else (e.g. `check` run as root on the service user's file).
std::string read_secret_file(const std::string& file, std::string& content) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "secret file " + file + " cannot be read: " + std::strerror(errno);
  struct stat st {};
  std::string why;
  const bool stat_ok = ::fstat(fd, &st) == 0;
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (!stat_ok) {
    why = "secret file " + file + " cannot be checked: " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "secret file " + file + " is not a regular file";
  } else if (st.st_mode & (S_IRGRP | S_IROTH)) {
    why = "secret file " + file + " is readable by others (mode " + mode + "); chmod 600 it";
  } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    why = "secret file " + file + " is writable by others (mode " + mode + "); chmod 600 it";
  } else if (st.st_uid != ::geteuid() && ::geteuid() != 0) {
    why = "secret file " + file + " is owned by uid " + std::to_string(st.st_uid) + ", not by the user running " +
          "this program (uid " + std::to_string(::geteuid()) + "); chown it to that user";
  } else {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<std::size_t>(n));
    if (n < 0) why = "secret file " + file + " cannot be read: " + std::strerror(errno);
  }
  ::close(fd);
  return why;
}

// Replaces ${NAME} and ${file:PATH} inside one string value.
std::string substitute(const std::string& in, const std::string& path, Problems& problems) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    auto start = in.find("${", i);
    if (start == std::string::npos) { out.append(in, i); break; }
    auto end = in.find('}', start + 2);
    if (end == std::string::npos) { out.append(in, i); break; }
    out.append(in, i, start - i);
    std::string name = in.substr(start + 2, end - start - 2);
    if (name.rfind("file:", 0) == 0) {
      std::string secret;
      if (auto why = read_secret_file(name.substr(5), secret); !why.empty())
        problems.add(path, why);
      else
        out += trim(secret);
    } else if (const char* v = std::getenv(name.c_str())) {
      out += v;
    } else {
      problems.add(path, "environment variable " + name + " is not set");
    }
    i = end + 1;
  }
  return out;
}

void substitute_all(nlohmann::json& j, const std::string& path, Problems& problems) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.find("${") != std::string::npos) j = substitute(s, path, problems);
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items()) substitute_all(v, path.empty() ? k : path + "." + k, problems);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) substitute_all(j[i], path + "[" + std::to_string(i) + "]", problems);
  }
}

const char* type_name(const nlohmann::json& j) { return j.type_name(); }

}  // namespace

Result<nlohmann::json> load_text(std::string_view text, Problems& problems) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                              /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(Errc::invalid_config, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return fail(Errc::invalid_config, "the top level must be a JSON object");
  substitute_all(j, "", problems);
  return j;
}

Result<nlohmann::json> load_file(const std::string& path, Problems& problems) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(Errc::invalid_config, "cannot open config file " + path, path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto r = load_text(ss.str(), problems);
  if (!r.ok()) return fail(Errc::invalid_config, path + ": " + r.error().message);
  return r;
}

Node::Node(const nlohmann::json& j, std::string path, Problems& problems)
    : j_(&j), path_(std::move(path)), problems_(&problems) {}

std::string Node::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool Node::has(std::string_view key) const { return j_->is_object() && j_->contains(key); }

const nlohmann::json* Node::find(std::string_view key) {
  seen_.emplace_back(key);
  if (!j_->is_object()) return nullptr;
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return nullptr;
  return &*it;
}

void Node::problem(std::string_view key, std::string message) {
  problems_->add(key.empty() ? path_ : key_path(key), std::move(message));
}

#define LB_MISSING_OR(cond, expected)                                      \
  const nlohmann::json* v = find(key);                                     \
  if (!v) {                                                                \
    if (required) problem(key, "is required");                             \
    return;                                                                \
  }                                                                        \
  if (!(cond)) {                                                           \
    problem(key, std::string("must be ") + expected + ", not " + type_name(*v)); \
    return;                                                                \
  }

void Node::get(std::string_view key, std::string& out, bool required) {
  LB_MISSING_OR(v->is_string(), "a string")
  out = v->get<std::string>();
}

void Node::get(std::string_view key, bool& out, bool required) {
  LB_MISSING_OR(v->is_boolean(), "true or false")
  out = v->get<bool>();
}

void Node::get(std::string_view key, double& out, bool required) {
  LB_MISSING_OR(v->is_number(), "a number")
  out = v->get<double>();
}

void Node::get(std::string_view key, std::int64_t& out, bool required) {
  LB_MISSING_OR(v->is_number_integer(), "an integer")
  out = v->get<std::int64_t>();
}

void Node::get(std::string_view key, std::vector<std::string>& out, bool required) {
  LB_MISSING_OR(v->is_array(), "an array of strings")
  std::vector<std::string> tmp;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      problems_->add(key_path(key) + "[" + std::to_string(i) + "]", "must be a string");
      return;
    }
    tmp.push_back((*v)[i].get<std::string>());
  }
  out = std::move(tmp);
}

#undef LB_MISSING_OR

void Node::get_int(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max, bool required) {
  std::int64_t v = out;
  std::size_t before = problems_->list().size();
  get(key, v, required);
  if (problems_->list().size() != before || !has(key)) return;  // absent: the default stands unchecked
  if (v < min) return problem(key, "must be >= " + std::to_string(min));
  if (v > max) return problem(key, "must be <= " + std::to_string(max));
  out = v;
}

void Node::get_enum(std::string_view key, std::string& out, std::vector<std::string_view> allowed, bool required) {
  std::string v = out;
  std::size_t before = problems_->list().size();
  get(key, v, required);
  if (problems_->list().size() != before || !has(key)) return;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string words;
    for (auto a : allowed) words += (words.empty() ? "" : ", ") + std::string(a);
    return problem(key, "must be one of: " + words + " (got '" + v + "')");
  }
  out = v;
}

Node Node::child(std::string_view key, bool required) {
  const nlohmann::json* v = find(key);
  if (!v) {
    if (required) problem(key, "is required");
    return Node(kEmpty, key_path(key), *problems_);
  }
  if (!v->is_object()) {
    problem(key, std::string("must be an object, not ") + type_name(*v));
    return Node(kEmpty, key_path(key), *problems_);
  }
  return Node(*v, key_path(key), *problems_);
}

std::vector<Node> Node::items(std::string_view key, bool required) {
  std::vector<Node> out;
  const nlohmann::json* v = find(key);
  if (!v) {
    if (required) problem(key, "is required");
    return out;
  }
  if (!v->is_array()) {
    problem(key, std::string("must be an array, not ") + type_name(*v));
    return out;
  }
  for (std::size_t i = 0; i < v->size(); ++i) {
    std::string p = key_path(key) + "[" + std::to_string(i) + "]";
    if (!(*v)[i].is_object()) {
      problems_->add(p, "must be an object");
      continue;
    }
    out.emplace_back((*v)[i], p, *problems_);
  }
  return out;
}

std::vector<std::string> Node::keys() {
  std::vector<std::string> out;
  if (!j_->is_object()) return out;
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    out.push_back(it.key());
    seen_.push_back(it.key());
  }
  return out;
}

void Node::finish() {
  if (!j_->is_object()) return;
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end())
      problems_->add(key_path(it.key()), "unknown key");
  }
}

}  // namespace lightbox::config

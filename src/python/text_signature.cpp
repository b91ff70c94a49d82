// Text signatures for the bound functions, so that inspect.signature and help() work on them.
//
// pybind11 writes a docstring that opens with its typed signature line
// ("add(self: norch._C.Tensor, other: object, *, alpha: object = 1) -> norch._C.Tensor"),
// which CPython does not read as a signature. CPython reads one from a builtin's docstring
// when it opens with "name(params)\n--\n\n" (the form Argument Clinic writes): that prefix
// becomes __text_signature__ and is cut from __doc__. After every binding is defined, each
// pybind11 function of the module and of its classes gets its docstring rewritten to that
// form, built from pybind11's line: annotations dropped, defaults kept where they are
// Python literals (others, which inspect could not evaluate, become "..."). The typed line
// stays in the docstring under the signature, so help() shows both.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "convert.h"

namespace norch::python {

namespace {

// Splits "a, b: list[int] = [1, 2], *, c" at the commas outside brackets and quotes.
std::vector<std::string> split_params(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char ch : s) {
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '(' || ch == '[' || ch == '{') {
      ++depth;
    } else if (ch == ')' || ch == ']' || ch == '}') {
      --depth;
    } else if (ch == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += ch;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(' ');
  return s.substr(b, e - b + 1);
}

// The position of the first `token` outside brackets and quotes, or npos.
size_t find_top_level(const std::string& s, const std::string& token) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (quote) {
      if (ch == quote) quote = 0;
      continue;
    }
    if (depth == 0 && s.compare(i, token.size(), token) == 0) return i;
    if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '(' || ch == '[' || ch == '{') {
      ++depth;
    } else if (ch == ')' || ch == ']' || ch == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && s != "inf" && s != "-inf" && s != "nan" &&
         (std::isdigit(static_cast<unsigned char>(s.back())) || s.back() == '.');
}

// A default inspect can evaluate (ast.literal_eval): None, booleans, numbers, plain strings,
// and tuples or lists of those.
bool is_literal(const std::string& raw) {
  std::string s = strip(raw);
  if (s == "None" || s == "True" || s == "False" || is_number(s)) return true;
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front() &&
      s.find('\\') == std::string::npos)
    return s.find(s.front(), 1) == s.size() - 1;
  if (s.size() >= 2 && ((s.front() == '(' && s.back() == ')') || (s.front() == '[' && s.back() == ']'))) {
    std::string inner = s.substr(1, s.size() - 2);
    for (const auto& item : split_params(inner)) {
      if (!strip(item).empty() && !is_literal(item)) return false;
    }
    return true;
  }
  return false;
}

// Parameter names CPython cannot parse in a signature (uniform_'s `from`).
bool is_keyword(const std::string& name) {
  static const char* const keywords[] = {"False", "None", "True", "and", "as", "assert", "async", "await",
                                         "break", "class", "continue", "def", "del", "elif", "else", "except",
                                         "finally", "for", "from", "global", "if", "import", "in", "is",
                                         "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
                                         "while", "with", "yield"};
  for (const char* k : keywords) {
    if (name == k) return true;
  }
  return false;
}

// "name: type = default" -> "name=default"; "*args: type" -> "*args"; "*" and "/" stay.
std::string untyped(const std::string& raw) {
  std::string p = strip(raw);
  std::string def;
  size_t eq = find_top_level(p, " = ");
  if (eq != std::string::npos) {
    def = strip(p.substr(eq + 3));
    p = p.substr(0, eq);
  }
  size_t colon = find_top_level(p, ":");
  if (colon != std::string::npos) p = p.substr(0, colon);
  p = strip(p);
  if (!def.empty()) p += "=" + (is_literal(def) ? strip(def) : std::string("..."));
  return p;
}

// "name(typed params) -> ret\n<doc>" -> "name(params)\n--\n\nname(typed params) -> ret\n<doc>",
// or "" when the docstring does not open with pybind11's signature line.
std::string with_text_signature(const char* name, const char* doc) {
  if (!doc || !name) return "";
  std::string d(doc);
  std::string n(name);
  if (d.compare(0, n.size() + 1, n + "(") != 0) return "";
  if (d.find("\n--\n\n") != std::string::npos) return "";  // already in CPython's form
  if (d.find("Overloaded function.") != std::string::npos) {
    return n + "(*args, **kwargs)\n--\n\n" + d;
  }
  size_t open = n.size();
  size_t close = find_top_level(d.substr(open + 1), ")");
  if (close == std::string::npos) return "";
  std::string params = d.substr(open + 1, close);
  std::string sig;
  for (const auto& p : split_params(params)) {
    std::string u = untyped(p);
    std::string bare = u.substr(0, u.find('='));
    if (is_keyword(bare)) {
      // not expressible as a signature: callers see the general form, the typed line below names them
      sig = "*args, **kwargs";
      break;
    }
    if (!sig.empty()) sig += ", ";
    sig += u;
  }
  return n + "(" + sig + ")\n--\n\n" + d;
}

void rewrite_function(PyObject* obj) {
  if (PyInstanceMethod_Check(obj)) obj = PyInstanceMethod_GET_FUNCTION(obj);
  if (Py_IS_TYPE(obj, &PyStaticMethod_Type)) {
    PyObject* func = PyObject_GetAttrString(obj, "__func__");
    if (!func) {
      PyErr_Clear();
      return;
    }
    rewrite_function(func);
    Py_DECREF(func);
    return;
  }
  // pybind11's functions carry their function record as __self__ (the record's type is
  // created per translation unit, so it is recognized by name, as pybind11 does across modules)
  if (!PyCFunction_Check(obj)) return;
  PyObject* self = PyCFunction_GET_SELF(obj);
  if (!self || !std::strstr(Py_TYPE(self)->tp_name, "pybind11_detail_function_record")) return;
  auto* func = reinterpret_cast<PyCFunctionObject*>(obj);
  std::string doc = with_text_signature(func->m_ml->ml_name, PYBIND11_PYCFUNCTION_GET_DOC(func));
  if (doc.empty()) return;
  // the same ownership as pybind11's own docstrings: strdup'ed here, freed by the record
  std::free(const_cast<char*>(PYBIND11_PYCFUNCTION_GET_DOC(func)));
  PYBIND11_PYCFUNCTION_SET_DOC(func, strdup(doc.c_str()));
}

void rewrite_namespace(PyObject* dict) {
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next(dict, &pos, &key, &value)) {
    if (PyType_Check(value)) continue;
    rewrite_function(value);
  }
}

}  // namespace

void install_text_signatures(py::module_& m) {
  // scripts/gen_stubs.py reads pybind11's typed lines, which a text signature would shadow
  if (std::getenv("NORCH_PYBIND11_DOCSTRINGS")) return;
  PyObject* dict = PyModule_GetDict(m.ptr());
  rewrite_namespace(dict);
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (PyDict_Next(dict, &pos, &key, &value)) {
    if (!PyType_Check(value)) continue;
    auto* type = reinterpret_cast<PyTypeObject*>(value);
    PyObject* module_name = PyObject_GetAttrString(value, "__module__");
    bool ours = module_name && PyUnicode_Check(module_name) &&
                PyUnicode_CompareWithASCIIString(module_name, "norch._C") == 0;
    Py_XDECREF(module_name);
    PyErr_Clear();
    if (ours) rewrite_namespace(type->tp_dict);
  }
}

}  // namespace norch::python

//! Rule ids, the lists each rule checks against, and findings.
//!
//! Ids are stable: LLM loops and CI configurations key on them. A rule is
//! never renumbered; a retired rule's id is never reused.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Rule {
    /// An import outside the allow-list (also star and relative imports).
    #[serde(rename = "FS001")]
    Import,
    /// A reference to a forbidden builtin (`eval`, `open`, `getattr`, ...).
    #[serde(rename = "FS002")]
    ForbiddenName,
    /// Dunder names, attributes and strings; format strings that read attributes.
    #[serde(rename = "FS003")]
    Dunder,
    /// Dangerous library surface: I/O, evaluation, OS modules, frame walks.
    #[serde(rename = "FS004")]
    DangerousAttribute,
    /// Source that is not valid UTF-8 or does not parse.
    #[serde(rename = "FS005")]
    Syntax,
    /// Source over the size limit, or nested deeper than the bound.
    #[serde(rename = "FS006")]
    Limits,
}

impl Rule {
    pub const ALL: [Rule; 6] =
        [Rule::Import, Rule::ForbiddenName, Rule::Dunder, Rule::DangerousAttribute, Rule::Syntax, Rule::Limits];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Import => "FS001",
            Rule::ForbiddenName => "FS002",
            Rule::Dunder => "FS003",
            Rule::DangerousAttribute => "FS004",
            Rule::Syntax => "FS005",
            Rule::Limits => "FS006",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Rule::Import => "import outside the allow-list",
            Rule::ForbiddenName => "forbidden builtin",
            Rule::Dunder => "dunder access",
            Rule::DangerousAttribute => "dangerous library surface",
            Rule::Syntax => "unreadable source",
            Rule::Limits => "source too large or too deeply nested",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub message: String,
    /// 1-based line and column (column in characters).
    pub line: usize,
    pub column: usize,
    /// The offending source text, shortened to one line.
    pub text: String,
}

/// Builtins whose mere reference is refused: each reaches code execution,
/// files, the interpreter's namespaces, or a way around the other rules.
pub const FORBIDDEN_NAMES: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "open",
    "input",
    "breakpoint",
    "globals",
    "locals",
    "vars",
    "getattr",
    "setattr",
    "delattr",
    "__import__",
    "memoryview",
    "help",
    "exit",
    "quit",
];

/// The default import allow-list. `time` is allowed: `time.sleep` can only
/// burn the run's own wall-clock budget, and timestamps are harmless.
/// Submodules of an allowed module are allowed unless a segment is dangerous
/// (`pandas.io`, `numpy.ctypeslib`).
pub const DEFAULT_ALLOWED_IMPORTS: &[&str] = &[
    "pandas",
    "numpy",
    "math",
    "statistics",
    "datetime",
    "time",
    "itertools",
    "functools",
    "collections",
    "typing",
    "dataclasses",
    "decimal",
    "fractions",
    "re",
    "json",
    "finlab",
    "warnings",
    "random",
    "operator",
    "heapq",
    "bisect",
    "enum",
    "copy",
    "string",
    "calendar",
];

/// Dunder names that stay allowed as bare names.
pub const ALLOWED_DUNDER_NAMES: &[&str] = &["__name__", "__doc__"];
/// Dunder attributes that stay allowed (`super().__init__()`, `pd.__version__`).
pub const ALLOWED_DUNDER_ATTRIBUTES: &[&str] = &["__init__", "__name__", "__version__", "__doc__"];
/// Dunder methods a strategy may define in its own classes.
pub const ALLOWED_DUNDER_DEFS: &[&str] = &[
    "__init__",
    "__repr__",
    "__str__",
    "__len__",
    "__iter__",
    "__next__",
    "__contains__",
    "__getitem__",
    "__setitem__",
    "__call__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__hash__",
    "__bool__",
    "__add__",
    "__sub__",
    "__mul__",
    "__truediv__",
    "__neg__",
    "__enter__",
    "__exit__",
    "__post_init__",
];
/// Dunder strings that stay allowed: `if __name__ == "__main__":`.
pub const ALLOWED_DUNDER_STRINGS: &[&str] = &["__main__"];

/// OS and interpreter modules: refused as imports (FS001) and wherever they
/// appear in an attribute chain, reached through another module
/// (`pd.io.common.os`, FS004).
pub const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "sys",
    "subprocess",
    "socket",
    "ctypes",
    "io",
    "builtins",
    "importlib",
    "shutil",
    "pathlib",
    "pickle",
    "marshal",
    "posix",
    "nt",
    "signal",
    "gc",
    "inspect",
    "types",
    "code",
    "codeop",
    "runpy",
    "multiprocessing",
    "tempfile",
    "glob",
    "urllib",
    "http",
    "ftplib",
    "smtplib",
    "telnetlib",
    "asyncio",
    "pty",
    "resource",
    "mmap",
    "sqlite3",
    "zipimport",
    "select",
    "fcntl",
    "ssl",
    "tarfile",
    "zipfile",
    "_os",
    "_sys",
    "_io",
    "_ctypes",
    "_posixsubprocess",
    "ctypeslib",
];

/// Evaluation of strings as code (`pd.eval`, `df.eval`, `df.query`).
pub const EVALUATION: &[&str] = &["eval", "query"];

/// numpy/pandas file readers and writers (besides every `read_*`).
pub const FILE_IO: &[&str] = &[
    "load",
    "save",
    "savez",
    "savez_compressed",
    "savetxt",
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "tofile",
    "fromregex",
    "memmap",
    "open_memmap",
    "DataSource",
    "ExcelWriter",
    "HDFStore",
    "to_csv",
    "to_pickle",
    "to_parquet",
    "to_feather",
    "to_hdf",
    "to_sql",
    "to_excel",
    "to_json",
    "to_html",
    "to_stata",
    "to_clipboard",
    "to_latex",
    "to_xml",
    "to_orc",
    "to_markdown",
];

/// Frame, code-object and traceback walks.
pub const FRAME_WALKS: &[&str] = &[
    "f_globals",
    "f_locals",
    "f_builtins",
    "f_back",
    "f_code",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "ag_code",
    "tb_frame",
    "tb_next",
    "co_code",
    "func_globals",
];

/// Modules whose import an operator may not allow without `--allow-insecure`.
pub fn is_dangerous_module(root: &str) -> bool {
    DANGEROUS_MODULES.contains(&root)
}

/// Every pandas reader (`read_csv`, `read_pickle`, ...) and the [`FILE_IO`] names.
pub fn is_file_io(name: &str) -> bool {
    name.starts_with("read_") || FILE_IO.contains(&name)
}

/// Attribute or imported names refused wherever they appear (FS004).
pub fn is_dangerous_attribute(name: &str) -> bool {
    is_dangerous_module(name) || EVALUATION.contains(&name) || is_file_io(name) || FRAME_WALKS.contains(&name)
}

pub fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

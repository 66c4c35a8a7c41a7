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
    /// Private (`_name`) attributes and imports outside the strategy's own
    /// `self`/`cls`: library internals are not an API.
    #[serde(rename = "FS007")]
    Private,
    /// String annotations that are more than type names: they are evaluated
    /// as code at run time (`typing.get_type_hints`, `singledispatch`).
    #[serde(rename = "FS008")]
    StringAnnotation,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::Import,
        Rule::ForbiddenName,
        Rule::Dunder,
        Rule::DangerousAttribute,
        Rule::Syntax,
        Rule::Limits,
        Rule::Private,
        Rule::StringAnnotation,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Import => "FS001",
            Rule::ForbiddenName => "FS002",
            Rule::Dunder => "FS003",
            Rule::DangerousAttribute => "FS004",
            Rule::Syntax => "FS005",
            Rule::Limits => "FS006",
            Rule::Private => "FS007",
            Rule::StringAnnotation => "FS008",
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
            Rule::Private => "private attribute of a library",
            Rule::StringAnnotation => "string annotation evaluated at run time",
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
    "license",
    "credits",
    "copyright",
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

/// OS and interpreter modules: imports an operator may not allow without
/// `--allow-insecure` (every import outside the allow-list is FS001 anyway).
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
    "threading",
    "_thread",
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
    "codecs",
    "linecache",
    "tokenize",
    "traceback",
    "pyarrow",
    "_os",
    "_sys",
    "_io",
    "_ctypes",
    "_posixsubprocess",
    "ctypeslib",
];

/// Module names refused as attributes and as imported names, wherever they
/// appear (`json.codecs`, `from json import codecs`, `pd.io.common.os`).
///
/// What matters is what an attribute can reach, not how it is spelled: a
/// module outside the allow-list is reachable from a strategy only as an
/// attribute of a module it may import. This list is every module-valued
/// attribute of the allowed modules that leads outside the allow-list,
/// measured in the image after importing them all
/// (`tests/screening/module_attributes.py`; the test
/// `screening::module_attributes_of_allowed_modules_are_refused` fails when
/// the image grows a new one), plus library-internal modules that are
/// dangerous although their root is allowed (`np.testing.measure` runs a
/// string, `pd.compat.pickle_compat` unpickles, `np.lib.npyio` opens files,
/// `pd.core.computation` evaluates strings). Private ones (`_os`, `_sys`)
/// are FS007's. `signal`, `code`, `select` and `resource` are not here: no
/// allowed module exposes them, so `self.signal` (a MACD line) or
/// `row.code` (a stock code) cannot be those modules; importing them is
/// still FS001.
pub const MODULE_ATTRIBUTES: &[&str] = &[
    // Measured: module-valued attributes of allowed modules, outside the allow-list.
    "ast",
    "bltns",
    "builtins",
    "bz2",
    "codecs",
    "contextlib",
    "copyreg",
    "ctypes",
    "gc",
    "gzip",
    "importlib",
    "inspect",
    "io",
    "lzma",
    "mmap",
    "os",
    "pa",
    "pathlib",
    "pickle",
    "pkl",
    "platform",
    "pyarrow",
    "subprocess",
    "sys",
    "sysconfig",
    "tarfile",
    "tempfile",
    "tokenize",
    "types",
    "uuid",
    "zipfile",
    // Reached lazily or by the harness; readers of files and frames.
    "linecache",
    "traceback",
    "posix",
    "shutil",
    "socket",
    "marshal",
    "threading",
    "multiprocessing",
    "runpy",
    "codeop",
    // Library internals under allowed roots.
    "ctypeslib",
    "testing",
    "compat",
    "pickle_compat",
    "computation",
    "npyio",
    "f2py",
    "distutils",
    // `pd.options.plotting.backend = 'mod'` imports `mod` by name.
    "plotting",
];

/// Tools that reach attributes by a computed string, or evaluate strings as
/// annotations: `operator.attrgetter('f_globals')`, `string.Formatter().get_field`,
/// `typing.get_type_hints` (evaluates string annotations in the module's
/// namespace), `typing.ForwardRef`.
pub const COMPUTED_ACCESS: &[&str] = &[
    "attrgetter",
    "methodcaller",
    "Formatter",
    "vformat",
    "get_field",
    "get_type_hints",
    "ForwardRef",
    "get_annotations",
    "import_optional_dependency",
    "lookfor",
];

/// numpy views that ignore the array's bounds: `as_strided` reads and
/// writes any memory of the process (and could switch off a runtime layer
/// from inside); `sliding_window_view` is the bounds-checked equivalent.
pub const RAW_MEMORY: &[&str] = &["as_strided"];

/// Functions that read source files by name: `warnings.formatwarning(m, c,
/// '/etc/passwd', 1)` returns the file's first line (through `linecache`).
pub const SOURCE_READERS: &[&str] = &["formatwarning", "showwarning", "warn_explicit", "getline", "getlines"];

/// Module-valued attributes of allowed modules, outside the allow-list, that
/// were judged harmless: they hold no file, process or evaluation functions
/// of their own (what they import in turn, like `contextlib.os`, is refused
/// by name at the next step). They stay usable as attribute names
/// (`self.numbers`, `cfg.locale`, `stats.pc`).
pub const HARMLESS_MODULE_ATTRIBUTES: &[&str] = &[
    "abc",
    "numbers",
    "textwrap",
    "keyword",
    "cmath",
    "contextvars",
    "token",
    "struct",
    "pprint",
    "unicodedata",
    "zoneinfo",
    "pytz",
    "locale",
    "weakref",
    "csv",
    "pc",
];

/// `to_*` methods that never take a path or a buffer: the conversions a
/// strategy uses (`to_numpy`, `pd.to_datetime(x)`). Every other `to_*`
/// called with an argument that could be a path or a buffer (a positional
/// argument, `buf=`, `path=`, `*args`/`**kwargs`) is a writer (FS004), unless
/// the strategy defines a function of that name itself; known writers
/// ([`FILE_IO`], `to_string`) never get that exemption.
pub const PURE_TO: &[&str] = &[
    "to_numpy",
    "to_frame",
    "to_dict",
    "to_list",
    "to_records",
    "to_period",
    "to_timestamp",
    "to_datetime",
    "to_datetime64",
    "to_numeric",
    "to_timedelta",
    "to_timedelta64",
    "to_series",
    "to_offset",
    "to_pydatetime",
    "to_pytimedelta",
    "to_flat_index",
    "to_dense",
    "to_coo",
    "to_julian_date",
    "to_tuples",
    "to_integral",
    "to_integral_value",
    "to_eng_string",
    "to_bytes",
];

/// Keyword arguments of `to_*` methods that name a file or a buffer.
pub const PATH_KEYWORDS: &[&str] =
    &["buf", "path", "path_or_buf", "excel_writer", "fname", "file", "filename", "fid", "con", "destination"];

/// pandas methods that look a string argument up as a method name
/// (`df.apply('to_csv', path_or_buf=...)` calls `df.to_csv(...)`).
pub const STRING_DISPATCH: &[&str] = &["apply", "agg", "aggregate", "transform"];

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
    "to_gbq",
    "dump",
    "ExcelFile",
    "NpzFile",
    "show_versions",
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
    MODULE_ATTRIBUTES.contains(&name)
        || EVALUATION.contains(&name)
        || is_file_io(name)
        || FRAME_WALKS.contains(&name)
        || COMPUTED_ACCESS.contains(&name)
        || SOURCE_READERS.contains(&name)
        || RAW_MEMORY.contains(&name)
}

pub fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// `_name` but not `__dunder__` (and not `_` alone, the throwaway name).
pub fn is_private(name: &str) -> bool {
    name.len() > 1 && name.starts_with('_') && !is_dunder(name)
}

/// A `to_*` method that may write to a path or buffer when given one.
pub fn is_writer_name(name: &str) -> bool {
    (name.starts_with("to_") && !PURE_TO.contains(&name)) || name == "tofile"
}

"""The runtime policy: a second layer inside the interpreter, not the boundary.

Part of the harness program: the host appends this file to harness.py (and
a call of `main()` after both) and runs the whole as `python3 -c`, so it
shares harness.py's globals and imports and counts as the harness's own
code ("<string>") in the policy's judgement of who imports.
"""


# What the strategy itself may import: the screen's default allow-list (the
# host may send its configured list as `allowed_imports`). What the libraries
# import for themselves (lazily loaded submodules, their own dependencies) is
# judged by who imports: library code from Python's own directories may.
DEFAULT_ALLOWED_IMPORTS = (
    "pandas", "numpy", "math", "statistics", "datetime", "time", "itertools", "functools",
    "collections", "typing", "dataclasses", "decimal", "fractions", "re", "json", "finlab",
    "warnings", "random", "operator", "heapq", "bisect", "enum", "copy", "string", "calendar",
)

RUNTIME_RULES = {
    "R001": "files are written only under /tmp",
    "R002": "files are read only from the data, Python's own library and /tmp",
    "R003": "imports outside the allow-list",
    "R004": "compiling or executing strings, making code objects",
    "R005": "ctypes",
    "R006": "pickle and marshal loads",
    "R007": "new processes and signals",
    "R008": "sockets",
    "R009": "walking the interpreter's objects",
}


def install_runtime_policy(request, code, filename, refusals):
    """Install the PEP 578 audit hook that refuses, with the rule's id in the
    message, what a strategy has no business doing: see RUNTIME_RULES.

    Called last in the trusted phase, right before the strategy's code runs:
    after the imports, the data load and the seccomp lockdown, so nothing the
    harness needs is refused. An audit hook cannot be removed once added.

    This is a second layer, not the boundary: code that runs in the process
    can in principle corrupt the interpreter itself, and native libraries
    that open files themselves (Arrow's C++ filesystem) raise no audit event.
    The container and the seccomp filters stay what holds; this layer makes
    escapes through the Python surface fail early, with a message that names
    the rule. `refusals` collects what was refused (for the summary;
    informational only, since the strategy controls the process).

    The hook must not be bent by the strategy it watches: it uses only what
    it captured here (builtins, C functions of posix, bound C methods), never
    a module attribute or builtin looked up at call time (a strategy can
    replace `builtins.any` or `os.path.realpath`), and it never calls an
    object the strategy made (no `__fspath__`, `__str__`, properties):
    arguments of another type than str, bytes or int are refused.
    """
    import _io
    import _stat
    import collections
    import dataclasses
    import keyword
    import posix
    import re as _re
    import resource  # noqa: F401  (the summary reads it after the strategy)
    import types

    # The host opts in per run (`"runtime_policy": true` in the setup line).
    # Off when absent, so the tests and the self-test that probe the layers
    # underneath (container, seccomp) through Python keep reaching them.
    if request.get("runtime_policy") is not True:
        return False

    # Everything the hook calls, captured now.
    str_, bytes_, int_, dict_, type_, len_ = str, bytes, int, dict, type, len
    memoryview_, PermissionError_ = memoryview, PermissionError
    OSError_, ValueError_ = OSError, ValueError
    startswith, split, join = str.startswith, str.split, str.join
    partition, isidentifier = str.partition, str.isidentifier
    decode, bytes_eq = bytes.decode, bytes.__eq__
    lstat, readlink, getcwd = posix.lstat, posix.readlink, posix.getcwd
    S_ISLNK = _stat.S_ISLNK
    getframe = sys._getframe
    iskeyword = keyword.iskeyword
    ModuleType = types.ModuleType
    FileIO = _io.FileIO
    fs_encoding = sys.getfilesystemencoding()
    pid = posix.getpid()
    WRITE_FLAGS = posix.O_WRONLY | posix.O_RDWR | posix.O_CREAT | posix.O_TRUNC | posix.O_APPEND

    def real(path):
        """realpath() from captured C calls only: symlinks resolved, `..` applied
        after resolving (as the kernel does), missing parts kept as written."""
        if not startswith(path, "/"):
            path = getcwd() + "/" + path
        parts = [p for p in split(path, "/") if p and p != "."]
        done = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/" + join("/", done + [part])
            try:
                mode = lstat(candidate).st_mode
            except (OSError_, ValueError_):
                done.append(part)
                continue
            if S_ISLNK(mode):
                hops += 1
                if hops > 40:
                    refuse("R002", f"the symlink loop at {candidate!r}")
                target = readlink(candidate)
                if startswith(target, "/"):
                    done = []
                parts = [p for p in split(target, "/") if p and p != "."] + parts
            else:
                done.append(part)
        return "/" + join("/", done)

    def prefix(path):
        return real(path).rstrip("/") + "/"

    allowed_imports = frozenset(request.get("allowed_imports") or DEFAULT_ALLOWED_IMPORTS)
    library_roots = tuple(sorted({prefix(p) for p in list(sys.path) + ["/usr/share/zoneinfo"] if p and os.path.isdir(p)}))
    data_path = real(request.get("data_path") or "/data/market")
    tmp_root = prefix("/tmp")
    # The container's own cgroup limits are readable (a strategy may size its
    # work to its CPU quota; nothing of the host is there).
    read_roots = library_roots + (tmp_root, data_path.rstrip("/") + "/", "/sys/fs/cgroup/")
    read_files = frozenset({data_path, "/dev/null", "/dev/urandom", "/dev/random"})
    write_files = frozenset({"/dev/null"})
    # The process may read its own threads' status (the self-test checks the filters).
    own_status = _re.compile(rf"/proc/{pid}/(status|task|task/\d+/status)\Z").match
    trusted_files = frozenset({"<string>", "finlab_compat.py"}) - {filename}
    machinery = ("<frozen importlib", prefix(os.path.dirname(_re.__file__) + "/../importlib"))

    strategy_code = code
    namedtuple_code = collections.namedtuple.__code__
    # namedtuple compiles exactly this, from names it checked are identifiers.
    namedtuple_source = _re.compile(r"lambda _cls, (\w+(, \w+)*,?)?: _tuple_new\(_cls, \(([\w, ]*)\)\)\Z").match
    create_fn_code = dataclasses._create_fn.__code__
    process_class_code = dataclasses._process_class.__code__
    dataclasses_file = create_fn_code.co_filename
    # dataclasses writes methods as source from the field names: allowed only
    # while neither dataclasses, its Field class nor the builtins it calls
    # (repr, str) were changed since now, so the names are what it checked.
    dataclasses_globals = dataclasses.__dict__
    Field = dataclasses.Field
    field_name = Field.__dict__["name"].__get__
    import builtins

    unchanged = (
        (dataclasses_globals, tuple(dataclasses_globals.items())),
        (Field.__dict__, tuple(Field.__dict__.items())),
        (builtins.__dict__, tuple(builtins.__dict__.items())),
    )
    CodeType = types.CodeType
    import typing

    # typing compiles (never runs) string annotations into ForwardRef objects;
    # libraries do it at run time (pandas: Union["Series", ...]). Evaluating
    # one is an exec event and stays refused.
    forwardref_init_code = typing.ForwardRef.__init__.__code__
    import ast

    # ast.parse compiles to a syntax tree only, never to code (traceback uses
    # it for the caret lines of every error): allowed while its module still
    # asks for a tree and `compile` is still the builtin.
    ast_parse_code, ast_globals, only_ast = ast.parse.__code__, ast.__dict__, ast.PyCF_ONLY_AST
    builtin_compile, builtins_dict = compile, builtins.__dict__
    rules = dict(RUNTIME_RULES)
    try:
        import _imp
        import importlib._bootstrap as bootstrap
        import importlib._bootstrap_external as external

        get_code_code = external.SourceLoader.get_code.__code__
        compile_bytecode_code = external._compile_bytecode.__code__
        call_removed_code = bootstrap._call_with_frames_removed.__code__
        extension_calls = (_imp.create_dynamic, _imp.exec_dynamic)
    except Exception:  # no exception for the import machinery then: fail closed
        get_code_code = compile_bytecode_code = call_removed_code = None
        extension_calls = ()
    trusted_cache = {}

    def refuse(rule, what):
        message = f"finsandbox runtime policy {rule} ({rules[rule]}): {what} is refused"
        if len_(refusals) < 20:
            refusals.append({"rule": rule, "what": what[:200]})
        # A plain PermissionError (errno None): code that handles refused
        # operations keeps working; the message names the rule.
        raise PermissionError_(message)

    def text(x):
        """A str argument as is; anything else only by its type's name."""
        return x if type_(x) is str_ else f"<{type_(x).__name__}>" if type_(type_(x)) is type_ else "<object>"

    def under(path, prefixes):
        for p in prefixes:
            if startswith(path, p):
                return True
        return False

    def resolve(path, rule):
        """The real path of a path argument; None for a file descriptor."""
        kind = type_(path)
        if kind is int_:
            return None
        if kind is bytes_:
            path = decode(path, fs_encoding, "surrogateescape")
        elif kind is not str_:
            refuse(rule, f"a path given as {text(path)} (pass a str)")
        # A relative path with `..` could be resolved against a directory
        # descriptor the hook cannot see: only plain ones pass.
        if not startswith(path, "/") and ".." in split(path, "/"):
            refuse(rule, f"the relative path {path!r}")
        return real(path)

    def check_write(path, what="writing"):
        r = resolve(path, "R001")
        if r is None or r in write_files or startswith(r + "/", tmp_root):
            return
        refuse("R001", f"{what} {r!r}")

    def check_read(path, what="reading"):
        r = resolve(path, "R002")
        if r is None or r in read_files or under(r, read_roots) or own_status(r):
            return
        refuse("R002", f"{what} {r!r}")

    def on_open(args):
        path, mode, flags = args[0], args[1], args[2]
        writes = False
        if type_(mode) is str_:
            for c in "wax+":
                if c in mode:
                    writes = True
        elif mode is not None:
            refuse("R001", f"an open() mode given as {text(mode)}")
        if type_(flags) is int_ and flags & WRITE_FLAGS:
            writes = True
        if writes:
            check_write(path, "opening for writing")
        else:
            check_read(path, "reading")

    def frame_is_trusted(f):
        name = f.f_code.co_filename
        if type_(name) is not str_:
            return False
        known = trusted_cache.get(name)
        if known is None:
            known = name in trusted_files or (startswith(name, "/") and under(real(name), library_roots))
            trusted_cache[name] = known
        return known

    def check_import(name, start):
        """The strategy may import the allow-list (and its submodules); library
        code may import what it needs. `start`: the frame that raised the event."""
        if type_(name) is str_ and partition(name, ".")[0] in allowed_imports:
            return
        f = start
        while f is not None and startswith(f.f_code.co_filename, machinery):
            f = f.f_back
        if f is not None and frame_is_trusted(f):
            return  # a library importing what it needs
        refuse("R003", f"importing {text(name)!r}")

    def on_import(args):
        name = args[0]
        if len_(args) > 1 and type_(args[1]) is str_:  # an extension module being loaded
            if not under(real(args[1]), library_roots):
                refuse("R003", f"loading the extension {args[1]!r}")
        check_import(name, getframe(2))

    def module_being_loaded(f):
        """The import system runs a module's code from exec_module(module): its
        name. Catches every route into the import system (importlib.import_module,
        __import__, loaders called by hand), not only the `import` statement."""
        while f is not None and startswith(f.f_code.co_filename, machinery):
            module = f.f_locals.get("module")
            if type_(module) is ModuleType:
                return module.__dict__.get("__name__")
            f = f.f_back
        return None

    def from_extension_init(f):
        """Compiling inside an extension module's initialisation (Cython does)."""
        if f is None or f.f_code is not call_removed_code:
            return False
        called = f.f_locals.get("f")
        for e in extension_calls:
            if called is e:
                return True
        return False

    def untouched():
        for mapping, items in unchanged:
            if len_(mapping) != len_(items):
                return False
            for key, value in items:
                if mapping.get(key, unchanged) is not value:
                    return False
        return True

    def dataclass_fields_are_names(f):
        """dataclasses writes its methods as source text with the field names in
        it: allowed only when dataclasses itself (its own code, its own globals,
        all unchanged) does it for a class whose fields are real Field objects
        named by plain identifiers (nothing to inject)."""
        if f is None or f.f_code is not create_fn_code or f.f_globals is not dataclasses_globals:
            return False
        f = f.f_back
        while f is not None and f.f_code.co_filename == dataclasses_file and f.f_globals is dataclasses_globals:
            if f.f_code is process_class_code:
                fields = f.f_locals.get("fields")
                if type_(fields) is not dict_ or not untouched():
                    return False
                for k, v in fields.items():
                    if type_(k) is not str_ or not isidentifier(k) or iskeyword(k):
                        return False
                    if type_(v) is not Field:
                        return False
                    name = field_name(v, Field)
                    if type_(name) is not str_ or name != k:
                        return False
                return True
            f = f.f_back
        return False

    def generated_by_stdlib(f, source=None):
        if f is not None and f.f_code is namedtuple_code:
            return source is None or namedtuple_match(source)
        return dataclass_fields_are_names(f) or from_extension_init(f)

    def namedtuple_match(source):
        kind = type_(source)
        if kind is bytes_:
            source = decode(source, "utf-8", "replace")
        elif kind is not str_:
            return False
        return namedtuple_source(source) is not None

    def on_compile(args):
        raiser = getframe(2)
        if raiser is not None and raiser.f_code is forwardref_init_code:
            return
        if (
            raiser is not None
            and raiser.f_code is ast_parse_code
            and raiser.f_globals is ast_globals
            and ast_globals.get("PyCF_ONLY_AST") is only_ast
            and builtins_dict.get("compile") is builtin_compile
        ):
            return
        if generated_by_stdlib(raiser, args[0]):
            return
        refuse("R004", "compile()")

    def on_exec(args):
        code_obj = args[0]
        if code_obj is strategy_code:
            return
        raiser = getframe(2)
        if type_(code_obj) is CodeType and raiser is not None and raiser.f_code is call_removed_code:
            name = code_obj.co_filename
            if type_(name) is str_ and startswith(name, "/") and under(real(name), library_roots):
                # A module's code from Python's own directories, run by the import system.
                check_import(module_being_loaded(raiser), raiser)
                return
        if generated_by_stdlib(raiser):
            return
        refuse("R004", "exec()/eval() of code the strategy made")

    def verified_bytecode(args):
        """marshal.loads by the import system, of the exact bytes of a .pyc file
        in Python's own directories."""
        f = getframe(3)
        if f is None or f.f_code is not compile_bytecode_code:
            return False
        f = f.f_back
        if f is None or f.f_code is not get_code_code:
            return False
        path = f.f_locals.get("bytecode_path")
        if type_(path) is not str_ or not under(real(path), library_roots):
            return False
        with FileIO(path, "r") as fh:
            on_disk = fh.readall()
        # memoryview: no Python-level code of the caller's object runs here.
        return bytes_eq(memoryview_(args[0]).tobytes(), on_disk[16:]) is True

    def on_marshal(args):
        if verified_bytecode(args):
            return
        refuse("R006", "marshal.loads()")

    def deny(rule, what):
        def handler(args):
            refuse(rule, what)

        return handler

    def write_args(*indexes, what="changing"):
        def handler(args):
            for i in indexes:
                if i < len_(args) and args[i] is not None:
                    check_write(args[i], what)

        return handler

    def on_symlink(args):
        src, dst = args[0], args[1]
        dir_fd = args[2] if len_(args) > 2 else None
        if not (dir_fd is None or (type_(dir_fd) is int_ and dir_fd == -1)):
            refuse("R001", "a symlink relative to a directory descriptor")
        link = resolve(dst, "R001")
        check_write(dst, "creating a link at")
        target = resolve(src, "R001") if type_(src) is not int_ else None
        if target is None:
            refuse("R001", "a symlink to a file descriptor")
        if type_(src) is str_ and not startswith(src, "/"):
            parent = join("/", split(link, "/")[:-1]) or "/"
            target = real(parent + "/" + src)
        check_write(target, "linking to")

    def on_listdir(args):
        path = args[0] if len_(args) else None
        check_read("." if path is None else path, "listing")

    def on_find_class(args):
        refuse("R006", f"pickle loading {text(args[0])}.{text(args[1])}")

    handlers = {
        "open": on_open,
        "os.listdir": on_listdir,
        "os.scandir": on_listdir,
        "glob.glob": on_listdir,
        "os.remove": write_args(0, what="removing"),
        "os.rmdir": write_args(0, what="removing"),
        "os.rename": write_args(0, 1, what="renaming"),
        "os.mkdir": write_args(0, what="creating"),
        "os.chmod": write_args(0, what="changing the mode of"),
        "os.chown": write_args(0, what="changing the owner of"),
        "os.truncate": write_args(0, what="truncating"),
        "os.utime": write_args(0, what="changing the times of"),
        "os.setxattr": write_args(0, what="changing attributes of"),
        "os.removexattr": write_args(0, what="changing attributes of"),
        "os.link": write_args(0, 1, what="linking"),
        "os.symlink": on_symlink,
        "shutil.rmtree": write_args(0, what="removing"),
        "shutil.move": write_args(0, 1, what="moving"),
        "sqlite3.connect": deny("R001", "sqlite3.connect()"),
        "import": on_import,
        "compile": on_compile,
        "exec": on_exec,
        "code.__new__": deny("R004", "making a code object"),
        "marshal.loads": on_marshal,
        "marshal.load": deny("R006", "marshal.load()"),
        "pickle.find_class": on_find_class,
        "subprocess.Popen": deny("R007", "subprocess"),
        "os.system": deny("R007", "os.system()"),
        "os.exec": deny("R007", "os.exec*()"),
        "os.posix_spawn": deny("R007", "os.posix_spawn()"),
        "os.spawn": deny("R007", "os.spawn*()"),
        "os.fork": deny("R007", "os.fork()"),
        "os.forkpty": deny("R007", "os.forkpty()"),
        "pty.spawn": deny("R007", "pty.spawn()"),
        "os.kill": deny("R007", "os.kill()"),
        "os.killpg": deny("R007", "os.killpg()"),
        "signal.pthread_kill": deny("R007", "signal.pthread_kill()"),
        "gc.get_objects": deny("R009", "gc.get_objects()"),
        "gc.get_referrers": deny("R009", "gc.get_referrers()"),
        "gc.get_referents": deny("R009", "gc.get_referents()"),
        "sys._current_frames": deny("R009", "sys._current_frames()"),
    }
    get_handler = handlers.get

    def hook(event, args):
        if type_(event) is not str_:  # sys.audit() from Python: never hash the caller's object
            return
        handler = get_handler(event)
        if handler is not None:
            handler(args)
        elif startswith(event, "ctypes."):
            refuse("R005", event)
        elif startswith(event, "socket."):
            refuse("R008", event)

    sys.addaudithook(hook)
    return True

/* A compiled check of one piece of a chain stored in SQLite: does every entry check out?
 *
 * A Reader holds a read-only connection (memory-mapped) and reads the rows itself, through
 * SQLite's C interface, with no Python object per row, and makes the walk's checks
 * (_walkcheck.h) with the interpreter lock released, so that pieces run side by side in
 * threads. At the first entry that does not check out it stops and says so; the Python
 * walk then walks that piece again and names the problem.
 *
 * Optional: built when the SQLite and OpenSSL headers are there (pyproject.toml); without
 * it verification walks every chain in Python (passport/fastwalk.py).
 */
#include "_walkcheck.h"
#include <sqlite3.h>
#include <stdio.h>

/* chain.walk_segment's checks over the statement's rows, until the first that fails.
 * Columns: seq, prev_hash, document, hash (then id, kind, amends for the passport). */
static void walk_rows(sqlite3_stmt *st, Check *c, Walk *w)
{
    int rc;
    Row r;
    memset(&r, 0, sizeof(r));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Types first: sqlite3_column_type is undefined once a value has been converted.
         * Values of another type than the Python walk expects are left for it to judge. */
        int amends_null = c->ledger == PASSPORT && sqlite3_column_type(st, 6) == SQLITE_NULL;
        int typed = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                    sqlite3_column_type(st, 1) == SQLITE_TEXT &&
                    sqlite3_column_type(st, 2) == SQLITE_TEXT &&
                    sqlite3_column_type(st, 3) == SQLITE_TEXT &&
                    (c->ledger != PASSPORT || (sqlite3_column_type(st, 4) == SQLITE_TEXT &&
                                               sqlite3_column_type(st, 5) == SQLITE_TEXT &&
                                               (amends_null ||
                                                sqlite3_column_type(st, 6) == SQLITE_TEXT)));
        if (!typed) {
            w->ok = 0;
            break;
        }
        /* Text read as blobs: the bytes in place, where text would be copied to end them
         * with a NUL (a zero-length value reads as NULL, and is left to the Python walk). */
        r.seq = sqlite3_column_int64(st, 0);
        r.prev = sqlite3_column_blob(st, 1);
        r.prev_len = sqlite3_column_bytes(st, 1);
        r.doc = sqlite3_column_blob(st, 2);
        r.dlen = sqlite3_column_bytes(st, 2);
        r.hash = sqlite3_column_blob(st, 3);
        r.hash_len = sqlite3_column_bytes(st, 3);
        if (c->ledger == PASSPORT) {
            r.id = sqlite3_column_blob(st, 4);
            r.id_len = sqlite3_column_bytes(st, 4);
            r.kind = sqlite3_column_blob(st, 5);
            r.kind_len = sqlite3_column_bytes(st, 5);
            r.amends = amends_null ? NULL : sqlite3_column_blob(st, 6);
            r.amends_len = amends_null ? 0 : sqlite3_column_bytes(st, 6);
            if (!amends_null && r.amends == NULL) {
                w->ok = 0; /* an empty string, not NULL */
                break;
            }
        }
        if (!check_row(c, w, &r))
            break;
    }
    if (w->ok && rc != SQLITE_DONE) {
        w->ok = 0;
        w->failed = 1;
    }
    check_end(c, w);
}

/* --- Reader: one read-only connection and its prepared query ------------------------- */

typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    sqlite3_stmt *st;
    int busy;
} Reader;

static void reader_close(Reader *self)
{
    sqlite3_finalize(self->st);
    self->st = NULL;
    sqlite3_close(self->db);
    self->db = NULL;
}

static void reader_dealloc(Reader *self)
{
    reader_close(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int reader_init(Reader *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "sql", NULL};
    const char *path, *sql;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss", kwlist, &path, &sql))
        return -1;
    reader_close(self);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(self->db, 30000);
    /* Pages are read from the operating system's cache in place, not copied. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(self->db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(self->db, sql, -1, &self->st, NULL);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_Format(PyExc_OSError, "cannot open the chain's database: %s",
                     self->db != NULL ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        reader_close(self);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(reader_walk_doc,
             "walk(key_param, first, last, ledger, key, start, prev, mark)\n"
             "--\n\n"
             "Check the chain's rows from seq ``first`` to ``last`` as chain.walk_segment\n"
             "would. Returns (ok, first_seq, links_to, count, head_hash, marked); when ok is\n"
             "False nothing else is meaningful: walk the piece in Python. ``ledger`` is 0 for\n"
             "the passport, 1 for the audit log. Raises OSError when the rows cannot be read.");

static PyObject *reader_walk(Reader *self, PyObject *args)
{
    WalkArgs a;
    Check c;
    Walk w;
    int rc = SQLITE_OK;

    if (parse_walk_args(args, &a) < 0)
        return NULL;
    if (self->st == NULL || self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the reader is closed or walking another piece");
        return NULL;
    }
    if (PyLong_Check(a.key_param)) {
        rc = sqlite3_bind_int64(self->st, 1, PyLong_AsLongLong(a.key_param));
    } else {
        Py_ssize_t n;
        const char *text = PyUnicode_AsUTF8AndSize(a.key_param, &n);
        if (text == NULL)
            return NULL;
        /* Copied: the statement outlives this call's hold on the string. */
        rc = sqlite3_bind_text(self->st, 1, text, (int)n, SQLITE_TRANSIENT);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(self->st, 2, a.first);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(self->st, 3, a.last);
    if (rc != SQLITE_OK)
        return PyErr_Format(PyExc_OSError, "cannot read the chain: %s",
                            sqlite3_errmsg(self->db));
    check_begin(&c, &w, a.ledger, UUID_AS_HEX, a.key, (int)a.keylen, a.start, a.prev, a.mark);
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    walk_rows(self->st, &c, &w);
    if (w.failed)
        snprintf(w.error, sizeof(w.error), "%s", sqlite3_errmsg(self->db));
    /* Ends the read: the connection holds no snapshot between pieces. */
    sqlite3_reset(self->st);
    sqlite3_clear_bindings(self->st);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    return walk_result(&w);
}

static PyMethodDef reader_methods[] = {
    {"walk", (PyCFunction)reader_walk, METH_VARARGS, reader_walk_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "teleconsult.passport._fastwalk.Reader",
    .tp_doc = PyDoc_STR("Reader(path, sql): a read-only connection to a chain's database, "
                        "with the query of its rows prepared."),
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)reader_init,
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_methods = reader_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastwalk",
    .m_doc = "Compiled chain checks over SQLite.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__fastwalk(void)
{
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

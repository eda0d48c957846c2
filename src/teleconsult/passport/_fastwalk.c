/* A compiled check of one piece of a chain stored in SQLite: does every entry check out?
 *
 * A Reader holds a read-only connection (memory-mapped) and reads the rows itself, through
 * SQLite's C interface, with no Python object per row. It makes exactly the checks of
 * chain.walk_segment and of the ledger's column binding (bindings.py): seq in order, each
 * entry linked to the one before, the SHA-256 of the previous hash and the document equal
 * to the stored hash, the repeated columns equal to the document's fields. It does not
 * explain a failure: at the first entry that does not check out it stops and says so, and
 * the Python walk, the one source of the reports' wording, walks that piece again and
 * names the problem. The interpreter lock is released while it reads and hashes.
 *
 * Optional: built when the SQLite and OpenSSL headers are there (pyproject.toml); without
 * it verification walks every chain in Python (passport/fastwalk.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* OpenSSL's plain SHA-256 functions: deprecated in favour of EVP since 3.0, yet some 15%
 * faster here for entries of a few hundred bytes (EVP sets up a digest per call). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_HEX 64
#define UUID_HEX 32
#define UUID_DASHED 36
/* A previous hash as stored may be of any length (a tampered one); longer ones than this
 * are left to the Python walk. */
#define PREV_MAX 256

enum ledger { PASSPORT = 0, AUDIT = 1 };

typedef struct {
    int ok;              /* every row checked out */
    long long count;     /* rows that checked out */
    int have_first;
    long long first_seq; /* the first row's seq, and the previous hash it names */
    char links_to[PREV_MAX];
    int links_len;
    int have_head;
    char head[PREV_MAX]; /* the last good entry's hash (or the hash given to link to) */
    int head_len;
    int have_marked;
    char marked[HASH_HEX]; /* the hash of entry `mark`, if passed */
    int rc;                /* SQLite result code of a failure to read */
    char error[256];
} Walk;

static const char HEX_DIGITS[] = "0123456789abcdef";

/* The 8-4-4-4-12 form of a UUID held as 32 hex digits. */
static void dash_uuid(const unsigned char *hex, char *out)
{
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
}

static int starts_with(const unsigned char *s, int len, const char *prefix, int plen)
{
    return len >= plen && memcmp(s, prefix, (size_t)plen) == 0;
}

/* Whether the stored bytes the hash covers, previous hash then document, hold `prefix`
 * where a well-formed entry's document starts (after the 64 digits of the previous hash):
 * bindings.py looks there, whatever the lengths of the two columns. */
static int payload_starts_with(const unsigned char *prev, int prev_len, const unsigned char *doc,
                               int dlen, const char *prefix, int n)
{
    if (prev_len == HASH_HEX)
        return starts_with(doc, dlen, prefix, n);
    for (int i = 0; i < n; i++) {
        int at = HASH_HEX + i;
        int byte;
        if (at < prev_len)
            byte = prev[at];
        else if (at - prev_len < dlen)
            byte = doc[at - prev_len];
        else
            return 0;
        if (byte != (unsigned char)prefix[i])
            return 0;
    }
    return 1;
}

static int ends_with(const unsigned char *s, int len, const char *suffix, int slen)
{
    return len >= slen && memcmp(s + len - slen, suffix, (size_t)slen) == 0;
}

/* Decimal digits of a non-negative seq, as Python's str(int) writes them. */
static int put_seq(char *out, long long seq)
{
    char digits[24];
    int n = 0;
    if (seq < 0)
        return -1;
    unsigned long long v = (unsigned long long)seq;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

/* bindings.passport_binding for one row: columns 4, 5, 6 are id, kind, amends. */
static int passport_bound(sqlite3_stmt *st, int amends_null, const unsigned char *prev,
                          int prev_len, const unsigned char *doc, int dlen, long long seq,
                          const char *key, int keylen)
{
    char buf[512];
    if (amends_null) {
        if (!payload_starts_with(prev, prev_len, doc, dlen, "{\"amends\":null,", 15))
            return 0;
    } else {
        const unsigned char *amends = sqlite3_column_blob(st, 6);
        if (amends == NULL || sqlite3_column_bytes(st, 6) != UUID_HEX)
            return 0;
        memcpy(buf, "{\"amends\":\"", 11);
        dash_uuid(amends, buf + 11);
        memcpy(buf + 11 + UUID_DASHED, "\",", 2);
        if (!payload_starts_with(prev, prev_len, doc, dlen, buf, 11 + UUID_DASHED + 2))
            return 0;
    }
    const unsigned char *id = sqlite3_column_blob(st, 4);
    if (id == NULL || sqlite3_column_bytes(st, 4) != UUID_HEX)
        return 0;
    const unsigned char *kind = sqlite3_column_blob(st, 5);
    if (kind == NULL)
        return 0;
    int kindlen = sqlite3_column_bytes(st, 5);
    if (kindlen > 64 || keylen > 128)
        return 0;
    /* ,"id":"<id>","kind":"<kind>","patient_id":"<key>","seq":<seq>} */
    int n = 0;
    memcpy(buf + n, ",\"id\":\"", 7);
    n += 7;
    dash_uuid(id, buf + n);
    n += UUID_DASHED;
    memcpy(buf + n, "\",\"kind\":\"", 10);
    n += 10;
    memcpy(buf + n, kind, (size_t)kindlen);
    n += kindlen;
    memcpy(buf + n, "\",\"patient_id\":\"", 16);
    n += 16;
    memcpy(buf + n, key, (size_t)keylen);
    n += keylen;
    memcpy(buf + n, "\",\"seq\":", 8);
    n += 8;
    int digits = put_seq(buf + n, seq);
    if (digits < 0)
        return 0;
    n += digits;
    buf[n++] = '}';
    return ends_with(doc, dlen, buf, n);
}

/* bindings.audit_binding for one row. */
static int audit_bound(const unsigned char *prev, int prev_len, const unsigned char *doc,
                       int dlen, long long seq)
{
    char buf[40];
    if (!payload_starts_with(prev, prev_len, doc, dlen, "{", 1))
        return 0;
    memcpy(buf, ",\"seq\":", 7);
    int digits = put_seq(buf + 7, seq);
    if (digits < 0)
        return 0;
    buf[7 + digits] = '}';
    return ends_with(doc, dlen, buf, 7 + digits + 1);
}

/* chain.walk_segment's checks over the statement's rows, until the first that fails.
 * Columns: seq, prev_hash, document, hash (then id, kind, amends for the passport). */
static void walk_rows(sqlite3_stmt *st, int ledger, const char *key, int keylen,
                      long long start, const char *prev_in, long long mark, Walk *w)
{
    char prev[PREV_MAX];
    int prev_len = HASH_HEX;
    int have_prev = prev_in != NULL;
    unsigned char digest[32];
    char hex[HASH_HEX];
    long long expected = start;
    int rc;

    if (have_prev)
        memcpy(prev, prev_in, HASH_HEX);
    w->ok = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Types first: sqlite3_column_type is undefined once a value has been converted.
         * Values of another type than the Python walk expects are left for it to judge. */
        int amends_null = ledger == PASSPORT && sqlite3_column_type(st, 6) == SQLITE_NULL;
        int typed = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                    sqlite3_column_type(st, 1) == SQLITE_TEXT &&
                    sqlite3_column_type(st, 2) == SQLITE_TEXT &&
                    sqlite3_column_type(st, 3) == SQLITE_TEXT &&
                    (ledger != PASSPORT || (sqlite3_column_type(st, 4) == SQLITE_TEXT &&
                                            sqlite3_column_type(st, 5) == SQLITE_TEXT &&
                                            (amends_null ||
                                             sqlite3_column_type(st, 6) == SQLITE_TEXT)));
        if (!typed) {
            w->ok = 0;
            break;
        }
        /* Text read as blobs: the bytes in place, where text would be copied to end them
         * with a NUL (a zero-length value reads as NULL, and is left to the Python walk). */
        long long seq = sqlite3_column_int64(st, 0);
        const unsigned char *prev_col = sqlite3_column_blob(st, 1);
        int prev_col_len = sqlite3_column_bytes(st, 1);
        const unsigned char *doc = sqlite3_column_blob(st, 2);
        int dlen = sqlite3_column_bytes(st, 2);
        const unsigned char *hash_col = sqlite3_column_blob(st, 3);
        int hash_len = sqlite3_column_bytes(st, 3);

        if (prev_col == NULL || doc == NULL || hash_col == NULL || prev_col_len > PREV_MAX ||
            hash_len != HASH_HEX) {
            w->ok = 0;
            break;
        }
        if (expected == start) {
            w->have_first = 1;
            w->first_seq = seq;
            memcpy(w->links_to, prev_col, (size_t)prev_col_len);
            w->links_len = prev_col_len;
            if (!have_prev) {
                memcpy(prev, prev_col, (size_t)prev_col_len);
                prev_len = prev_col_len;
                have_prev = 1;
            }
        }
        if (seq != expected || prev_col_len != prev_len ||
            memcmp(prev_col, prev, (size_t)prev_len) != 0) {
            w->ok = 0;
            break;
        }
        /* hash = SHA-256(previous hash || document), the stored bytes of both. */
        SHA256_CTX sha;
        SHA256_Init(&sha);
        SHA256_Update(&sha, prev_col, (size_t)prev_col_len);
        SHA256_Update(&sha, doc, (size_t)dlen);
        SHA256_Final(digest, &sha);
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = HEX_DIGITS[digest[i] >> 4];
            hex[2 * i + 1] = HEX_DIGITS[digest[i] & 15];
        }
        if (memcmp(hex, hash_col, HASH_HEX) != 0) {
            w->ok = 0;
            break;
        }
        int bound = ledger == PASSPORT
                        ? passport_bound(st, amends_null, prev_col, prev_col_len, doc, dlen, seq,
                                         key, keylen)
                        : audit_bound(prev_col, prev_col_len, doc, dlen, seq);
        if (!bound) {
            w->ok = 0;
            break;
        }
        memcpy(prev, hash_col, HASH_HEX);
        prev_len = HASH_HEX;
        if (seq == mark) {
            w->have_marked = 1;
            memcpy(w->marked, hash_col, HASH_HEX);
        }
        expected++;
    }
    if (w->ok && rc != SQLITE_DONE) {
        w->ok = 0;
        w->rc = rc;
    }
    w->count = expected - start;
    w->have_head = have_prev;
    if (have_prev) {
        memcpy(w->head, prev, (size_t)prev_len);
        w->head_len = prev_len;
    }
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

static PyObject *hash_or_none(int have, const char *hash, int len)
{
    if (!have)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(hash, len, "strict");
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
    PyObject *key_param;
    const char *key, *prev;
    Py_ssize_t keylen, prevlen;
    long long first, last, start, mark;
    int ledger, rc = SQLITE_OK;
    Walk w;

    if (!PyArg_ParseTuple(args, "OLLis#Lz#L", &key_param, &first, &last, &ledger, &key,
                          &keylen, &start, &prev, &prevlen, &mark))
        return NULL;
    if (self->st == NULL) {
        PyErr_SetString(PyExc_ValueError, "the reader is closed");
        return NULL;
    }
    if (prev != NULL && prevlen != HASH_HEX) {
        PyErr_SetString(PyExc_ValueError, "prev must be a 64-digit hash or None");
        return NULL;
    }
    if (ledger != PASSPORT && ledger != AUDIT) {
        PyErr_SetString(PyExc_ValueError, "unknown ledger");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "a reader walks one piece at a time");
        return NULL;
    }
    if (PyLong_Check(key_param)) {
        rc = sqlite3_bind_int64(self->st, 1, PyLong_AsLongLong(key_param));
    } else {
        Py_ssize_t n;
        const char *text = PyUnicode_AsUTF8AndSize(key_param, &n);
        if (text == NULL)
            return NULL;
        /* Copied: the statement outlives this call's hold on the string. */
        rc = sqlite3_bind_text(self->st, 1, text, (int)n, SQLITE_TRANSIENT);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(self->st, 2, first);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(self->st, 3, last);
    if (rc != SQLITE_OK)
        return PyErr_Format(PyExc_OSError, "cannot read the chain: %s",
                            sqlite3_errmsg(self->db));
    memset(&w, 0, sizeof(w));
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    walk_rows(self->st, ledger, key, (int)keylen, start, prev, mark, &w);
    if (w.rc != SQLITE_OK)
        snprintf(w.error, sizeof(w.error), "%s", sqlite3_errmsg(self->db));
    /* Ends the read: the connection holds no snapshot between pieces. */
    sqlite3_reset(self->st);
    sqlite3_clear_bindings(self->st);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (w.rc != SQLITE_OK)
        return PyErr_Format(PyExc_OSError, "cannot read the chain: %s", w.error);
    PyObject *first_seq = w.have_first ? PyLong_FromLongLong(w.first_seq) : Py_NewRef(Py_None);
    return Py_BuildValue("(NNNLNN)", PyBool_FromLong(w.ok), first_seq,
                         hash_or_none(w.have_first, w.links_to, w.links_len), w.count,
                         hash_or_none(w.have_head, w.head, w.head_len),
                         hash_or_none(w.have_marked, w.marked, HASH_HEX));
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

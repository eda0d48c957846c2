/* The compiled check of one piece of a chain stored in PostgreSQL (see _fastwalk.c for
 * SQLite): a PgReader holds a libpq connection and a prepared query, reads the rows in
 * PostgreSQL's binary format, and makes the walk's checks (_walkcheck.h) over each row as
 * it arrives, with no Python object per row and the interpreter lock released.
 *
 * Optional: built when the libpq and OpenSSL headers are there (pyproject.toml).
 */
#include "_walkcheck.h"
#include <stdint.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

/* A seq as PostgreSQL sends an integer in binary: four bytes, most significant first; -1
 * for anything else. */
static long long read_seq(const char *value, int len)
{
    const unsigned char *b = (const unsigned char *)value;
    if (len != 4)
        return -1;
    long long v = (long long)(int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                                       ((uint32_t)b[2] << 8) | (uint32_t)b[3]);
    return v < 0 ? -1 : v;
}

/* A column in binary: a text's bytes as stored, a UUID's 16 bytes. */
static void column(const PGresult *res, int col, const unsigned char **ptr, int *len)
{
    *ptr = (const unsigned char *)PQgetvalue(res, 0, col);
    *len = PQgetlength(res, 0, col);
}

/* The row of a single-row result into `r`; 0 where a column the walk needs is NULL or the
 * seq is not one. Columns, in binary: seq, prev_hash, document, hash (then id, kind,
 * amends for the passport). The binary format spares the server writing integers and UUIDs
 * as text (some 10% of its time per row, docs/passport.md). */
static int read_row(const PGresult *res, int passport, Row *r)
{
    if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) || PQgetisnull(res, 0, 2) ||
        PQgetisnull(res, 0, 3))
        return 0;
    r->seq = read_seq(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
    column(res, 1, &r->prev, &r->prev_len);
    column(res, 2, &r->doc, &r->dlen);
    column(res, 3, &r->hash, &r->hash_len);
    if (passport) {
        if (PQgetisnull(res, 0, 4) || PQgetisnull(res, 0, 5))
            return 0;
        column(res, 4, &r->id, &r->id_len);
        column(res, 5, &r->kind, &r->kind_len);
        column(res, 6, &r->amends, &r->amends_len);
        if (PQgetisnull(res, 0, 6))
            r->amends = NULL;
    }
    return r->seq >= 0;
}

/* Send the prepared query and check its rows as they arrive, one result per row (libpq's
 * single-row mode). Collecting the whole piece into one result first cost about twice the
 * CPU on the client (docs/passport.md): the result's memory was fresh pages each time, and
 * no row could be checked before the last one had arrived. After a row that does not check
 * out, the rest are read and dropped, leaving the connection ready for the next piece. */
static void walk_query(PGconn *conn, const char *const *values, Check *c, Walk *w)
{
    int passport = c->ledger == PASSPORT;
    int ended = 0;
    PGresult *res;
    Row r;
    memset(&r, 0, sizeof(r));
    /* Rows in the binary format (the last argument). */
    if (!PQsendQueryPrepared(conn, "walk", 3, values, NULL, NULL, 1) ||
        !PQsetSingleRowMode(conn)) {
        w->ok = 0;
        w->failed = 1;
        snprintf(w->error, sizeof(w->error), "%s", PQerrorMessage(conn));
        while ((res = PQgetResult(conn)) != NULL)
            PQclear(res);
        return;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        switch (PQresultStatus(res)) {
        case PGRES_SINGLE_TUPLE:
            /* Once a row has not checked out (w->ok is 0), the rest are only dropped. */
            if (w->ok && (PQnfields(res) != (passport ? 7 : 4) || !read_row(res, passport, &r)))
                w->ok = 0;
            if (w->ok)
                check_row(c, w, &r);
            break;
        case PGRES_TUPLES_OK: /* the end of the rows */
            ended = 1;
            break;
        default:
            if (!w->failed)
                snprintf(w->error, sizeof(w->error), "%s", PQerrorMessage(conn));
            w->ok = 0;
            w->failed = 1;
        }
        PQclear(res);
    }
    if (!ended && !w->failed) {
        w->ok = 0;
        w->failed = 1;
        snprintf(w->error, sizeof(w->error), "the rows ended early: %s", PQerrorMessage(conn));
    }
    check_end(c, w);
}

typedef struct {
    PyObject_HEAD
    PGconn *conn;
    int busy;
} PgReader;

static void pg_reader_close(PgReader *self)
{
    if (self->conn != NULL)
        PQfinish(self->conn);
    self->conn = NULL;
}

static void pg_reader_dealloc(PgReader *self)
{
    pg_reader_close(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int pg_reader_init(PgReader *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"conninfo", "sql", NULL};
    const char *conninfo, *sql;
    char error[256] = "";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss", kwlist, &conninfo, &sql))
        return -1;
    pg_reader_close(self);
    Py_BEGIN_ALLOW_THREADS
    self->conn = PQconnectdb(conninfo);
    if (self->conn == NULL || PQstatus(self->conn) != CONNECTION_OK ||
        PQsetClientEncoding(self->conn, "UTF8") != 0) {
        snprintf(error, sizeof(error), "%s",
                 self->conn != NULL ? PQerrorMessage(self->conn) : "out of memory");
    } else {
        PGresult *res = PQprepare(self->conn, "walk", sql, 3, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            snprintf(error, sizeof(error), "%s", PQerrorMessage(self->conn));
        PQclear(res);
    }
    Py_END_ALLOW_THREADS
    if (error[0] != '\0') {
        PyErr_Format(PyExc_OSError, "cannot connect to the chain's database: %s", error);
        pg_reader_close(self);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(pg_reader_walk_doc,
             "walk(key_param, first, last, ledger, key, start, prev, mark)\n"
             "--\n\n"
             "As _fastwalk.Reader.walk, over PostgreSQL: (ok, first_seq, links_to, count,\n"
             "head_hash, marked); when ok is False, walk the piece in Python.");

static PyObject *pg_reader_walk(PgReader *self, PyObject *args)
{
    WalkArgs a;
    Check c;
    Walk w;
    char first[24], last[24];

    if (parse_walk_args(args, &a) < 0)
        return NULL;
    if (self->conn == NULL || self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the reader is closed or walking another piece");
        return NULL;
    }
    PyObject *key_text = PyObject_Str(a.key_param);
    if (key_text == NULL)
        return NULL;
    const char *key_param = PyUnicode_AsUTF8(key_text);
    if (key_param == NULL) {
        Py_DECREF(key_text);
        return NULL;
    }
    snprintf(first, sizeof(first), "%lld", a.first);
    snprintf(last, sizeof(last), "%lld", a.last);
    const char *values[3] = {key_param, first, last};
    check_begin(&c, &w, a.ledger, UUID_AS_BYTES, a.key, (int)a.keylen, a.start, a.prev, a.mark);
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    walk_query(self->conn, values, &c, &w);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    Py_DECREF(key_text);
    return walk_result(&w);
}

static PyMethodDef pg_reader_methods[] = {
    {"walk", (PyCFunction)pg_reader_walk, METH_VARARGS, pg_reader_walk_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PgReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "teleconsult.passport._fastwalk_pg.PgReader",
    .tp_doc = PyDoc_STR("PgReader(conninfo, sql): a libpq connection with the query of a "
                        "chain's rows prepared."),
    .tp_basicsize = sizeof(PgReader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)pg_reader_init,
    .tp_dealloc = (destructor)pg_reader_dealloc,
    .tp_methods = pg_reader_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastwalk_pg",
    .m_doc = "Compiled chain checks over PostgreSQL.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__fastwalk_pg(void)
{
    if (PyType_Ready(&PgReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "PgReader", (PyObject *)&PgReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* The checks of chain.walk_segment and of the ledgers' column bindings (bindings.py), row
 * by row over plain bytes, shared by the compiled readers of SQLite (_fastwalk.c) and of
 * PostgreSQL (_fastwalk_pg.c). A row is given as pointers into the driver's own buffers.
 *
 * The checks only decide whether every row checked out; where one did not, the Python
 * walk, the one source of the reports' wording, walks the piece again and names it. So
 * whatever the Python walk would fail must fail here: never the other way round.
 */
#ifndef TELECONSULT_WALKCHECK_H
#define TELECONSULT_WALKCHECK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* OpenSSL's plain SHA-256 functions: deprecated in favour of EVP since 3.0, yet some 15%
 * faster here for entries of a few hundred bytes (EVP sets up a digest per call). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#define HASH_HEX 64
#define UUID_HEX 32
#define UUID_DASHED 36
/* A previous hash as stored may be of any length (a tampered one); longer ones than this
 * are left to the Python walk. */
#define PREV_MAX 256

enum ledger { PASSPORT = 0, AUDIT = 1 };

/* How a database hands over a UUID column: SQLite keeps 32 hex digits, PostgreSQL's binary
 * format sends the 16 bytes. */
enum uuid_form { UUID_AS_HEX = 0, UUID_AS_BYTES = 1 };

/* One row as the walk reads it. UUID columns are in the form `uuids` in the Check says. */
typedef struct {
    long long seq;
    const unsigned char *prev;
    int prev_len;
    const unsigned char *doc;
    int dlen;
    const unsigned char *hash;
    int hash_len;
    const unsigned char *id; /* passport only, from here on */
    int id_len;
    const unsigned char *kind;
    int kind_len;
    const unsigned char *amends; /* NULL: SQL NULL */
    int amends_len;
} Row;

/* What a walk found: chain.Segment's fields, or that a row did not check out. */
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
    int failed;            /* the rows could not be read: error says why */
    char error[256];
} Walk;

/* The walk in progress. */
typedef struct {
    int ledger;
    enum uuid_form uuids;
    const char *key;
    int keylen;
    long long start, expected, mark;
    char prev[PREV_MAX];
    int prev_len;
    int have_prev;
} Check;

static const char HEX_DIGITS[] = "0123456789abcdef";

static void check_begin(Check *c, Walk *w, int ledger, enum uuid_form uuids, const char *key,
                        int keylen, long long start, const char *prev, long long mark)
{
    memset(w, 0, sizeof(*w));
    memset(c, 0, sizeof(*c));
    c->ledger = ledger;
    c->uuids = uuids;
    c->key = key;
    c->keylen = keylen;
    c->start = c->expected = start;
    c->mark = mark;
    c->prev_len = HASH_HEX;
    c->have_prev = prev != NULL;
    if (prev != NULL)
        memcpy(c->prev, prev, HASH_HEX);
    w->ok = 1;
}

/* A UUID column as the document writes it: dashed; -1 where it is not a UUID's length. */
static int put_uuid(char *out, const unsigned char *value, int len, enum uuid_form form)
{
    if (form == UUID_AS_BYTES) {
        if (len != 16)
            return -1;
        for (int i = 0, n = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                out[n++] = '-';
            out[n++] = HEX_DIGITS[value[i] >> 4];
            out[n++] = HEX_DIGITS[value[i] & 15];
        }
        return UUID_DASHED;
    }
    if (len != UUID_HEX)
        return -1;
    memcpy(out, value, 8);
    out[8] = '-';
    memcpy(out + 9, value + 8, 4);
    out[13] = '-';
    memcpy(out + 14, value + 12, 4);
    out[18] = '-';
    memcpy(out + 19, value + 16, 4);
    out[23] = '-';
    memcpy(out + 24, value + 20, 12);
    return UUID_DASHED;
}

/* Whether the stored bytes the hash covers, previous hash then document, hold `prefix`
 * where a well-formed entry's document starts (after the 64 digits of the previous hash):
 * bindings.py looks there, whatever the lengths of the two columns. */
static int payload_starts_with(const Row *r, const char *prefix, int n)
{
    if (r->prev_len == HASH_HEX)
        return r->dlen >= n && memcmp(r->doc, prefix, (size_t)n) == 0;
    for (int i = 0; i < n; i++) {
        int at = HASH_HEX + i;
        int byte;
        if (at < r->prev_len)
            byte = r->prev[at];
        else if (at - r->prev_len < r->dlen)
            byte = r->doc[at - r->prev_len];
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

/* bindings.passport_binding for one row. */
static int passport_bound(const Check *c, const Row *r)
{
    char buf[512];
    int n;
    if (r->amends == NULL) {
        if (!payload_starts_with(r, "{\"amends\":null,", 15))
            return 0;
    } else {
        memcpy(buf, "{\"amends\":\"", 11);
        if (put_uuid(buf + 11, r->amends, r->amends_len, c->uuids) < 0)
            return 0;
        memcpy(buf + 11 + UUID_DASHED, "\",", 2);
        if (!payload_starts_with(r, buf, 11 + UUID_DASHED + 2))
            return 0;
    }
    if (r->id == NULL || r->kind == NULL || r->kind_len > 64 || c->keylen > 128)
        return 0;
    /* ,"id":"<id>","kind":"<kind>","patient_id":"<key>","seq":<seq>} */
    n = 0;
    memcpy(buf + n, ",\"id\":\"", 7);
    n += 7;
    if (put_uuid(buf + n, r->id, r->id_len, c->uuids) < 0)
        return 0;
    n += UUID_DASHED;
    memcpy(buf + n, "\",\"kind\":\"", 10);
    n += 10;
    memcpy(buf + n, r->kind, (size_t)r->kind_len);
    n += r->kind_len;
    memcpy(buf + n, "\",\"patient_id\":\"", 16);
    n += 16;
    memcpy(buf + n, c->key, (size_t)c->keylen);
    n += c->keylen;
    memcpy(buf + n, "\",\"seq\":", 8);
    n += 8;
    int digits = put_seq(buf + n, r->seq);
    if (digits < 0)
        return 0;
    n += digits;
    buf[n++] = '}';
    return ends_with(r->doc, r->dlen, buf, n);
}

/* bindings.audit_binding for one row. */
static int audit_bound(const Row *r)
{
    char buf[40];
    if (!payload_starts_with(r, "{", 1))
        return 0;
    memcpy(buf, ",\"seq\":", 7);
    int digits = put_seq(buf + 7, r->seq);
    if (digits < 0)
        return 0;
    buf[7 + digits] = '}';
    return ends_with(r->doc, r->dlen, buf, 7 + digits + 1);
}

/* chain.walk_segment's checks for the next row: 1 if it checked out, else 0 (and the walk
 * stops). Runs without the interpreter lock. */
static int check_row(Check *c, Walk *w, const Row *r)
{
    unsigned char digest[32];
    char hex[HASH_HEX];

    if (r->prev == NULL || r->doc == NULL || r->hash == NULL || r->prev_len > PREV_MAX ||
        r->hash_len != HASH_HEX)
        return w->ok = 0;
    if (c->expected == c->start) {
        w->have_first = 1;
        w->first_seq = r->seq;
        memcpy(w->links_to, r->prev, (size_t)r->prev_len);
        w->links_len = r->prev_len;
        if (!c->have_prev) {
            memcpy(c->prev, r->prev, (size_t)r->prev_len);
            c->prev_len = r->prev_len;
            c->have_prev = 1;
        }
    }
    if (r->seq != c->expected || r->prev_len != c->prev_len ||
        memcmp(r->prev, c->prev, (size_t)c->prev_len) != 0)
        return w->ok = 0;
    /* hash = SHA-256(previous hash || document), the stored bytes of both. */
    SHA256_CTX sha;
    SHA256_Init(&sha);
    SHA256_Update(&sha, r->prev, (size_t)r->prev_len);
    SHA256_Update(&sha, r->doc, (size_t)r->dlen);
    SHA256_Final(digest, &sha);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = HEX_DIGITS[digest[i] >> 4];
        hex[2 * i + 1] = HEX_DIGITS[digest[i] & 15];
    }
    if (memcmp(hex, r->hash, HASH_HEX) != 0)
        return w->ok = 0;
    if (!(c->ledger == PASSPORT ? passport_bound(c, r) : audit_bound(r)))
        return w->ok = 0;
    memcpy(c->prev, r->hash, HASH_HEX);
    c->prev_len = HASH_HEX;
    if (r->seq == c->mark) {
        w->have_marked = 1;
        memcpy(w->marked, r->hash, HASH_HEX);
    }
    c->expected++;
    return 1;
}

static void check_end(const Check *c, Walk *w)
{
    w->count = c->expected - c->start;
    w->have_head = c->have_prev;
    if (c->have_prev) {
        memcpy(w->head, c->prev, (size_t)c->prev_len);
        w->head_len = c->prev_len;
    }
}

static PyObject *text_or_none(int have, const char *text, int len)
{
    if (!have)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(text, len, "strict");
}

/* (ok, first_seq, links_to, count, head_hash, marked), or OSError if the rows could not be
 * read. */
static PyObject *walk_result(const Walk *w)
{
    if (w->failed)
        return PyErr_Format(PyExc_OSError, "cannot read the chain: %s", w->error);
    PyObject *first_seq = w->have_first ? PyLong_FromLongLong(w->first_seq) : Py_NewRef(Py_None);
    return Py_BuildValue("(NNNLNN)", PyBool_FromLong(w->ok), first_seq,
                         text_or_none(w->have_first, w->links_to, w->links_len), w->count,
                         text_or_none(w->have_head, w->head, w->head_len),
                         text_or_none(w->have_marked, w->marked, HASH_HEX));
}

/* The arguments of walk(): key_param, first, last, ledger, key, start, prev, mark. */
typedef struct {
    PyObject *key_param;
    long long first, last, start, mark;
    int ledger;
    const char *key, *prev;
    Py_ssize_t keylen, prevlen;
} WalkArgs;

static int parse_walk_args(PyObject *args, WalkArgs *a)
{
    if (!PyArg_ParseTuple(args, "OLLis#Lz#L", &a->key_param, &a->first, &a->last, &a->ledger,
                          &a->key, &a->keylen, &a->start, &a->prev, &a->prevlen, &a->mark))
        return -1;
    if (a->prev != NULL && a->prevlen != HASH_HEX) {
        PyErr_SetString(PyExc_ValueError, "prev must be a 64-digit hash or None");
        return -1;
    }
    if (a->ledger != PASSPORT && a->ledger != AUDIT) {
        PyErr_SetString(PyExc_ValueError, "unknown ledger");
        return -1;
    }
    return 0;
}

#endif

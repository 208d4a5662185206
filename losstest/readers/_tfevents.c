/* One pass over a whole TensorBoard event file: framing, both checksums, and the scalars.
 *
 * Built with the package (a plain CPython extension, no numpy headers); the TensorBoard reader
 * falls back to decoding event by event with protobuf where it was not built. Every event whose
 * layout the scan does not decode exactly (tensors other than rank-0 floats, repeated or
 * conflicting fields, unknown wire types) is handed back for the protobuf classes, so the scan
 * has to be right only about the layouts writers use for scalars.
 * tests/test_tensorboard_oracle.py compares it, end to end, with tensorboard's own loader.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* What ended the scan: the end of the data, damage (as tensorboard's own reader finds it), or a
 * table of tags too small for the file (the caller then scans again with a larger one). */
enum { END, TRUNCATED, HEADER_CHECKSUM, CHECKSUM, TOO_MANY_TAGS };
enum { SKIP, SCALARS, OTHER, FULL }; /* an event: no scalars / decoded here / for protobuf */

/* CRC-32C (Castagnoli) slicing by 8, for machines without a crc32 instruction. */
static uint32_t table[8][256];

static void make_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++)
            table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xFF];
}

static inline uint32_t u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t u64(const uint8_t *p) {
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

static uint32_t crc_by_table(const uint8_t *p, int64_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        c ^= u32(p);
        uint32_t high = u32(p + 4);
        c = table[7][c & 0xFF] ^ table[6][(c >> 8) & 0xFF] ^ table[5][(c >> 16) & 0xFF] ^
            table[4][c >> 24] ^ table[3][high & 0xFF] ^ table[2][(high >> 8) & 0xFF] ^
            table[1][(high >> 16) & 0xFF] ^ table[0][high >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
/* SSE 4.2's crc32 instruction computes CRC-32C, about five times faster than the table. */
__attribute__((target("sse4.2"))) static uint32_t crc_by_instruction(const uint8_t *p, int64_t n) {
    uint64_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
    }
    uint32_t c32 = (uint32_t)c;
    while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
    return c32 ^ 0xFFFFFFFFu;
}
static int has_instruction(void) { return __builtin_cpu_supports("sse4.2"); }
#else
static uint32_t crc_by_instruction(const uint8_t *p, int64_t n) { return crc_by_table(p, n); }
static int has_instruction(void) { return 0; }
#endif

static int use_instruction; /* set once, when the module loads */

static inline uint32_t masked(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xA282EAD8u; }

/* TFRecord's masked CRC-32C of p[0:n]. */
static inline uint32_t masked_crc(const uint8_t *p, int64_t n) {
    return masked(use_instruction ? crc_by_instruction(p, n) : crc_by_table(p, n));
}

/* The varint at *i, as protobuf reads it (low 64 bits); 0 if it runs past end or 10 bytes. */
static inline int varint(const uint8_t *buf, int64_t *i, int64_t end, uint64_t *value) {
    uint64_t v = 0;
    for (int k = 0; k < 10 && *i < end; k++) {
        uint8_t byte = buf[(*i)++];
        v |= (uint64_t)(byte & 0x7F) << (7 * k);
        if (byte < 0x80) {
            *value = v;
            return 1;
        }
    }
    return 0;
}

/* A length-delimited field's bounds at *i; 0 if they do not fit before end. */
static inline int bounds(const uint8_t *buf, int64_t *i, int64_t end, int64_t *at, int64_t *stop) {
    uint64_t length;
    if (!varint(buf, i, end, &length) || length > (uint64_t)(end - *i)) return 0;
    *at = *i;
    *stop = *i + (int64_t)length;
    *i = *stop;
    return 1;
}

/* Moves *i past a field's value of this wire type; 0 if it cannot. */
static inline int skip(const uint8_t *buf, int64_t *i, int64_t end, uint64_t wire) {
    uint64_t ignored;
    int64_t at, stop;
    switch (wire) {
    case 0: return varint(buf, i, end, &ignored);
    case 1: return end - *i >= 8 ? (*i += 8, 1) : 0;
    case 5: return end - *i >= 4 ? (*i += 4, 1) : 0;
    case 2: return bounds(buf, i, end, &at, &stop);
    default: return 0; /* groups and invalid wire types: for the protobuf classes */
    }
}

/* Kind of one Event message, with its wall time, step and summary bounds. */
static int event(const uint8_t *buf, int64_t i, int64_t end, double *wall, int64_t *step,
                 int64_t *summary_at, int64_t *summary_end) {
    int members = 0, summary = 0;
    uint64_t key, v;
    *wall = 0.0;
    *step = 0;
    while (i < end) {
        if (!varint(buf, &i, end, &key)) return OTHER;
        uint64_t field = key >> 3, wire = key & 7;
        if (field == 1 && wire == 1 && end - i >= 8) {
            uint64_t bits = u64(buf + i);
            memcpy(wall, &bits, 8);
            i += 8;
        } else if (field == 2 && wire == 0) {
            if (!varint(buf, &i, end, &v)) return OTHER;
            *step = (int64_t)v;
        } else if (field == 5 && wire == 2) {
            if (!bounds(buf, &i, end, summary_at, summary_end)) return OTHER;
            summary = 1;
            members++;
        } else if (field <= 2 || field > 0x1FFFFFFF) { /* protobuf decides, or refuses */
            return OTHER;
        } else {
            if (!skip(buf, &i, end, wire)) return OTHER;
            if (field <= 10) members++;
        }
    }
    if (members > 1) return OTHER; /* several members of the event's oneof: the last one wins */
    return summary ? SCALARS : SKIP;
}

static inline float f32(const uint8_t *p) {
    uint32_t bits = u32(p);
    float single;
    memcpy(&single, &bits, 4);
    return single;
}

static inline double f64(const uint8_t *p) {
    uint64_t bits = u64(p);
    double value;
    memcpy(&value, &bits, 8);
    return value;
}

enum { DT_FLOAT = 1, DT_DOUBLE = 2 };

/* The value of a rank-0 float or double TensorProto, as TF2 writes scalars (its one element in
 * float_val, double_val or tensor_content); 0 for any other tensor, which protobuf decides. */
static int scalar_tensor(const uint8_t *buf, int64_t i, int64_t end, double *value) {
    uint64_t key, dtype = 0;
    int64_t at, stop, content = 0, content_end = 0, floats = 0, doubles = 0;
    double last_float = 0.0, last_double = 0.0;
    while (i < end) {
        if (!varint(buf, &i, end, &key)) return 0;
        uint64_t field = key >> 3, wire = key & 7;
        if (field == 1 && wire == 0) {
            if (!varint(buf, &i, end, &dtype)) return 0;
        } else if (field == 2 && wire == 2) { /* the shape: rank 0 has no dimension */
            if (!bounds(buf, &i, end, &at, &stop) || stop != at) return 0;
        } else if (field == 4 && wire == 2) {
            if (!bounds(buf, &i, end, &content, &content_end)) return 0;
        } else if (field == 5 && wire == 5 && end - i >= 4) {
            last_float = f32(buf + i);
            floats++;
            i += 4;
        } else if (field == 6 && wire == 1 && end - i >= 8) {
            last_double = f64(buf + i);
            doubles++;
            i += 8;
        } else if ((field == 5 || field == 6) && wire == 2) { /* packed */
            int64_t width = field == 5 ? 4 : 8;
            if (!bounds(buf, &i, end, &at, &stop) || (stop - at) % width) return 0;
            for (; at < stop; at += width) {
                if (field == 5) last_float = f32(buf + at), floats++;
                else last_double = f64(buf + at), doubles++;
            }
        } else {
            return 0;
        }
    }
    if (content_end > content) { /* tensor_content, when there is any, is what counts */
        if (dtype == DT_FLOAT && content_end - content == 4) *value = f32(buf + content);
        else if (dtype == DT_DOUBLE && content_end - content == 8) *value = f64(buf + content);
        else return 0;
        return 1;
    }
    if (dtype == DT_FLOAT && floats == 1 && doubles == 0) *value = last_float;
    else if (dtype == DT_DOUBLE && doubles == 1 && floats == 0) *value = last_double;
    else return 0;
    return 1;
}

/* The plugin name of a SummaryMetadata (the last written, as protobuf merges them); 0 if the
 * message is not in the shape writers give it. */
static int plugin_name(const uint8_t *buf, int64_t i, int64_t end, int64_t *at, int64_t *stop) {
    uint64_t key;
    int64_t data, data_end, ignored, ignored_end;
    while (i < end) {
        if (!varint(buf, &i, end, &key)) return 0;
        uint64_t field = key >> 3, wire = key & 7;
        if (field == 1 && wire == 2) { /* plugin_data: plugin_name (1), content (2) */
            if (!bounds(buf, &i, end, &data, &data_end)) return 0;
            while (data < data_end) {
                if (!varint(buf, &data, data_end, &key)) return 0;
                if (key == 0x0A) {
                    if (!bounds(buf, &data, data_end, at, stop)) return 0;
                } else if (key != 0x12 || !bounds(buf, &data, data_end, &ignored, &ignored_end)) {
                    return 0;
                }
            }
        } else if ((field == 2 || field == 3) && wire == 2) { /* display name, description */
            if (!bounds(buf, &i, end, &ignored, &ignored_end)) return 0;
        } else if (field == 4 && wire == 0) { /* data class */
            if (!skip(buf, &i, end, wire)) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Kind of one Summary.Value: a scalar, something else, or a layout for protobuf. A value holds
 * a scalar as `simple_value`, or as a rank-0 tensor whose metadata names the `scalars` plugin
 * or no plugin (TF2 writes the metadata with a tag's first value only). */
static int value_of(const uint8_t *buf, int64_t i, int64_t end, int64_t *tag_at,
                    int64_t *tag_end, double *value) {
    int kind = SKIP, tensors = 0;
    uint64_t key;
    int64_t at, stop, tensor = 0, tensor_end = 0, name = 0, name_end = 0;
    *tag_at = *tag_end = 0;
    while (i < end) {
        if (!varint(buf, &i, end, &key)) return OTHER;
        uint64_t field = key >> 3, wire = key & 7;
        if (field == 1 && wire == 2) {
            if (!bounds(buf, &i, end, tag_at, tag_end)) return OTHER;
        } else if (field == 2 && wire == 5 && end - i >= 4) {
            *value = (double)f32(buf + i);
            kind = SCALARS;
            i += 4;
        } else if (field >= 3 && field <= 6 && wire == 2) {
            if (!bounds(buf, &i, end, &at, &stop)) return OTHER;
            kind = SKIP; /* an image, histogram or audio: the oneof's last member wins */
        } else if (field == 8 && wire == 2) {
            if (!bounds(buf, &i, end, &tensor, &tensor_end)) return OTHER;
            kind = OTHER; /* a tensor: decided below */
            tensors++;
        } else if (field == 9 && wire == 2) {
            if (!bounds(buf, &i, end, &at, &stop) || !plugin_name(buf, at, stop, &name, &name_end))
                return OTHER;
        } else if (field == 7 && wire == 2) {
            if (!bounds(buf, &i, end, &at, &stop)) return OTHER; /* node name */
        } else {
            return OTHER; /* a field out of its place */
        }
    }
    if (kind != OTHER) return kind;
    if (tensors > 1) return OTHER; /* protobuf would merge the tensors */
    int64_t length = name_end - name;
    if (!(length == 0 || (length == 7 && memcmp(buf + name, "scalars", 7) == 0)))
        return SKIP; /* a tensor of another plugin: text, images, histograms, hparams... */
    return scalar_tensor(buf, tensor, tensor_end, value) ? SCALARS : OTHER;
}

static inline uint64_t fnv1a(const uint8_t *p, int64_t n) {
    uint64_t h = 14695981039346656037ull;
    while (n-- > 0) h = (h ^ *p++) * 1099511628211ull;
    return h;
}

typedef struct {
    int64_t *steps, *ids, *tags, *slots, *others;
    double *walls, *values;
    int64_t bound, ntags_max, nslots, nothers_max;
} Out;

/* Whether bytes are valid UTF-8 (no overlong form, surrogate or code point past U+10FFFF): a
 * protobuf `string` field that is not is an event protobuf refuses to parse. */
static int utf8_valid(const uint8_t *p, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) { i++; continue; }
        int more;
        uint32_t lowest;
        if (c >= 0xC2 && c <= 0xDF) { more = 1; lowest = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { more = 2; lowest = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { more = 3; lowest = 0x10000; }
        else return 0;
        if (n - i <= more) return 0;
        uint32_t code = c & (0x3F >> more);
        for (int k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return 0;
            code = (code << 6) | (p[i + k] & 0x3F);
        }
        if (code < lowest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
        i += more + 1;
    }
    return 1;
}

#define NOT_UTF8 (-2)

/* The id of a tag (numbered in order of first appearance); -1 when the table is full,
 * NOT_UTF8 for a new tag that is not valid UTF-8. */
static int64_t tag_id(const uint8_t *buf, int64_t at, int64_t end, Out *out, int64_t *ntags) {
    int64_t length = end - at, mask = out->nslots - 1;
    int64_t slot = (int64_t)(fnv1a(buf + at, length) & (uint64_t)mask);
    while (out->slots[slot] >= 0) {
        int64_t known = out->slots[slot];
        if (out->tags[2 * known + 1] == length &&
            memcmp(buf + out->tags[2 * known], buf + at, (size_t)length) == 0)
            return known;
        slot = (slot + 1) & mask;
    }
    if (!utf8_valid(buf + at, length)) return NOT_UTF8;
    if (2 * (*ntags + 1) > out->nslots) return -1;
    out->slots[slot] = *ntags;
    out->tags[2 * *ntags] = at;
    out->tags[2 * *ntags + 1] = length;
    return (*ntags)++;
}

#define RECENT 64 /* the tag last seen at each of the first places of an event */

static void scan(const uint8_t *buf, int64_t n, Out *out, int64_t *count_out, int64_t *ntags_out,
                 int64_t *nothers_out, int64_t *ended_out, int64_t *pos_out) {
    int64_t count = 0, ntags = 0, nothers = 0, pos = 0, ended = END;
    int64_t recent[RECENT];
    for (int k = 0; k < RECENT; k++) recent[k] = -1;
    while (pos < n) {
        if (n - pos < 12) { ended = TRUNCATED; break; }
        uint64_t length = u64(buf + pos);
        if (masked_crc(buf + pos, 8) != u32(buf + pos + 8)) { ended = HEADER_CHECKSUM; break; }
        int64_t start = pos + 12;
        if (n - start < 4 || length > (uint64_t)(n - start - 4)) { ended = TRUNCATED; break; }
        int64_t end = start + (int64_t)length;
        if (masked_crc(buf + start, (int64_t)length) != u32(buf + end)) { ended = CHECKSUM; break; }
        double wall;
        int64_t step, at = 0, summary_end = 0, mark = count, place = 0;
        int kind = event(buf, start, end, &wall, &step, &at, &summary_end);
        while (kind == SCALARS && at < summary_end) {
            uint64_t key;
            int64_t value_at, value_end, tag_at, tag_end;
            double value = 0.0;
            if (!varint(buf, &at, summary_end, &key) || key != 0x0A ||
                !bounds(buf, &at, summary_end, &value_at, &value_end)) {
                kind = OTHER; /* anything but a Value in the summary */
                break;
            }
            int what = value_of(buf, value_at, value_end, &tag_at, &tag_end, &value);
            if (what == OTHER) {
                kind = OTHER;
            } else if (what == SCALARS) {
                int64_t tag = place < RECENT ? recent[place] : -1, length = tag_end - tag_at;
                if (tag < 0 || out->tags[2 * tag + 1] != length ||
                    memcmp(buf + out->tags[2 * tag], buf + tag_at, (size_t)length) != 0) {
                    tag = tag_id(buf, tag_at, tag_end, out, &ntags);
                    if (tag == NOT_UTF8) { kind = OTHER; break; } /* protobuf says what it is */
                    if (tag < 0) { kind = FULL; break; }
                    if (place < RECENT) recent[place] = tag;
                }
                out->ids[count] = tag;
                out->steps[count] = step;
                out->walls[count] = wall;
                out->values[count] = value;
                count++;
                place++;
            }
        }
        if (kind == FULL) { ended = TOO_MANY_TAGS; break; }
        if (kind == OTHER) {
            count = mark;
            out->others[3 * nothers] = start;
            out->others[3 * nothers + 1] = end;
            out->others[3 * nothers + 2] = count;
            nothers++;
        }
        pos = end + 4;
    }
    *count_out = count;
    *ntags_out = ntags;
    *nothers_out = nothers;
    *ended_out = ended;
    *pos_out = pos;
}

static int writable(Py_buffer *view, int64_t items, const char *what) {
    if (view->len < items * 8) {
        PyErr_Format(PyExc_ValueError, "%s holds fewer than %lld items", what, (long long)items);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(scan_doc,
"scan(data, steps, walls, values, ids, tags, slots, others)\n"
"-> (scalars, tags, other events, how it ended, offset of the record where it ended)\n\n"
"Fills the int64/float64 arrays given: steps, walls, values and tag ids of every simple_value\n"
"scalar in write order (room for len(data) // 7 + 1), tags as (offset, length) rows (room for\n"
"len(slots) // 2 + 1), slots an empty hash table (all -1, a power of two long), others as\n"
"(start, end, scalars before it) rows of events for protobuf (room for len(data) // 16 + 1).");

static PyObject *py_scan(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data, steps, walls, values, ids, tags, slots, others;
    if (!PyArg_ParseTuple(args, "y*w*w*w*w*w*w*w*", &data, &steps, &walls, &values, &ids, &tags,
                          &slots, &others))
        return NULL;
    int64_t n = (int64_t)data.len, bound = n / 7 + 1, nslots = (int64_t)(slots.len / 8);
    PyObject *result = NULL;
    if (nslots < 2 || (nslots & (nslots - 1))) {
        PyErr_SetString(PyExc_ValueError, "slots must be a power of two long");
    } else if (writable(&steps, bound, "steps") && writable(&walls, bound, "walls") &&
               writable(&values, bound, "values") && writable(&ids, bound, "ids") &&
               writable(&tags, 2 * (nslots / 2 + 1), "tags") &&
               writable(&others, 3 * (n / 16 + 1), "others")) {
        Out out = {steps.buf, ids.buf, tags.buf, slots.buf, others.buf, walls.buf, values.buf,
                   bound, nslots / 2 + 1, nslots, n / 16 + 1};
        int64_t count, ntags, nothers, ended, pos;
        Py_BEGIN_ALLOW_THREADS
        scan(data.buf, n, &out, &count, &ntags, &nothers, &ended, &pos);
        Py_END_ALLOW_THREADS
        result = Py_BuildValue("LLLLL", (long long)count, (long long)ntags, (long long)nothers,
                               (long long)ended, (long long)pos);
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&steps);
    PyBuffer_Release(&walls);
    PyBuffer_Release(&values);
    PyBuffer_Release(&ids);
    PyBuffer_Release(&tags);
    PyBuffer_Release(&slots);
    PyBuffer_Release(&others);
    return result;
}

PyDoc_STRVAR(crc_doc,
"masked_crc(data, by_table) -> TFRecord's masked CRC-32C, as the scan checks it\n"
"(by the crc32 instruction where there is one, unless by_table).");

static PyObject *py_masked_crc(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    int by_table;
    if (!PyArg_ParseTuple(args, "y*p", &data, &by_table)) return NULL;
    uint32_t c = by_table || !use_instruction ? crc_by_table(data.buf, (int64_t)data.len)
                                              : crc_by_instruction(data.buf, (int64_t)data.len);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLong(masked(c));
}

static PyMethodDef methods[] = {
    {"scan", py_scan, METH_VARARGS, scan_doc},
    {"masked_crc", py_masked_crc, METH_VARARGS, crc_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_tfevents",
    .m_doc = "The compiled scan of TensorBoard event files.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__tfevents(void) {
    make_table();
    use_instruction = has_instruction();
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddIntConstant(m, "END", END) ||
              PyModule_AddIntConstant(m, "TRUNCATED", TRUNCATED) ||
              PyModule_AddIntConstant(m, "HEADER_CHECKSUM", HEADER_CHECKSUM) ||
              PyModule_AddIntConstant(m, "CHECKSUM", CHECKSUM) ||
              PyModule_AddIntConstant(m, "TOO_MANY_TAGS", TOO_MANY_TAGS))) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
